// Going live from the app (issue 17): a second, separately started sandbox plays Meta (its own
// address, app secret, token and numbers) and a separately started relay knows nothing of the
// workspace. From the sandbox workspace's "Connect your real number", the user checks Meta's
// credentials and the relay's admin token, names the workspace and goes live; the relay learns
// the app secret from the app and Meta (the second sandbox) subscribes the relay as the account's
// callback URL. A customer's message then travels sandbox → relay → the live workspace's chat.
// Settings → Team issues and revokes tokens; a revoked token locks this window until a new one is
// entered. Then the admin adds Rick as a sales rep and issues his token from Settings → Team; a
// second window (its own data folder) is Rick's new computer: it joins with that token, catches up
// and takes his role from the team's log; a CSV import in the admin's window shows its contacts in
// the rep's; the admin takes contacts away from the role and the rep's window loses the screen;
// the admin revokes the rep's token and the rep's window locks. Switching back to the sandbox
// workspace shows its own conversation, untouched.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { OWNER, REPO, freePort, launch, openScreen, ownerSignedIn, signIn } from '../lib/harness.mjs';

const RELAY = join(REPO, 'target/debug/relay');
const META_SECRET = 'second-sandbox-app-secret-0123456789';
const META_TOKEN = 'second-sandbox-access-token';

/** Waits until an element `id` has `needle` in its text content. */
async function waitForContent(app, id, needle, timeout = 20000) {
  await app.browser.waitUntil(async () => (await app.texts(id)).some((x) => x.includes(needle)), {
    timeout,
    timeoutMsg: `“${id}” never contained “${needle}” (last: ${JSON.stringify(await app.texts(id))})`,
  });
}

/** Starts `relay <args>` and waits until `port` answers `path`; returns the child. */
async function serve(args, port, path) {
  const child = spawn(RELAY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const err = [];
  child.stderr.on('data', (d) => err.push(String(d)));
  const until = Date.now() + 20000;
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      if (r.status < 500) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`relay ${args[0]} did not start: ${err.join('')}`);
}

