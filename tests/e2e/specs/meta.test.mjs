// The Meta layer end to end, in the sandbox workspace: credentials in the keychain and nowhere
// else, both sandbox numbers with their pictures, a template created PENDING then APPROVED by the
// sandbox's review, its variables mapped, and a template model loaded with one click.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { filesUnder, launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

test('sandbox workspace: connection, numbers, templates, mapping, models', async (t) => {
  const app = await launch(t, { env: { CRMCONNECT_SANDBOX_REVIEW_SECONDS: '3' } });
  t.after(() => app.quit());
  await app.step('sign in as the owner', () => ownerSignedIn(app));

  await app.step('the sandbox workspace syncs through its own in-process relay', async () => {
    const indicator = await app.waitFor('sync-indicator');
    await app.browser.waitUntil(async () => (await indicator.getAttribute('data-state')) === 'live', {
      timeout: 20000,
      timeoutMsg: 'the sync indicator never went live',
    });
    assert.equal(await (await app.waitFor('sync-label')).getText(), 'Synced');
    await openScreen(app, 'settings');
    await app.waitFor('relay-sandbox-note');
    assert.match(await (await app.waitFor('relay-state')).getText(), /Up to date with http:\/\/127\.0\.0\.1/);
  });

  await app.step('Connection: the sandbox credentials are set, and the test passes', async () => {
    await openScreen(app, 'connection');
    assert.equal(await (await app.waitFor('conn-secret-state-access_token')).getAttribute('data-set'), 'true');
    // Meta's app secret and verify token are the relay's: the desktop neither asks for nor keeps them.
    assert.equal((await app.els('conn-secret-state-app_secret')).length, 0);
    assert.equal((await app.els('conn-secret-state-verify_token')).length, 0);
    await app.waitFor('conn-webhook-note');
    await app.click('conn-test');
    const result = await app.waitFor('conn-test-result', 20000);
    await app.browser.waitUntil(async () => (await result.getAttribute('data-ok')) !== null, { timeout: 20000 });
    const checks = await app.texts('conn-check');
    assert.equal(await result.getAttribute('data-ok'), 'true', checks.join('\n'));
  });

  await app.step('secrets are in the keychain, and in no file the app wrote', async () => {
    const ns = `e2e-${app.dataDir.split('/').pop()}`;
    const token = execFileSync('secret-tool', ['lookup', 'service', 'com.crmconnect.whatsapp', 'username', `${ns}/sandbox/access_token`]).toString();
    assert.equal(token, 'sandbox-token');
    for (const name of ['app_secret', 'webhook_verify_token']) {
      const found = spawnSync('secret-tool', ['lookup', 'service', 'com.crmconnect.whatsapp', 'username', `${ns}/sandbox/${name}`]);
      assert.equal(found.stdout.toString(), '', `the desktop keeps ${name}`);
    }
    for (const f of filesUnder(app.dataDir)) {
      if (f.includes('/xdg-')) continue;
      const bytes = readFileSync(f);
      for (const secret of ['sandbox-token', 'sandbox-app-secret', 'sandbox-verify-token']) {
        assert.ok(!bytes.includes(secret), `${f} holds ${secret}`);
      }
    }
  });

  await app.step('Numbers: both sandbox numbers with their profile pictures', async () => {
    await openScreen(app, 'numbers');
    await app.click('numbers-refresh');
    await app.browser.waitUntil(async () => (await app.els('number-card')).length === 2, {
      timeout: 20000,
      timeoutMsg: 'two number cards never appeared',
    });
    await app.browser.waitUntil(async () => (await app.els('number-picture')).length === 2, {
      timeout: 20000,
      timeoutMsg: 'two profile pictures never loaded',
    });
    for (const img of await app.els('number-picture')) {
      assert.match(await img.getAttribute('src'), /^data:image\/png;base64,/);
      assert.ok(await img.getProperty('naturalWidth') > 0, 'the picture decodes');
    }
    const cards = await app.texts('number-card');
    assert.ok(cards.some((c) => /Sandbox/i.test(c)), cards.join('\n'));
  });

  await app.step('Templates: create one, PENDING, then APPROVED after the review', async () => {
    await openScreen(app, 'templates');
    await app.click('template-new');
    await app.type('tpl-name', 'order_ready_e2e');
    await (await app.waitFor('tpl-category')).selectByAttribute('value', 'UTILITY');
    await app.type('tpl-body', 'Hello {{1}}, your order {{2}} is ready for pickup.');
    await app.type('tpl-example-body-1', 'Jessica');
    await app.type('tpl-example-body-2', 'A-1042');
    await app.type('tpl-footer', 'Reply STOP to opt out');
    await app.click('tpl-submit');
    const row = app.browser.$('[data-testid="template-row"][data-name="order_ready_e2e"]');
    await row.waitForExist({ timeout: 20000, timeoutMsg: 'the new template never appeared' });
    const status = () => row.$('[data-testid="template-status"]').getAttribute('data-status');
    assert.equal(await status(), 'PENDING');
    await app.browser.waitUntil(async () => (await status()) === 'APPROVED', {
      timeout: 30000,
      timeoutMsg: 'the template never became APPROVED',
    });
  });

  await app.step('map its variables to CRM fields; it becomes ready to send', async () => {
    const row = app.browser.$('[data-testid="template-row"][data-name="order_ready_e2e"]');
    await row.$('[data-testid="template-map"]').click();
    await app.waitFor('mapping-dialog');
    await (await app.waitFor('mapping-body-1')).selectByAttribute('value', 'field:contact.name');
    await (await app.waitFor('mapping-body-2')).selectByAttribute('value', 'field:document.number');
    await app.click('mapping-save');
    await app.browser.waitUntil(
      async () => (await row.$('[data-testid="template-sendable"]').getAttribute('data-sendable')) === 'true',
      { timeout: 10000, timeoutMsg: 'the template never became ready to send' },
    );
  });

  await app.step('Template Models: load the invoice model with one click', async () => {
    await app.click('models-tab');
    await app.click('model-load-invoice');
    const s = await app.waitFor('model-status-invoice', 20000);
    assert.match(await s.getText(), /pending|approved/i);
  });

  await app.step('the activity log recorded it all', async () => {
    await openScreen(app, 'activity_log');
    await app.waitFor('log-row');
    const rows = (await app.texts('log-row')).join('\n');
    for (const a of ['connection.sandbox', 'numbers.refresh', 'templates.create', 'templates.map', 'templates.load_model']) {
      assert.ok(rows.includes(a), `${a} missing`);
    }
  });
});
