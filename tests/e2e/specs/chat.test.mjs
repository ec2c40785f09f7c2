// Chat end to end against the embedded sandbox: a simulated customer writes; a notification is
// raised (seen on the session bus); the conversation appears with an unread count; the rep answers
// with a quick reply and the ticks go sent → delivered → read; after the sandbox clock passes the
// 24-hour window, free text is no longer offered and a template goes out; and "Send on WhatsApp"
// from an invoice delivers the invoice template with its PDF.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { freePort, launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

async function sandbox(base, path, body) {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${path}: HTTP ${r.status} ${text}`);
  return JSON.parse(text);
}

/** The titles of the display's windows (the app's native title, not the page's). */
function windowTitles() {
  const tree = execFileSync('xwininfo', ['-root', '-tree'], { encoding: 'utf8' });
  return [...tree.matchAll(/^\s*0x[0-9a-f]+ "([^"]*)"/gm)].map((m) => m[1]);
}

/** The outbound bubbles' statuses, oldest first. */
async function outboundStatuses(app) {
  return app.browser.execute(() =>
    Array.from(document.querySelectorAll('[data-testid="message"][data-direction="out"]')).map((e) =>
      e.getAttribute('data-status'),
    ),
  );
}

test('chat: notification, unread, quick reply, ticks, window, template, Send on WhatsApp', async (t) => {
  const sandboxPort = await freePort();
  const base = `http://127.0.0.1:${sandboxPort}`;
  const app = await launch(t, {
    env: { CRMCONNECT_SANDBOX_LISTEN: `127.0.0.1:${sandboxPort}`, CRMCONNECT_SANDBOX_REVIEW_SECONDS: '2' },
  });
  // Every Notify call on the session bus, whether or not a notification daemon runs.
  const monitorLog = join(app.dataDir, 'notify.log');
  writeFileSync(monitorLog, '');
  const monitor = spawn('dbus-monitor', ['--session', "interface='org.freedesktop.Notifications',member='Notify'"], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const seen = [];
  monitor.stdout.on('data', (d) => {
    seen.push(String(d));
    writeFileSync(monitorLog, seen.join(''));
  });
  t.after(() => {
    monitor.kill();
    return app.quit();
  });
  await app.step('sign in as the owner', () => ownerSignedIn(app));

  await app.step('load the sandbox CRM demo (leads, clients, an invoice)', async () => {
    await openScreen(app, 'leads');
    await app.click('leads-load-demo');
    await app.browser.$('[data-testid="lead-row"]').waitForExist({ timeout: 10000 });
  });

  await app.step('Quick Replies: add /valid', async () => {
    await openScreen(app, 'quick_replies');
    await app.waitFor('quick-replies-empty');
    await app.click('quick-reply-add');
    await app.type('quick-reply-name', 'valid');
    await app.type('quick-reply-message', 'Yes, the offer is valid until the end of the month.');
    await app.click('quick-reply-save');
    await app.browser.$('[data-testid="quick-reply-row"][data-name="valid"]').waitForExist({ timeout: 10000 });
  });

  await app.step('a customer writes while the rep is on another screen: the Chat entry and the title count it', async () => {
    assert.equal(await app.browser.$('[data-testid="nav-badge-chat"]').isExisting(), false, 'no badge before');
    await sandbox(base, '/sandbox/customers/ana/messages', {
      type: 'text',
      body: 'Hello! Is the roof repair offer still valid?',
    });
    await app.browser.waitUntil(async () => (await app.texts('nav-badge-chat')).join('') === '1', {
      timeout: 20000,
      timeoutMsg: 'no unread badge of 1 on the Chat entry while Quick Replies is open',
    });
    await app.browser.waitUntil(() => windowTitles().includes('(1) CRMConnect WhatsApp'), {
      timeout: 5000,
      timeoutMsg: `the window title does not count it: ${JSON.stringify(windowTitles().filter((n) => n.includes('CRMConnect')))}`,
    });
  });

  await app.step('a customer writes: a notification, and the conversation with an unread count', async () => {
    await openScreen(app, 'chat');
    const row = app.browser.$('[data-testid="conversation-row"]');
    await row.waitForExist({ timeout: 20000, timeoutMsg: 'the conversation never appeared' });
    await app.browser.waitUntil(
      async () => (await app.texts('unread-count')).join('') === '1',
      { timeout: 10000, timeoutMsg: 'no unread count of 1' },
    );
    await app.browser.waitUntil(
      () => {
        const log = readFileSync(monitorLog, 'utf8');
        return log.includes('Ana Ruiz (sandbox)') && log.includes('roof repair offer');
      },
      { timeout: 10000, timeoutMsg: `no Notify call with the sender and the preview on the session bus:\n${seen.join('')}` },
    );
  });

  await app.step('the rep opens it and answers with the quick reply; ticks go to read', async () => {
    await app.browser.$('[data-testid="conversation-row"]').click();
    await app.waitFor('chat-header');
    await app.browser.waitUntil(async () => (await app.texts('unread-count')).length === 0, {
      timeout: 10000,
      timeoutMsg: 'opening the conversation did not clear its unread count',
    });
    await app.browser.waitUntil(
      async () => !(await app.browser.$('[data-testid="nav-badge-chat"]').isExisting()) &&
        windowTitles().includes('CRMConnect WhatsApp'),
      { timeout: 5000, timeoutMsg: 'reading it did not clear the badge and the title' },
    );
    // Keyboard only: the composer has the focus after opening; "/" opens the quick replies.
    const input = await app.waitFor('composer-input');
    await app.browser.execute(() => document.querySelector('[data-testid="composer-input"]').focus());
    await app.browser.keys(['/', 'v', 'a', 'l']);
    await app.waitFor('quick-reply-picker');
    await app.browser.keys('Enter');
    await app.browser.waitUntil(async () => (await input.getValue()).includes('valid until the end of the month'), {
      timeout: 5000,
      timeoutMsg: 'the quick reply was not inserted',
    });
    await app.browser.keys('Enter');
    let last = [];
    await app.browser.waitUntil(
      async () => {
        last = await outboundStatuses(app);
        return last.length === 1 && last[0] === 'read';
      },
      { timeout: 20000, timeoutMsg: `the reply never reached read (statuses: ${JSON.stringify(last)})` },
    );
    const texts = await app.texts('message');
    assert.ok(texts.some((x) => x.includes('valid until the end of the month')), texts.join('\n'));
  });

  await app.step('a voice note plays: its file loads under the CSP (media-src blob:), no violation', async () => {
    await app.browser.execute(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`),
      );
    });
    await sandbox(base, '/sandbox/customers/ana/messages', { type: 'audio', voice: true });
    const load = app.browser.$('[data-testid="media-load"]');
    await load.waitForExist({ timeout: 20000, timeoutMsg: 'the voice note never appeared' });
    await load.click();
    await app.waitFor('media-audio', 20000);
    let state = {};
    await app.browser.waitUntil(
      async () => {
        state = await app.browser.execute(() => {
          const a = document.querySelector('[data-testid="media-audio"]');
          return { src: a.src, ready: a.readyState, duration: a.duration, error: a.error && a.error.code };
        });
        return state.ready >= 1 || state.error;
      },
      { timeout: 20000, timeoutMsg: 'the voice note never loaded its metadata' },
    );
    const violations = await app.browser.execute(() => window.__cspViolations);
    assert.deepEqual(violations, [], 'CSP violations while loading the voice note');
    assert.match(state.src, /^blob:/);
    assert.equal(state.error, null, `the audio element failed: ${JSON.stringify(state)}`);
    // Its metadata decoded: a length (WebKit estimates an Ogg file's from its first pages).
    assert.ok(state.duration > 0, `the voice note has no length: ${JSON.stringify(state)}`);
  });

  await app.step('after 25 hours (sandbox clock) only templates are offered; one goes out', async () => {
    await sandbox(base, '/sandbox/clock/advance', { hours: 25 });
    // Reopen the conversation: the header reads the window again.
    await openScreen(app, 'quick_replies');
    await openScreen(app, 'chat');
    await app.browser.$('[data-testid="conversation-row"]').click();
    await app.waitForText('window-state', 'closed', 10000);
    assert.equal(await app.el('composer-input').isExisting(), false, 'no free text outside the window');
    await app.click('template-button');
    await app.waitFor('template-picker');
    // A template whose values are not mapped: they are typed for this send.
    const option = app.browser.$('[data-testid="template-option"][data-name="sandbox_order_text"]');
    await option.waitForExist({ timeout: 10000, timeoutMsg: 'sandbox_order_text is not offered' });
    await option.click();
    await app.waitFor('fill-missing');
    assert.match(await app.text('fill-missing'), /\{\{1\}\} in the body has no mapping: type a value for this send/);
    assert.equal(await app.el('template-send').isEnabled(), false, 'nothing to send while values are missing');
    const box = (id) => app.browser.$(`[data-testid="fill-value"][data-id="${id}"]`);
    await box('body:1').setValue('Ana');
    await box('body:2').setValue('$42.00');
    await box('body:3').setValue('Friday');
    await app.waitForText('fill-body', 'Hi Ana, your order total is $42.00, delivered on Friday. Thank you!');
    await app.el('fill-missing').waitForExist({ reverse: true, timeout: 5000 });
    await app.click('template-send');
    let last = [];
    await app.browser.waitUntil(
      async () => {
        last = await outboundStatuses(app);
        return last.length === 2 && ['delivered', 'read'].includes(last[1]);
      },
      { timeout: 20000, timeoutMsg: `the template was not delivered (statuses: ${JSON.stringify(last)})` },
    );
    const texts = await app.texts('message');
    assert.ok(texts.some((x) => x.includes('your order total is $42.00, delivered on Friday')), texts.join('\n'));
  });

  await app.step('Send on WhatsApp from an invoice delivers the invoice template with its PDF', async () => {
    await openScreen(app, 'templates');
    await app.click('models-tab');
    await app.click('model-load-invoice');
    await app.browser.waitUntil(
      async () => (await app.texts('model-status-invoice')).join(' ').toLowerCase().includes('approved'),
      { timeout: 30000, timeoutMsg: 'the invoice model was never approved' },
    );
    await openScreen(app, 'settings');
    const select = await app.waitFor('action-template-invoice');
    await app.browser.waitUntil(async () => (await select.$$('option')).length > 1, { timeout: 10000 });
    const options = await app.browser.execute(
      () => Array.from(document.querySelectorAll('[data-testid="action-template-invoice"] option')).map((o) => [o.value, o.textContent]),
    );
    const invoice = options.find(([, label]) => label.startsWith('crmconnect_invoice'));
    assert.ok(invoice, JSON.stringify(options));
    await select.selectByAttribute('value', invoice[0]);
    await app.browser.waitUntil(async () => (await select.getValue()) === invoice[0], { timeout: 5000 });

    await openScreen(app, 'documents');
    const row = app.browser.$('[data-testid="document-row"][data-number="INV-0001"]');
    await row.waitForExist({ timeout: 10000 });
    await row.$('[data-testid="document-send-whatsapp"]').click();

    // A preview first: to whom, and the message as the customer will read it.
    await app.waitFor('send-whatsapp-dialog');
    await app.waitForText('fill-body', 'INV-0001');
    assert.doesNotMatch(await app.text('fill-body'), /\{\{/);
    assert.ok((await app.text('send-whatsapp-to')).length > 3);
    // A double click sends once; the dialog leads to the conversation.
    const send = await app.waitFor('send-whatsapp-send');
    await send.waitForEnabled({ timeout: 10000 });
    await send.doubleClick();
    await app.waitFor('send-whatsapp-sent', 20000);
    assert.equal(await app.el('send-whatsapp-repeat').isExisting(), false);
    await app.click('send-whatsapp-open');
    await app.waitFor('chat-header');
    const rows = await app.browser.$$('[data-testid="conversation-row"]');
    assert.equal(rows.length, 2, 'a conversation with the invoice’s client');
    let last = [];
    await app.browser.waitUntil(
      async () => {
        last = await outboundStatuses(app);
        return last.length === 1 && ['delivered', 'read'].includes(last[0]);
      },
      { timeout: 20000, timeoutMsg: `the invoice was not delivered (statuses: ${JSON.stringify(last)})` },
    );
    const texts = await app.texts('message');
    assert.ok(texts.some((x) => x.includes('INV-0001') && x.includes('.pdf')), texts.join('\n'));
  });

  await app.step('the invoice PDF is saved by the core into the downloads folder', async () => {
    await app.click('media-save');
    await app.browser.waitUntil(async () => (await app.texts('toast')).some((x) => x.includes('Saved to')), {
      timeout: 10000,
      timeoutMsg: 'no “Saved to …” toast',
    });
    const saved = join(app.dataDir, 'downloads');
    const pdfs = readdirSync(saved).filter((f) => f.endsWith('.pdf'));
    assert.equal(pdfs.length, 1, `downloads: ${readdirSync(saved).join(', ')}`);
    assert.ok(readFileSync(join(saved, pdfs[0])).subarray(0, 5).toString() === '%PDF-', 'the saved file is the PDF');
  });

  await app.step('the header opens the linked client contact in Clients', async () => {
    await app.waitFor('linked-record');
    await app.click('open-linked-record');
    const person = app.browser.$('[data-testid="client-person"][data-linked="true"]');
    await person.waitForExist({ timeout: 10000, timeoutMsg: 'the client dialog with its linked contact person did not open' });
  });
});