test('a new user goes live against a separate sandbox and relay, then switches back', async (t) => {
  const metaPort = await freePort();
  const relayPort = await freePort();
  const relayDir = mkdtempSync(join(tmpdir(), 'crmconnect-e2e-relay-'));
  const db = `sqlite://${relayDir}/relay.db`;
  const meta = await serve(
    ['sandbox', '--listen', `127.0.0.1:${metaPort}`, '--app-secret', META_SECRET, '--access-token', META_TOKEN],
    metaPort,
    '/sandbox',
  );
  t.after(() => meta.kill());
  const relay = await serve(['serve', '--database-url', db, '--listen', `127.0.0.1:${relayPort}`], relayPort, '/healthz');
  t.after(() => relay.kill());
  const token = execFileSync(RELAY, ['token', 'issue', '--database-url', db, '--workspace', 'northwind', '--staff', 'olivia', '--admin'])
    .toString()
    .trim();
  const overview = await (await fetch(`http://127.0.0.1:${metaPort}/sandbox`)).json();
  const waba = overview.waba?.id ?? overview.waba_id;
  const phoneNumberId = (overview.phone_numbers ?? overview.numbers)[0].id;
  assert.ok(waba && phoneNumberId, JSON.stringify(overview).slice(0, 400));

  const app = await launch(t);
  t.after(() => app.quit());
  await app.step('sign in to the sandbox workspace; a sandbox customer writes', async () => {
    await ownerSignedIn(app);
    await openScreen(app, 'chat');
    await app.click('chat-empty-sandbox');
    await app.click('sandbox-customer-ben');
    await app.type('sandbox-text', 'Only in the sandbox');
    await app.click('sandbox-write');
    await app.click('sandbox-close');
    await app.browser.waitUntil(async () => (await app.texts('conversation-row')).join(' ').includes('Only in the sandbox'), {
      timeout: 20000,
      timeoutMsg: 'the sandbox conversation never appeared',
    });
  });

  await app.step('step 1: a wrong token is named; the right one passes', async () => {
    await app.click('golive-start');
    await app.waitFor('golive');
    await app.type('golive-phone-number-id', phoneNumberId);
    await app.type('golive-waba-id', waba);
    await app.type('golive-access-token', 'not-the-token');
    await app.browser.execute(() => {
      document.querySelector('details')?.setAttribute('open', '');
    });
    await app.type('golive-graph-url', `http://127.0.0.1:${metaPort}`);
    await app.click('golive-next');
    await app.browser.waitUntil(async () => (await app.texts('golive-check')).some((c) => c.includes('Access token')), {
      timeout: 15000,
      timeoutMsg: 'the wrong token was not named',
    });
    await app.type('golive-access-token', META_TOKEN);
    await app.click('golive-next');
    await app.waitFor('golive-relay-url', 15000);
  });

  await app.step('step 2: the relay and its admin token', async () => {
    await app.type('golive-relay-url', `http://127.0.0.1:${relayPort}`);
    await app.type('golive-relay-token', token);
    await app.click('golive-next');
    await app.waitFor('golive-owner-name', 15000);
    assert.equal(await (await app.el('golive-name')).getValue(), 'Northwind');
  });

  await app.step('step 3: go live; the relay checks the webhooks and Meta subscribes it', async () => {
    await app.type('golive-name', 'Northwind Sales');
    await app.type('golive-owner-name', 'Olivia Admin');
    await app.type('golive-passphrase', 'northwind passphrase');
    await app.type('golive-passphrase2', 'northwind passphrase');
    await app.type('golive-app-secret', META_SECRET);
    await app.click('golive-next');
    const result = await app.waitFor('golive-result', 30000);
    const checks = await app.texts('golive-check');
    assert.equal(await result.getAttribute('data-ok'), 'true', checks.join('\n'));
    assert.equal(await app.text('golive-callback'), `http://127.0.0.1:${relayPort}/webhook/northwind`);
    const subs = await (await fetch(`http://127.0.0.1:${metaPort}/v23.0/${waba}/subscribed_apps`, {
      headers: { authorization: `Bearer ${META_TOKEN}` },
    })).json();
    assert.equal(subs.data[0].override_callback_uri, `http://127.0.0.1:${relayPort}/webhook/northwind`);
    await app.click('golive-open');
    await waitForContent(app, 'workspace-name', 'Northwind Sales');
    await waitForContent(app, 'current-user', 'Olivia Admin');
  });

  await app.step("a customer's message reaches the live chat through the relay", async () => {
    await openScreen(app, 'chat');
    const r = await fetch(`http://127.0.0.1:${metaPort}/sandbox/customers/ben/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'text', body: 'Hello, live line' }),
    });
    assert.equal(r.status, 200, await r.text());
    await app.browser.waitUntil(async () => (await app.texts('conversation-row')).join(' ').includes('Hello, live line'), {
      timeout: 30000,
      timeoutMsg: 'the live conversation never appeared',
    });
    assert.ok(!(await app.texts('conversation-row')).join(' ').includes('Only in the sandbox'));
  });

  await app.step('Settings → Team: a token issued from the app works with the relay, and revoking it cuts it off', async () => {
    await openScreen(app, 'settings');
    await app.waitFor('team-tokens', 20000);
    await app.type('team-token-label', 'Spare laptop');
    await app.click('team-token-issue');
    const secret = await app.text('team-token-secret');
    const who = await fetch(`http://127.0.0.1:${relayPort}/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(who.status, 200);
    assert.equal((await who.json()).workspace, 'northwind');
    await app.browser.waitUntil(async () => (await app.texts('team-token-row')).some((r) => r.includes('Spare laptop')), {
      timeout: 10000,
      timeoutMsg: 'the new token is not listed',
    });
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="team-token-row"]'))
        .find((r) => r.textContent.includes('Spare laptop'))
        .querySelector('[data-testid="team-token-revoke"]')
        .click(),
    );
    await app.click('confirm-ok');
    await app.browser.waitUntil(async () => (await app.texts('team-token-row')).some((r) => r.includes('Spare laptop') && r.includes('Revoked')), {
      timeout: 10000,
      timeoutMsg: 'the token is not shown revoked',
    });
    const after = await fetch(`http://127.0.0.1:${relayPort}/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(after.status, 401);
  });

  await app.step("revoking this desktop's token locks its window; a new token lets it back in", async () => {
    const list = execFileSync(RELAY, ['token', 'list', '--database-url', db, '--workspace', 'northwind']).toString();
    const mine = list
      .split('\n')
      .map((l) => l.split('\t'))
      .find((f) => f[2] === 'olivia' && f[3].startsWith('active') && (f[5] ?? '') === '');
    assert.ok(mine, list);
    execFileSync(RELAY, ['token', 'revoke', '--database-url', db, mine[0]]);
    await app.waitFor('signin-locked', 20000);
    await app.type('signin-username', 'olivia');
    await app.type('signin-passphrase', 'northwind passphrase');
    await app.click('signin-submit');
    await app.waitForText('signin-error', 'cut off from the team');
    const fresh = execFileSync(RELAY, ['token', 'issue', '--database-url', db, '--workspace', 'northwind', '--staff', 'olivia', '--admin'])
      .toString()
      .trim();
    await app.type('rejoin-token', fresh);
    await app.click('rejoin-submit');
    await app.waitForText('signin-notice', 'back in the team');
    await app.type('signin-passphrase', 'northwind passphrase');
    await app.click('signin-submit');
    await waitForContent(app, 'current-user', 'Olivia Admin');
  });

  // A second window (its own data folder) is a rep's new computer on the same relay.
  let second = null;
  let repToken = '';
  await app.step("the admin adds Rick as a sales rep and issues his token in Settings → Team", async () => {
    await openScreen(app, 'settings');
    await app.type('staff-add-name', 'Rick Rep');
    await app.type('staff-add-username', 'rick');
    await (await app.waitFor('staff-add-role')).selectByVisibleText('Sales rep');
    await app.type('staff-add-passphrase', 'a passphrase only olivia knows');
    await app.click('staff-add-submit');
    await app.browser.waitUntil(async () => (await app.texts('staff-row')).some((r) => r.includes('rick')), {
      timeout: 10000,
      timeoutMsg: 'rick never appeared in the staff list',
    });
    await app.waitFor('team-tokens', 20000);
    await (await app.waitFor('team-token-staff')).selectByVisibleText('Rick Rep (rick)');
    await app.type('team-token-label', "Rick's laptop");
    await app.click('team-token-issue');
    repToken = await app.text('team-token-secret');
  });

  await app.step("a rep's new computer joins the team from its first screen and takes his role", async () => {
    const rep = repToken;
    second = await launch(t);
    t.after(() => (second ? second.quit() : undefined));
    await second.click('setup-join');
    await second.type('join-relay-url', `http://127.0.0.1:${relayPort}`);
    await second.type('join-token', rep);
    await second.click('join-next');
    await second.waitForText('join-who', 'as “rick”', 15000);
    await second.type('join-owner-name', 'Rick Rep');
    await second.type('join-passphrase', 'rick passphrase');
    await second.type('join-passphrase2', 'rick passphrase');
    await second.click('join-next');
    await waitForContent(second, 'workspace-name', 'Northwind', 30000);
    await openScreen(second, 'chat');
    await second.browser.waitUntil(async () => (await second.texts('conversation-row')).join(' ').includes('Hello, live line'), {
      timeout: 30000,
      timeoutMsg: "the team's conversation never reached the rep's new computer",
    });
    // The log made him a sales rep on his own desktop: the Activity Log is locked.
    await second.browser.waitUntil(async () => (await second.el('nav-activity_log').getAttribute('data-allowed')) === 'false', {
      timeout: 20000,
      timeoutMsg: "the rep's window still opens the Activity Log: it did not take his role",
    });
  });

  await app.step("a CSV import on the admin's window shows its contacts on the rep's window", async () => {
    const csv = join(app.dataDir, 'team.csv');
    writeFileSync(
      csv,
      'name,phonenumber,company_name,address,city,state,country,description\n' +
        'Team Ana,+1 201 730 0101,Globex,,Newark,NJ,US,\nTeam Ben,+1 201 730 0102,Globex,,Newark,NJ,US,\nTeam Cy,+1 201 730 0103,Acme,,Newark,NJ,US,\n',
    );
    await openScreen(app, 'bulk_contacts');
    await app.click('import-open');
    await app.waitFor('import-dialog');
    await (await app.waitFor('import-file')).setValue(csv);
    await app.click('import-start');
    await app.waitFor('import-report', 60000);
    await app.click('import-close');
    await openScreen(second, 'bulk_contacts');
    await second.browser.waitUntil(async () => (await second.el('contacts-count').getAttribute('data-total')) === '3', {
      timeout: 30000,
      timeoutMsg: "the imported contacts never reached the rep's window",
    });
  });

  await app.step("the admin takes contacts away from the sales rep role: the rep's window follows", async () => {
    await openScreen(app, 'settings');
    await app.browser.execute(() =>
      document.querySelector('[data-testid="role-row"][data-role-name="Sales rep"] [data-testid="role-edit"]').click(),
    );
    await app.click('perm-whatsapp_contacts-view');
    await app.click('role-save');
    await second.browser.waitUntil(async () => (await second.el('nav-bulk_contacts').getAttribute('data-allowed')) === 'false', {
      timeout: 30000,
      timeoutMsg: "the rep's window still opens Bulk Contacts after his role lost it",
    });
    assert.equal(await second.el('nav-chat').getAttribute('data-allowed'), 'true', 'the rest of his role stays');
  });

  await app.step("the admin revokes the rep's token in Settings → Team: the rep's window locks", async () => {
    await openScreen(app, 'settings');
    await app.browser.waitUntil(async () => (await app.texts('team-token-row')).some((r) => r.includes("Rick's laptop") && r.includes('Active')), {
      timeout: 15000,
      timeoutMsg: "the rep's token is not listed",
    });
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="team-token-row"]'))
        .find((r) => r.textContent.includes("Rick's laptop"))
        .querySelector('[data-testid="team-token-revoke"]')
        .click(),
    );
    await app.click('confirm-ok');
    await second.waitFor('signin-locked', 20000);
    const done = second;
    second = null;
    await done.quit();
  });

  await app.step('switching back to the sandbox workspace shows its own data', async () => {
    await app.click('workspace-menu');
    await app.click('workspace-item-sandbox');
    await app.waitFor('signin-passphrase', 20000);
    await signIn(app, OWNER);
    await waitForContent(app, 'workspace-name', 'Sandbox');
    await openScreen(app, 'chat');
    await app.browser.waitUntil(async () => (await app.texts('conversation-row')).join(' ').includes('Only in the sandbox'), {
      timeout: 20000,
      timeoutMsg: 'the sandbox conversation is gone',
    });
    assert.ok(!(await app.texts('conversation-row')).join(' ').includes('Hello, live line'));
  });
});
