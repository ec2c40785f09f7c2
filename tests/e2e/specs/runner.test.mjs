// The runner and the desktop (issue 21): the sandbox workspace's desktop runs its bots and
// campaigns itself and says so in the top bar; a `crmconnect-runner` started against the same
// relay takes the automation lease from it at once (a server runner comes first), and the top bar
// names it; when the runner stops, the lease comes back to the desktop.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { REPO, launch, ownerSignedIn } from '../lib/harness.mjs';

const RELAY = join(REPO, 'target/debug/relay');
const RUNNER = join(REPO, 'target/debug/crmconnect-runner');

async function waitForHere(app, here, timeout = 20000) {
  await app.browser.waitUntil(async () => (await app.el('automation-indicator').getAttribute('data-here')) === here, {
    timeout,
    timeoutMsg: `the automation indicator never said “${here}”`,
  });
}

test('the lease moves from the desktop to a server runner and back', async (t) => {
  const app = await launch(t);
  t.after(() => app.quit());
  await app.step('the sandbox desktop runs its automation itself and says so', async () => {
    await ownerSignedIn(app);
    await waitForHere(app, 'active');
    assert.equal(await app.el('automation-indicator').getAttribute('data-running'), 'true');
    await app.click('automation-indicator');
    await app.waitForText('automation-panel', 'run on this desktop');
    await app.waitForText('automation-panel', 'No bot is on and no campaign is sending');
    await app.click('automation-indicator');
  });

  let runner = null;
  t.after(() => runner?.kill('SIGKILL'));
  await app.step('a server runner takes the lease; the top bar names it', async () => {
    // The sandbox's relay: its address from the sync indicator, its log beside the workspace.
    const title = await app.el('sync-indicator').getAttribute('title');
    const relayUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(title)?.[1];
    assert.ok(relayUrl, title);
    const db = `sqlite://${join(app.dataDir, 'workspaces/sandbox/relay.db')}`;
    const list = execFileSync(RELAY, ['token', 'list', '--database-url', db]).toString();
    const workspace = list.split('\n').map((l) => l.split('\t')).find((f) => f.length > 2)?.[1];
    assert.ok(workspace, list);
    const token = execFileSync(RELAY, ['token', 'issue', '--database-url', db, '--workspace', workspace, '--staff', 'automation', '--admin'])
      .toString()
      .trim();
    const dir = mkdtempSync(join(tmpdir(), 'crmconnect-e2e-runner-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'credentials'));
    writeFileSync(join(dir, 'credentials', 'relay-token'), token);
    writeFileSync(join(dir, 'runner.toml'), `data_dir = "${join(dir, 'data')}"\nrelay_url = "${relayUrl}"\nholder = "runner@e2e"\n`);
    runner = spawn(RUNNER, ['--config', join(dir, 'runner.toml')], {
      env: { ...process.env, CREDENTIALS_DIRECTORY: join(dir, 'credentials') },
      stdio: 'ignore',
    });
    await waitForHere(app, 'standby', 30000);
    await app.click('automation-indicator');
    await app.waitForText('automation-panel', 'runner@e2e (runner)');
    await app.click('automation-indicator');
  });

  await app.step('the runner stops: the lease comes back to the desktop', async () => {
    runner.kill('SIGTERM');
    await new Promise((r) => runner.once('exit', r));
    runner = null;
    await waitForHere(app, 'active', 20000);
  });
});
