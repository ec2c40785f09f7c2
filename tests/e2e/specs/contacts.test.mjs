// Audience end to end: groups created in the Groups screen, a CSV imported into Bulk Contacts
// with two groups chosen beforehand (progress bar, report, refused rows downloaded), the list
// filtered by one of the groups, and every one of 911 matches (not only the 200 loaded rows)
// selected and assigned to a group.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

async function addGroup(app, name) {
  await app.click('group-add');
  await app.type('group-name', name);
  await app.click('group-save');
  await app.browser.$(`[data-testid="group-row"][data-name="${name}"]`).waitForExist({ timeout: 10000 });
}

test('groups, CSV import with groups, refused rows, filter by group', async (t) => {
  const app = await launch(t);
  t.after(() => app.quit());
  await app.step('sign in as the owner', () => ownerSignedIn(app));

  await app.step('create two groups', async () => {
    await openScreen(app, 'groups');
    await addGroup(app, 'Fair 2026');
    await addGroup(app, 'Newsletter');
    await addGroup(app, 'Globex buyers');
  });

  const csv = join(app.dataDir, 'fair.csv');
  const lines = ['name,phonenumber,company_name,address,city,state,country,description'];
  for (let i = 0; i < 3000; i++) lines.push(`Visitor ${i},+1 201 730 ${String(10000 + i).slice(1)},${i < 911 ? 'Globex' : `Acme ${i % 7}`},,Newark,NJ,US,met at the fair`);
  lines.push('No number,,,,,,,');
  lines.push('Bad number,call me maybe,,,,,,');
  lines.push('Too,few');
  writeFileSync(csv, lines.join('\n') + '\n');

  await app.step('import the CSV with both groups chosen beforehand', async () => {
    await openScreen(app, 'bulk_contacts');
    await app.click('import-open');
    await app.waitFor('import-dialog');
    for (const name of ['Fair 2026', 'Newsletter']) {
      const box = app.browser.$(`[data-testid^="import-group-"][data-name="${name}"]`);
      await box.waitForExist({ timeout: 5000 });
      await box.click();
    }
    await (await app.waitFor('import-file')).setValue(csv);
    await app.click('import-start');
    // The progress bar moves, then the report appears.
    await app.waitFor('import-progress', 10000);
    await app.waitFor('import-report', 60000);
  });

  await app.step('read the report', async () => {
    assert.equal((await app.text('report-imported')).replace(/\D/g, ''), '3000');
    assert.equal((await app.text('report-refused')).replace(/\D/g, ''), '3');
    const refused = await app.texts('report-refused-row');
    assert.ok(refused.some((r) => r.includes('3002') && /missing phone number/.test(r)), refused.join('\n'));
    assert.ok(refused.some((r) => r.includes('3003') && /invalid phone number/.test(r)), refused.join('\n'));
    assert.ok(refused.some((r) => r.includes('3004') && /wrong column count/.test(r)), refused.join('\n'));
  });

  await app.step('download the refused rows', async () => {
    await app.click('import-download-refused');
    const saved = (await app.text('import-saved-path')).trim();
    const path = saved.slice(saved.indexOf('/'));
    assert.ok(existsSync(path), `no file at ${path}`);
    const rows = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(rows.length, 4, rows.join('\n'));
    assert.match(rows[0], /line,reason$/);
  });

  await app.step('filter the list by one of the groups', async () => {
    await app.browser.keys('Escape');
    const filter = await app.waitFor('contacts-filter-group');
    await filter.selectByVisibleText((await filter.$$('option').map((o) => o.getText())).find((x) => x.includes('Newsletter')));
    const count = await app.waitFor('contacts-count');
    await app.browser.waitUntil(async () => (await count.getAttribute('data-total')) === '3000', {
      timeout: 10000,
      timeoutMsg: 'the Newsletter filter never showed the 3,000 imported contacts',
    });
    await app.waitFor('contact-row');
    const phones = await app.els('contact-row').map((r) => r.getAttribute('data-phone'));
    assert.ok(phones.every((p) => p.startsWith('+1201')), phones.join(', '));
  });

  await app.step('select all 911 matches of a search and assign them to a group', async () => {
    const filter = await app.waitFor('contacts-filter-group');
    await filter.selectByIndex(0);
    await app.type('contacts-search', 'Globex');
    const count = await app.waitFor('contacts-count');
    await app.browser.waitUntil(async () => (await count.getAttribute('data-total')) === '911', {
      timeout: 10000,
      timeoutMsg: 'the search for Globex did not find the 911 contacts',
    });
    const header = await app.waitFor('contacts-select-all');
    assert.match(await header.getAttribute('aria-label'), /Select all 911 matching contacts/);
    await app.click('contacts-select-all');
    await app.browser.waitUntil(
      async () => (await app.el('contacts-selected-count').getAttribute('data-count')) === '911',
      { timeout: 10000, timeoutMsg: 'select all did not select the 911 matches (only the loaded rows?)' },
    );
    assert.match(await app.text('contacts-selected-count'), /911 selected \(every match\)/);
    await app.click('bulk-assign');
    await app.waitFor('bulk-assign-dialog');
    await app.browser.$('[data-testid^="bulk-group-"][data-name="Globex buyers"]').click();
    await app.click('bulk-assign-save');
    const confirm = await app.waitFor('confirm-dialog');
    assert.match(await confirm.getText(), /911 contacts/);
    await app.click('confirm-ok');
    await app.el('confirm-dialog').waitForExist({ reverse: true, timeout: 10000 });
  });

  await app.step('the group holds all 911', async () => {
    await app.type('contacts-search', ' ');
    const filter = await app.waitFor('contacts-filter-group');
    await filter.selectByVisibleText((await filter.$$('option').map((o) => o.getText())).find((x) => x.includes('Globex buyers')));
    const count = await app.waitFor('contacts-count');
    await app.browser.waitUntil(async () => (await count.getAttribute('data-total')) === '911', {
      timeout: 10000,
      timeoutMsg: `the group does not hold the 911 contacts: ${await count.getAttribute('data-total')}`,
    });
  });

  await app.step('an ordinary Phone,Name,Email export is imported by its header', async () => {
    const file = join(app.dataDir, 'export.csv');
    writeFileSync(file, 'Phone,Name,Email\n+1 201 730 5001,Export One,one@example.com\n(201) 730-5002,Export Two,two@example.com\n,No Phone,none@example.com\n');
    await app.click('import-open');
    await app.waitFor('import-dialog');
    await (await app.waitFor('import-file')).setValue(file);
    await app.waitFor('import-mapping');
    assert.equal(await app.el('import-map-0').getValue(), 'phonenumber');
    assert.equal(await app.el('import-map-1').getValue(), 'name');
    assert.equal(await app.el('import-map-2').getValue(), '', 'Email is left out: contacts have no email');
    await app.click('import-start');
    await app.waitFor('import-report', 30000);
    assert.equal((await app.text('report-imported')).replace(/\D/g, ''), '2');
    assert.deepEqual(await app.texts('report-reason'), ['1 missing phone number']);
    await app.click('import-close');
    await (await app.waitFor('contacts-filter-group')).selectByIndex(0);
    await app.type('contacts-search', 'Export');
    const count = await app.waitFor('contacts-count');
    await app.browser.waitUntil(async () => (await count.getAttribute('data-total')) === '2', {
      timeout: 10000,
      timeoutMsg: 'the two exported contacts are not in the list by name',
    });
  });

  await app.step('a number is shown formatted, and found however it is typed', async () => {
    await app.type('contacts-search', '(201) 730-5002');
    const count = await app.waitFor('contacts-count');
    await app.browser.waitUntil(async () => (await count.getAttribute('data-total')) === '1', {
      timeout: 10000,
      timeoutMsg: `searching "(201) 730-5002" did not find Export Two: ${await count.getAttribute('data-total')}`,
    });
    const cell = await app.browser.execute(() => document.querySelector('[data-testid="contact-row"] .phone')?.textContent.trim());
    assert.equal(cell, '+1 201 730 5002');
  });
});
