// The desktop window's start-up time and memory, measured on a build of the app (the release
// build from scripts/bench-window) in a real WebKit window under Xvfb:
//  - launch to interactive: from the app process's start (its /proc start time) to the first
//    screen answering WebDriver;
//  - PSS summed over the app and every process it started (WebKit's web and network processes),
//    fresh (signed in, on the first screen, after 3 s) and after a walk through every screen and
//    1,000 customer messages (after 5 s on a quiet screen).
// Prints the figures and how they compare with the targets (interactive ≤ 1 s, fresh
// ≤ 250 MB, after the walk ≤ 110 % of fresh). Exits 0 either way: it measures, it does not judge.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

import { freePort, launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function appPid(dataDir) {
  const mark = `CRMCONNECT_DATA_DIR=${dataDir}\0`;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(mark) && cmd.includes('crmconnect-desktop')) return Number(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  throw new Error('the app process was not found');
}

/** The process and every descendant. */
function tree(root) {
  const parent = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      parent.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}

/** Summed PSS in MiB, and each process's share. */
function pss(root) {
  let total = 0;
  const each = [];
  for (const pid of tree(root)) {
    try {
      const kb = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'))?.[1] ?? 0);
      const name = readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
      total += kb;
      each.push(`${name} ${(kb / 1024).toFixed(0)}`);
    } catch {
      // gone
    }
  }
  return { mib: total / 1024, each };
}

/** Seconds since the process started. */
function age(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) / CLK_TCK;
  const uptime = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
  return uptime - start;
}

const sandboxPort = await freePort();
const base = `http://127.0.0.1:${sandboxPort}`;
const app = await launch({ name: 'bench window' }, { env: { CRMCONNECT_SANDBOX_LISTEN: `127.0.0.1:${sandboxPort}` } });
try {
  await app.waitFor('setup-name', 30000);
  const pid = appPid(app.dataDir);
  const interactive = age(pid);
  await ownerSignedIn(app);
  await app.browser.pause(3000);
  const fresh = pss(pid);

  // The walk: demo records, every screen, 1,000 messages from the sandbox's customers.
  await openScreen(app, 'leads');
  await app.click('leads-load-demo');
  await app.browser.$('[data-testid="lead-row"]').waitForExist({ timeout: 20000 });
  const customers = ['ana', 'ben', 'chen', 'dara'];
  const started = Date.now();
  for (let i = 0; i < MESSAGES; i++) {
    const r = await fetch(`${base}/sandbox/customers/${customers[i % customers.length]}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'text', body: `Bench message ${i}: is the offer still valid?` }),
    });
    if (!r.ok) throw new Error(`sandbox: HTTP ${r.status} ${await r.text()}`);
  }
  const sentIn = (Date.now() - started) / 1000;
  for (const screen of ['chat', 'bots', 'campaigns', 'groups', 'bulk_contacts', 'templates', 'quick_replies', 'numbers', 'connection', 'activity_log', 'leads', 'clients', 'documents', 'settings']) {
    await openScreen(app, screen);
    await app.browser.pause(300);
  }
  // Every conversation opened, its thread scrolled to the oldest message.
  await openScreen(app, 'chat');
  await app.browser.$('[data-testid="conversation-row"]').waitForExist({ timeout: 30000 });
  const rows = await app.browser.$$('[data-testid="conversation-row"]');
  for (const row of rows) {
    await row.click();
    await app.waitFor('chat-header');
    for (let k = 0; k < 6; k++) {
      await app.browser.execute(() => {
        const t = document.querySelector('[data-testid="thread"]') ?? document.querySelector('.thread');
        if (t) t.scrollTop = 0;
      });
      await app.browser.pause(250);
    }
  }
  await openScreen(app, 'settings');
  await app.browser.pause(5000);
  const walked = pss(pid);

  const line = (label, value, target, ok) => console.log(`${label.padEnd(34)} ${value.padStart(10)}   target ${target.padEnd(12)} ${ok ? 'met' : 'NOT met'}`);
  console.log(`\nwindow bench (${process.env.CRMCONNECT_APP ?? 'debug build'}), ${MESSAGES} messages sent in ${sentIn.toFixed(1)} s`);
  line('launch to interactive', `${interactive.toFixed(2)} s`, '≤ 1 s', interactive <= 1);
  line('PSS fresh (all processes)', `${fresh.mib.toFixed(0)} MiB`, '≤ 250 MB', fresh.mib * 1.048576 <= 250);
  line('PSS after the walk', `${walked.mib.toFixed(0)} MiB`, '≤ 110 % fresh', walked.mib <= fresh.mib * 1.1);
  console.log(`  growth: ${(((walked.mib / fresh.mib) - 1) * 100).toFixed(1)} %`);
  console.log(`  fresh: ${fresh.each.join(', ')}`);
  console.log(`  after: ${walked.each.join(', ')}`);
} finally {
  await app.quit();
}
