// Foundation, end to end in the real window: first launch in the sandbox workspace, the owner
// signs in and visits screens, a staff member whose role lacks whatsapp_contacts view is refused
// Bulk Contacts by the core, and a corrupt database is refused at start.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ARTIFACTS, OWNER, createOwner, freshDataDir, launch, openScreen, signIn, signOut } from '../lib/harness.mjs';

test('owner and a restricted staff member, in the sandbox workspace', async (t) => {
  const app = await launch(t);
  t.after(() => app.quit());

  await app.step('first launch asks for the owner and shows the sandbox', async () => {
    await app.waitFor('setup-name', 20000);
    await app.waitFor('sandbox-badge');
  });
  await app.step('create the owner', () => createOwner(app));
  await app.step('sign in as the owner', () => signIn(app, OWNER));
  await app.step('the shell shows every sub-module and the sandbox badge', async () => {
    for (const key of ['chat', 'bots', 'campaigns', 'groups', 'bulk_contacts', 'templates',
      'quick_replies', 'numbers', 'connection', 'activity_log', 'settings']) {
      await app.waitFor(`nav-${key}`);
    }
    assert.match(await app.text('sandbox-badge'), /sandbox/i);
    assert.match(await app.text('current-user'), /Olivia Owner/);
  });

  await app.step('the Activity Log lists the owner’s creation and sign-in', async () => {
    await openScreen(app, 'activity_log');
    await app.waitFor('log-row');
    const rows = await app.texts('log-row');
    assert.ok(rows.some((r) => r.includes('staff.sign_in')), rows.join('\n'));
    assert.ok(rows.some((r) => r.includes('staff.create_owner')), rows.join('\n'));
    // Evidence for the README: the navigation and the sandbox badge, as a person sees them.
    mkdirSync(ARTIFACTS, { recursive: true });
    await app.browser.saveScreenshot(join(ARTIFACTS, 'shell-activity-log.png'));
  });

  await app.step('the Activity Log names the system, not a person, as who set the workspace up', async () => {
    const rows = await app.texts('log-row');
    const setup = rows.filter((r) => r.includes('workspace.create'));
    assert.equal(setup.length, 1, rows.join('\n'));
    assert.match(setup[0], /System · workspace set-up/);
    const owner = rows.find((r) => r.includes('staff.create_owner'));
    assert.match(owner ?? '', /System · workspace set-up/, 'the owner was created by the set-up');
    // A row opens the whole entry (the list cuts long cells).
    await app.browser.$('[data-testid="log-row"] [role="cell"]').click();
    await app.waitFor('log-entry');
    assert.ok((await app.text('log-entry-target')).length > 0);
    await app.browser.keys('Escape');
    await app.el('log-entry').waitForExist({ reverse: true, timeout: 5000 });
  });

  await app.step('Campaigns opens on an empty list that says how to start', async () => {
    await openScreen(app, 'campaigns');
    await app.waitFor('campaigns-empty');
  });

  await app.step('keyboard: Ctrl+, opens Settings, Ctrl+5 opens Bulk Contacts', async () => {
    await app.browser.keys(['Control', ',']);
    await app.waitFor('screen-settings');
    await app.browser.keys(['Control', '5']);
    await app.waitFor('screen-bulk_contacts');
    await app.browser.keys(['Control', ',']);
    await app.waitFor('screen-settings');
  });

  await app.step('create a role without whatsapp_contacts view', async () => {
    await app.click('role-add');
    await app.type('role-name', 'Chat only');
    await app.click('perm-whatsapp_chat-view');
    await app.click('perm-whatsapp_chat-send');
    await app.click('perm-quickreplies-view');
    await app.click('role-save');
    await app.waitForText('role-list', 'Chat only');
  });

  await app.step('add a staff member with that role', async () => {
    await app.type('staff-add-name', 'Rita Rep');
    await app.type('staff-add-username', 'rita');
    await (await app.waitFor('staff-add-role')).selectByVisibleText('Chat only');
    await app.type('staff-add-passphrase', 'rita passphrase');
    await app.click('staff-add-submit');
    await app.browser.waitUntil(async () => {
      const rows = await app.texts('staff-row');
      return rows.some((r) => r.includes('rita'));
    }, { timeout: 10000, timeoutMsg: 'rita never appeared in the staff list' });
  });

  await app.step('sign out, sign in as the staff member', async () => {
    await signOut(app);
    await app.type('signin-username', 'rita');
    await app.type('signin-passphrase', 'rita passphrase');
    await app.click('signin-submit');
    await app.waitForText('current-user', 'Rita Rep');
  });

  await app.step('Bulk Contacts is refused by the core, with its message', async () => {
    await openScreen(app, 'bulk_contacts');
    const msg = await app.text('refused');
    assert.match(msg, /Access refused/i);
    assert.match(msg, /does not allow viewing Bulk Contacts/);
  });

  await app.step('Quick Replies: adding one is shown disabled, saying why, and a click only says why', async () => {
    await openScreen(app, 'quick_replies');
    const add = await app.waitFor('quick-reply-add');
    assert.equal(await add.getAttribute('aria-disabled'), 'true');
    assert.match(await add.getAttribute('title'), /Your role \(Chat only\) does not allow adding to Quick Replies/);
    await add.click();
    await app.browser.waitUntil(async () => (await app.texts('toast-error')).some((x) => x.includes('does not allow adding to Quick Replies')), {
      timeout: 5000,
      timeoutMsg: 'no toast saying why',
    });
    assert.equal(await app.el('quick-reply-name').isExisting(), false, 'the form did not open');
    // Chat opened at sign-in: a lookup the role may not see raised no error.
    assert.ok(!(await app.texts('toast-error')).some((x) => x.includes('chat details')), 'no error for lead statuses a rep may not see');
  });

  await app.step('changing her own passphrase asks for the current one', async () => {
    await openScreen(app, 'settings');
    await app.type('account-passphrase', 'rita new passphrase');
    await app.type('account-passphrase-confirm', 'rita new passphrase');
    await app.click('account-passphrase-submit');
    assert.match(await app.text('account-passphrase-error'), /Enter your current passphrase/);
    await app.type('account-passphrase-current', 'not hers at all');
    await app.click('account-passphrase-submit');
    await app.waitForText('account-passphrase-error', 'current passphrase is not right');
    await app.type('account-passphrase-current', 'rita passphrase');
    await app.click('account-passphrase-submit');
    await app.browser.waitUntil(async () => (await app.texts('toast')).some((x) => x.includes('passphrase was changed')), {
      timeout: 10000,
      timeoutMsg: 'the passphrase was not changed with the right current one',
    });
  });

  await app.step('the Activity Log is admin-only', async () => {
    await openScreen(app, 'activity_log');
    assert.match(await app.text('refused'), /administrators only/);
  });
});

test('a corrupt workspace database is refused at start, named, and left untouched', async (t) => {
  const dataDir = freshDataDir();
  const dbDir = join(dataDir, 'workspaces', 'sandbox');
  mkdirSync(dbDir, { recursive: true });
  const dbFile = join(dbDir, 'workspace.db');
  writeFileSync(dbFile, 'not a database at all: somebody’s notes\n'.repeat(50));
  const before = createHash('sha256').update(readFileSync(dbFile)).digest('hex');

  const app = await launch(t, { dataDir });
  t.after(() => app.quit());
  await app.step('the window says which file is wrong', async () => {
    const msg = await app.text('storage-error');
    assert.ok(msg.includes(dbFile), msg);
    assert.match(msg, /not a usable CRMConnect database/);
  });
  const after = createHash('sha256').update(readFileSync(dbFile)).digest('hex');
  assert.equal(after, before, 'the file was modified');
});
