// The end-to-end harness: launches the built desktop app in a real WebKit window through
// tauri-driver (WebKitWebDriver underneath), each test with its own data folder and keychain
// namespace, and saves a screenshot of every failing step to tests/e2e/artifacts/.
//
// Later issues extend it with flows of their own; keep each flow a small function here.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../../..');
export const APP = process.env.CRMCONNECT_APP ?? join(REPO, 'target/debug/crmconnect-desktop');
export const ARTIFACTS = join(REPO, 'tests/e2e/artifacts');

/**
 * Kills the app process of this test (found by its data folder in its environment) if it
 * outlived its WebDriver session: an orphaned app keeps the driver's output pipes open, and the
 * test runner would wait for them forever.
 */
function killAppOf(dataDir) {
  const mark = `CRMCONNECT_DATA_DIR=${dataDir}\0`;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(mark)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already, or not ours to read
    }
  }
}

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function waitForPort(port, ms = 15000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const up = await new Promise((ok) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); ok(true); });
      s.once('error', () => ok(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${ms} ms`);
}

/** A fresh data folder for one test: the app's workspaces, settings and logs all live in it. */
export function freshDataDir() {
  return mkdtempSync(join(tmpdir(), 'crmconnect-e2e-'));
}

/**
 * Starts tauri-driver and the app. `t` is the node:test context (for artifact names).
 * Options: dataDir (default: a fresh temp dir).
 */
export async function launch(t, { dataDir = freshDataDir(), env: extraEnv = {} } = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  const env = {
    ...process.env,
    CRMCONNECT_DATA_DIR: dataDir,
    // Anything a library writes under XDG folders stays in the test's folder too.
    XDG_DATA_HOME: join(dataDir, 'xdg-data'),
    XDG_CONFIG_HOME: join(dataDir, 'xdg-config'),
    XDG_CACHE_HOME: join(dataDir, 'xdg-cache'),
    // Keychain entries of this test stay apart from every other run's.
    CRMCONNECT_KEYCHAIN_NAMESPACE: `e2e-${dataDir.split('/').pop()}`,
    ...extraEnv,
  };
  const driverLog = [];
  const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  driver.stdout.on('data', (d) => driverLog.push(String(d)));
  driver.stderr.on('data', (d) => driverLog.push(String(d)));
  await waitForPort(port);
  let browser;
  try {
    browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: 'error',
      connectionRetryCount: 1,
      capabilities: {
        'wdio:enforceWebDriverClassic': true,
        'tauri:options': { application: APP },
      },
    });
  } catch (e) {
    driver.kill();
    throw new Error(`could not start the app (${APP}): ${e.message}\n${driverLog.join('')}`);
  }
  return new App(t, browser, driver, dataDir, driverLog);
}

export class App {
  constructor(t, browser, driver, dataDir, driverLog = []) {
    this.t = t;
    this.browser = browser;
    this.driver = driver;
    this.dataDir = dataDir;
    this.driverLog = driverLog;
    this.stepNo = 0;
  }

  /** Runs one named step; on failure saves a screenshot named after the test and the step. */
  async step(name, fn) {
    this.stepNo += 1;
    try {
      return await fn();
    } catch (e) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, `${slug(this.t.name)}--${String(this.stepNo).padStart(2, '0')}-${slug(name)}.png`);
      try {
        await this.browser.saveScreenshot(file);
        e.message += `\n  (screenshot: ${file})`;
      } catch (shotError) {
        e.message += `\n  (no screenshot: ${shotError.message})`;
      }
      if (/page crash|invalid session/i.test(e.message)) {
        // WebKit's web process died: what it and the app printed last is the only clue there is.
        const tail = this.driverLog.join('').split('\n').slice(-40).join('\n  | ');
        e.message += `\n  the driver's last output (WebKit and the app):\n  | ${tail}`;
      }
      throw e;
    }
  }

  /** The element with data-testid=`id`. */
  el(id) {
    return this.browser.$(`[data-testid="${id}"]`);
  }

  els(id) {
    return this.browser.$$(`[data-testid="${id}"]`);
  }

  /**
   * The text content of every element with data-testid=`id`, in document order. (textContent,
   * not WebDriver's visible text: WebKitWebDriver leaves out cells clipped with an ellipsis.)
   */
  async texts(id) {
    return this.browser.execute(
      (sel) => Array.from(document.querySelectorAll(sel)).map((e) => e.textContent.replace(/\s+/g, ' ').trim()),
      `[data-testid="${id}"]`,
    );
  }

  async waitFor(id, timeout = 10000) {
    const e = this.el(id);
    await e.waitForDisplayed({ timeout, timeoutMsg: `“${id}” did not appear within ${timeout} ms` });
    return e;
  }

  async type(id, text) {
    const e = await this.waitFor(id);
    await e.clearValue();
    await e.setValue(text);
  }

  async click(id) {
    const e = await this.waitFor(id);
    await e.waitForEnabled({ timeout: 10000 });
    // A section above that finishes loading can move the element between WebDriver's scroll and
    // its click, which then lands on whatever took its place: wait until it stays put.
    let before = null;
    await this.browser.waitUntil(
      async () => {
        const now = await this.browser.execute((sel) => {
          const r = document.querySelector(sel)?.getBoundingClientRect();
          return r ? `${r.x},${r.y},${r.width},${r.height},${document.documentElement.scrollHeight}` : null;
        }, `[data-testid="${id}"]`);
        const still = now !== null && now === before;
        before = now;
        return still;
      },
      { timeout: 10000, interval: 60, timeoutMsg: `“${id}” kept moving` },
    );
    await e.click();
  }

  async text(id) {
    return (await this.waitFor(id)).getText();
  }

  /** Waits until `id`'s text contains `needle`; returns the text. */
  async waitForText(id, needle, timeout = 10000) {
    let last = '';
    await this.browser.waitUntil(
      async () => {
        const e = this.el(id);
        last = (await e.isExisting()) ? await e.getText() : '';
        return last.includes(needle);
      },
      { timeout, timeoutMsg: `“${id}” never contained “${needle}” (last: “${last}”)` },
    );
    return last;
  }

  async quit() {
    try {
      await this.browser.deleteSession();
    } finally {
      this.driver.kill();
      killAppOf(this.dataDir);
    }
  }
}

// ---- flows shared by the specs --------------------------------------------------------------

export const OWNER = { name: 'Olivia Owner', username: 'olivia', passphrase: 'owner passphrase 1' };

/** First launch: create the owner account. Leaves the app on the sign-in screen. */
export async function createOwner(app, owner = OWNER) {
  await app.type('setup-name', owner.name);
  await app.type('setup-username', owner.username);
  await app.type('setup-passphrase', owner.passphrase);
  await app.type('setup-passphrase2', owner.passphrase);
  await app.click('setup-submit');
  await app.waitFor('signin-passphrase');
}

export async function signIn(app, { username, passphrase }) {
  await app.type('signin-username', username);
  await app.type('signin-passphrase', passphrase);
  await app.click('signin-submit');
  await app.waitForText('current-user', username === OWNER.username ? OWNER.name : '');
}

export async function signOut(app) {
  await app.click('sign-out');
  await app.waitFor('signin-passphrase');
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** First launch to signed-in owner, in one call. */
export async function ownerSignedIn(app) {
  await app.waitFor('setup-name', 20000);
  await createOwner(app);
  await signIn(app, OWNER);
}

/** Opens a screen from the sidebar; returns its root element. */
export async function openScreen(app, key) {
  await app.click(`nav-${key}`);
  return app.waitFor(`screen-${key}`);
}
