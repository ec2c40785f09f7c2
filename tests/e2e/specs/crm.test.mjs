// CRM end to end: the sandbox demo loaded from the empty Leads screen, a lead created by hand and
// a refused one, a CSV of leads imported (new, existing, refused with its line), the list filtered by status and by WhatsApp number, a lead status added, and a
// document's PDF opened in the "system viewer" (a stand-in xdg-open on PATH that records what it
// was asked to open, so the test can check it is the document's PDF).

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { freshDataDir, launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

async function totalOf(app, id, expected) {
  const el = await app.waitFor(id);
  await app.browser.waitUntil(async () => (await el.getAttribute('data-total')) === String(expected), {
    timeout: 10000,
    timeoutMsg: `${id} never showed ${expected} (last: ${await el.getAttribute('data-total')})`,
  });
}

test('leads: demo, create, refuse, filter, statuses; documents: open the PDF', async (t) => {
  const dataDir = freshDataDir();
  const bin = join(dataDir, 'bin');
  mkdirSync(bin, { recursive: true });
  const opened = join(dataDir, 'opened.txt');
  for (const name of ['xdg-open', 'gio']) {
    const script = join(bin, name);
    writeFileSync(script, `#!/bin/sh\nfor a in "$@"; do case "$a" in open) ;; *) echo "$a" >> "${opened}";; esac; done\n`);
    chmodSync(script, 0o755);
  }
  const app = await launch(t, { dataDir, env: { PATH: `${bin}:${process.env.PATH}` } });
  t.after(() => app.quit());
  await app.step('sign in as the owner', () => ownerSignedIn(app));

  await app.step('the CRM section holds Leads, Clients and Documents', async () => {
    await app.waitFor('nav-section-crm');
    for (const s of ['leads', 'clients', 'documents']) await app.waitFor(`nav-${s}`);
  });

  await app.step('load the sandbox demo from the empty Leads screen', async () => {
    await openScreen(app, 'leads');
    await app.waitFor('leads-empty');
    await app.click('leads-load-demo');
    await totalOf(app, 'leads-total', 4);
  });

  await app.step('a lead without phone or email is refused, with the reason', async () => {
    await app.click('lead-new');
    await app.type('lead-name', 'Nobody reachable');
    await app.click('lead-save');
    await app.waitForText('lead-form-error', 'phone number or an email');
    await app.type('lead-phone', 'call me');
    await app.click('lead-save');
    await app.waitForText('lead-form-error', 'is not a phone number');
  });

  await app.step('create a lead with a valid number', async () => {
    await app.type('lead-name', 'E2E Lead');
    await app.type('lead-phone', '+1 201 555 0199');
    const status = await app.waitFor('lead-status');
    await status.selectByVisibleText('Won');
    await app.click('lead-save');
    await app.browser.$('[data-testid="lead-row"][data-name="E2E Lead"]').waitForExist({ timeout: 10000 });
    await totalOf(app, 'leads-total', 5);
  });

  await app.step('import leads from a CSV: one new, one already there, one refused with its line', async () => {
    const csv = join(dataDir, 'leads.csv');
    writeFileSync(
      csv,
      'name,email,phone,status\r\nFay Import,fay@example.com,,New\r\nAgain,,+1 201 555 0199,\r\nBad Status,bad@example.com,,Hot\r\n',
    );
    await app.click('leads-import');
    await app.waitFor('import-dialog');
    await (await app.waitFor('import-file')).setValue(csv);
    await app.click('import-start');
    await app.waitFor('import-report', 30000);
    assert.equal((await app.text('report-imported')).replace(/\D/g, ''), '1');
    assert.equal((await app.text('report-existing')).replace(/\D/g, ''), '1');
    assert.equal((await app.text('report-refused')).replace(/\D/g, ''), '1');
    const refused = await app.texts('report-refused-row');
    assert.ok(refused.some((r) => r.startsWith('4') && r.includes('unknown lead status “Hot”')), refused.join('\n'));
    await app.click('import-close');
    await totalOf(app, 'leads-total', 6);
  });

  await app.step('filter by status and by WhatsApp number', async () => {
    await (await app.waitFor('leads-filter-status')).selectByVisibleText('Won');
    await totalOf(app, 'leads-total', 1);
    await (await app.waitFor('leads-filter-status')).selectByVisibleText('Any status');
    await (await app.waitFor('leads-filter-whatsapp')).selectByVisibleText('No WhatsApp number');
    await totalOf(app, 'leads-total', 2); // the leads with only an email
    const names = await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="lead-row"]')).map((e) => e.getAttribute('data-name')),
    );
    assert.deepEqual(names.sort(), ['Cleo Park (sandbox)', 'Fay Import']);
    await (await app.waitFor('leads-filter-whatsapp')).selectByVisibleText('Any');
    await totalOf(app, 'leads-total', 6);
  });

  await app.step('add a lead status; a used one cannot be deleted', async () => {
    await app.click('leads-statuses');
    await app.type('status-new-name', 'Nurturing');
    await app.click('status-add');
    await app.browser.$('[data-testid="status-row"][data-name="Nurturing"]').waitForExist({ timeout: 10000 });
    const won = app.browser.$('[data-testid="status-row"][data-name="Won"] [data-testid="status-delete"]');
    await won.click();
    await app.waitForText('statuses-error', 'is used by 1 lead(s)');
    await app.browser.keys('Escape');
  });

  await app.step('open the PDF of the demo invoice', async () => {
    await openScreen(app, 'documents');
    await totalOf(app, 'documents-total', 2);
    const row = app.browser.$('[data-testid="document-row"][data-number="INV-0001"]');
    await row.waitForExist({ timeout: 10000 });
    await row.$('[data-testid="document-open-pdf"]').click();
    await app.browser.waitUntil(() => existsSync(opened), { timeout: 10000, timeoutMsg: 'the viewer was never started' });
    const path = readFileSync(opened, 'utf8').trim().split('\n').pop();
    assert.match(path, /\.pdf$/);
    const pdf = readFileSync(path, 'latin1');
    assert.ok(pdf.startsWith('%PDF-'), 'a PDF');
    assert.ok(pdf.includes('(No. INV-0001)'), 'the PDF holds the invoice number');
  });
});
