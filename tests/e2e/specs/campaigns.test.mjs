// Campaigns in the window (issue 23), against the embedded sandbox playing Meta. The sandbox's
// template sample_issue_resolution is synced and its {{1}} mapped to the contact's first name; two
// groups of Bulk Contacts are imported from CSV files (one card without a name). A campaign to the
// big group is planned (how many it goes to, who is left out and why, the first recipient's
// message), started and paused halfway: nothing more is sent while the sandbox's delivered and read
// statuses catch up; resumed, it sends the rest, its delivered and read rates climb as the sandbox
// reports and reach 100%. Then the sandbox fails half the sends: a campaign to the small group ends
// with failed recipients (131026), and "Retarget failed" makes a draft whose plan is exactly them —
// the same numbers, compared through the two CSV exports. Screenshots in tests/e2e/artifacts/.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ARTIFACTS, launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

/**
 * Named contacts in the group: the campaign's recipients. Enough that sending them takes several
 * seconds at the sandbox's pace (80 messages a second, 10% left to chat), so that a pause lands
 * halfway.
 */
const N = 600;
const GROUP = 'Spring fair 2026';
/** A second, small group: the campaign the sandbox fails half of. */
const VIP = 'Fair VIPs';
const V = 24;
const FIRST = ['Ana', 'Bogdan', 'Carmen', 'Dan', 'Elena', 'Florin', 'Gabriela', 'Horia', 'Ioana'];
const LAST = ['Popescu', 'Ionescu', 'Stan', 'Dumitru', 'Rusu', 'Munteanu', 'Matei'];
const TEMPLATE = 'sample_issue_resolution';

const n = (x) => x.toLocaleString('en-US');
/** A percentage as the report writes it (lib/campaigns.ts formatPercent). */
const pct = (p) => {
  const r = Math.round(p * 10) / 10;
  return `${Number.isInteger(r) ? r.toFixed(0) : r.toFixed(1)}%`;
};

/** The report's figures, by key: { value, sub }. */
function reportFigures() {
  const out = {};
  for (const f of document.querySelectorAll('[data-testid^="figure-"]')) {
    out[f.dataset.testid.slice('figure-'.length)] = {
      value: Number(f.querySelector('.value')?.textContent.replace(/\D/g, '') ?? NaN),
      sub: f.querySelector('.sub')?.textContent.replace(/\s+/g, ' ').trim() ?? '',
    };
  }
  return out;
}

/** The plan's "left out" list: label → count. */
function planLeftOut() {
  const out = {};
  for (const li of document.querySelectorAll('[data-testid="campaign-plan-card"] .left-out li')) {
    out[li.querySelector('span').childNodes[0].textContent.trim()] = Number(li.querySelector('strong').textContent);
  }
  return out;
}

/** Rows of a CSV file as objects by its header (quoted fields, commas and "" inside them). */
function readCsv(path) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  const text = readFileSync(path, 'utf8');
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

async function dismissToasts(app) {
  await app.browser.execute(() => document.querySelectorAll('.toast .dismiss').forEach((b) => b.click()));
}

test('campaigns: plan, run, pause and resume, the report, retarget the failed', async (t) => {
  const app = await launch(t);
  t.after(() => app.quit());
  mkdirSync(ARTIFACTS, { recursive: true });

  const figures = () => app.browser.execute(reportFigures);
  const status = () => app.el('campaign-status').getAttribute('data-status');
  const waitStatus = async (want, timeout = 20000) => {
    await app.browser.waitUntil(async () => (await status()) === want, {
      timeout,
      timeoutMsg: `the campaign never became “${want}” (it is “${await status()}”)`,
    });
  };
  /** Waits until the report's figures satisfy `ok`, handing each look to `seen`; returns the last. */
  const waitFigures = async (what, ok, timeout = 60000, seen = () => {}) => {
    let last = {};
    await app.browser.waitUntil(
      async () => {
        last = await figures();
        seen(last);
        return ok(last);
      },
      { timeout, interval: 200, timeoutMsg: `${what}: ${JSON.stringify(last)}` },
    );
    return last;
  };
  /** The text of the newest toast that contains `needle`. */
  const toastWith = async (needle) => {
    let found;
    await app.browser.waitUntil(async () => (found = (await app.texts('toast')).find((x) => x.includes(needle))) !== undefined, {
      timeout: 10000,
      timeoutMsg: `no toast said “${needle}”`,
    });
    return found;
  };
  /** The campaign form, filled for `groupName` with the mapped template, saved; the draft opens. */
  const newCampaign = async (name, groupName) => {
    await app.click('campaign-add');
    await app.waitFor('campaign-form');
    await app.type('campaign-name', name);
    const option = app.browser.$(`[data-testid="campaign-template-option"][data-name="${TEMPLATE}"]`);
    await option.waitForExist({ timeout: 10000, timeoutMsg: 'the mapped template is not offered' });
    await option.click();
    await app.waitForText('campaign-template-preview', 'were we able to solve the issue');
    // The mode's radio is drawn as a segment of its label: the label is what a person clicks.
    await app.browser.$('[data-testid="campaign-mode-group"]').parentElement().click();
    const group = await app.waitFor('campaign-group');
    let label;
    await app.browser.waitUntil(async () => (label = (await group.$$('option').map((o) => o.getText())).find((x) => x.includes(groupName))) !== undefined, {
      timeout: 10000,
      timeoutMsg: 'the group is not offered',
    });
    await group.selectByVisibleText(label);
    await app.click('campaign-save');
    await app.el('campaign-form').waitForExist({ reverse: true, timeout: 10000 });
    await app.waitFor('campaign-detail');
    await app.waitForText('campaign-title', name);
    assert.equal(await status(), 'draft');
  };
  /** Plans the open campaign; returns the plan's recipient count. */
  const plan = async () => {
    await app.click('campaign-plan');
    await waitStatus('planned');
    await app.waitFor('campaign-plan-card');
    return Number((await app.text('plan-recipients')).replace(/\D/g, ''));
  };
  /** The recipient log's export (of the state chosen by its chips): the CSV's rows. */
  const exportLog = async () => {
    await dismissToasts(app);
    await app.click('campaign-log-export');
    const said = await toastWith('was saved as');
    const path = said.slice(said.indexOf('/')).trim();
    assert.ok(existsSync(path), `no file at ${path}`);
    return readCsv(path);
  };
  /** Shows recipients of one state in the log (its chip); waits until the log counts `rows`. */
  const logChip = async (state, rows) => {
    await app.browser.$(`[data-testid="campaign-chip"][data-state="${state}"]`).click();
    await app.browser.waitUntil(async () => (await app.texts('campaign-log-total'))[0] === `${n(rows)} row${rows === 1 ? '' : 's'}`, {
      timeout: 10000,
      timeoutMsg: `the log never showed ${rows} ${state} (it says “${(await app.texts('campaign-log-total'))[0]}”)`,
    });
  };
  /** A screenshot into tests/e2e/artifacts/, toasts closed, `id` scrolled to the top of the screen. */
  const shot = async (file, id) => {
    await dismissToasts(app);
    await app.browser.execute((sel) => {
      // Scroll the screen's own scroller, not the window (the shell must stay where it is).
      const el = document.querySelector(sel);
      let box = el?.parentElement;
      while (box && !(box.scrollHeight > box.clientHeight && /auto|scroll/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
      if (box) box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - 12;
    }, `[data-testid="${id}"]`);
    await app.browser.saveScreenshot(join(ARTIFACTS, file));
  };

  await app.step('sign in as the owner', () => ownerSignedIn(app));

  await app.step(`Templates: sync from the sandbox's Meta and map ${TEMPLATE}'s {{1}} to the first name`, async () => {
    await openScreen(app, 'templates');
    await app.click('templates-sync');
    const row = app.browser.$(`[data-testid="template-row"][data-name="${TEMPLATE}"]`);
    await row.waitForExist({ timeout: 30000, timeoutMsg: `${TEMPLATE} never came from the sandbox` });
    assert.equal(await row.$('[data-testid="template-sendable"]').getAttribute('data-sendable'), 'false', 'sendable before its mapping');
    await row.$('[data-testid="template-map"]').click();
    await app.waitFor('mapping-dialog');
    await (await app.waitFor('mapping-body-1')).selectByAttribute('value', 'field:contact.first_name');
    await app.click('mapping-save');
    await app.browser.waitUntil(async () => (await row.$('[data-testid="template-sendable"]').getAttribute('data-sendable')) === 'true', {
      timeout: 10000,
      timeoutMsg: 'the template never became ready to send',
    });
  });

  /** Imports `rows` (CSV lines without the header) into Bulk Contacts, in group `groupName`. */
  const importInto = async (groupName, file, rows) => {
    const path = join(app.dataDir, file);
    writeFileSync(path, ['name,phonenumber,company_name,address,city,state,country,description', ...rows].join('\n') + '\n');
    await app.click('import-open');
    await app.waitFor('import-dialog');
    const box = app.browser.$(`[data-testid^="import-group-"][data-name="${groupName}"]`);
    await box.waitForExist({ timeout: 10000 });
    await box.click();
    await (await app.waitFor('import-file')).setValue(path);
    await app.click('import-start');
    await app.waitFor('import-report', 60000);
    assert.equal((await app.text('report-imported')).replace(/\D/g, ''), String(rows.length));
    assert.equal((await app.text('report-refused')).replace(/\D/g, ''), '0');
    await app.click('import-close');
    await app.el('import-dialog').waitForExist({ reverse: true, timeout: 10000 });
  };

  await app.step(`Groups and Bulk Contacts: ${N + 1} contacts imported into “${GROUP}” (one without a name), ${V} into “${VIP}”`, async () => {
    await openScreen(app, 'groups');
    for (const name of [GROUP, VIP]) {
      await app.click('group-add');
      await app.type('group-name', name);
      await app.click('group-save');
      await app.browser.$(`[data-testid="group-row"][data-name="${name}"]`).waitForExist({ timeout: 10000 });
    }
    await openScreen(app, 'bulk_contacts');
    // Romanian mobiles: the sandbox's own 555 customers cannot be Bulk Contacts.
    const fair = [];
    for (let i = 0; i < N; i++) {
      fair.push(`${FIRST[i % FIRST.length]} ${LAST[i % LAST.length]},+40 722 0${String(i + 1).padStart(5, '0')},Fair stand ${i % 5},,Cluj-Napoca,,RO,met at the fair`);
    }
    fair.push(',+40 722 099 999,No Name SRL,,Cluj-Napoca,,RO,a business card without a name');
    await importInto(GROUP, 'fair.csv', fair);
    const vips = [];
    for (let i = 0; i < V; i++) vips.push(`${FIRST[(i + 3) % FIRST.length]} ${LAST[(i + 2) % LAST.length]},+40 723 0${String(i + 1).padStart(5, '0')},VIP ${i},,Iasi,,RO,VIP lounge`);
    await importInto(VIP, 'vips.csv', vips);
  });

  await app.step('Campaigns: a new campaign to the group opens as a draft', async () => {
    await openScreen(app, 'campaigns');
    await app.waitFor('campaigns-empty', 20000);
    await newCampaign('Spring fair follow-up', GROUP);
    await app.waitFor('campaign-draft-note');
    const meta = (await app.texts('campaign-meta'))[0];
    assert.match(meta, new RegExp(`${TEMPLATE}.*Group “${GROUP}”`), meta);
  });

  await app.step(`the plan: ${N} recipients, the nameless card left out, the first recipient's message`, async () => {
    assert.equal(await plan(), N);
    const leftOut = await app.browser.execute(planLeftOut);
    assert.deepEqual(
      leftOut,
      {
        'No WhatsApp number': 0,
        'Opted out': 0,
        'Reached only by a user id': 0,
        'A value the template needs is missing': 1,
        'no “Contact first name”': 1,
        'Same number twice': 0,
      },
      JSON.stringify(leftOut),
    );
    const card = (await app.texts('campaign-plan-card'))[0];
    // The group's members, of every Bulk Contact.
    assert.ok(card.includes(`${n(N + 1)} selected of ${n(N + 1 + V)} in Bulk Contacts (${pct(((N + 1) / (N + 1 + V)) * 100)}); 1 left out.`), card);
    // Contacts are planned in the order they were added: Ana first, her first name in {{1}}.
    await app.waitForText('plan-sample', 'Hi Ana, were we able to solve the issue that you were facing?');
    assert.ok(card.includes('The first recipient reads: Ana Popescu +40 722 000 001'), card);
    await shot('campaign-plan.png', 'campaign-detail');
  });

  await app.step('start it: the confirmation names the recipients; it sends', async () => {
    await app.click('campaign-start');
    const confirm = await app.waitFor('confirm-dialog');
    assert.match(await confirm.getText(), new RegExp(`goes to ${n(N)} recipients now`));
    await app.click('confirm-ok');
    await app.el('confirm-dialog').waitForExist({ reverse: true, timeout: 10000 });
    await waitStatus('running');
    await app.waitFor('campaign-pause');
    await app.waitFor('campaign-report');
    const f = await waitFigures('nothing was sent', (x) => x.sent?.value > 0, 30000);
    assert.equal(f.recipients.value, N);
    assert.equal(f.recipients.sub, '1 skipped');
  });

  let paused;
  await app.step('pause it halfway: Resume instead of Pause; nothing more is sent while the statuses catch up', async () => {
    await app.click('campaign-pause');
    await waitStatus('paused');
    await app.waitFor('campaign-resume');
    assert.equal((await app.els('campaign-pause')).length, 0, 'a Pause button on a paused campaign');
    await app.waitForText('campaign-stop', 'Stop');
    // The sandbox's statuses come in: delivered a second after a send, read three seconds later.
    // Once every send is read and none is in flight, nothing was sent for those four seconds.
    const caught = await waitFigures(
      'delivered and read never caught up with what was sent, or the sending went on',
      (x) => x.waiting.sub === '' && x.sent.value > 0 && x.delivered.value === x.sent.value && x.read.value === x.sent.value,
      30000,
    );
    paused = caught.sent.value;
    assert.ok(paused < N, `paused with ${paused} of ${N} sent: the pause must hold halfway`);
    assert.equal(caught.waiting.value, N - paused);
    assert.equal(caught.delivered.sub, `${pct((paused / N) * 100)} of recipients`);
    assert.equal(caught.read.sub, '100% of delivered');
    assert.equal(await status(), 'paused');
    await shot('campaign-paused.png', 'campaign-report');
  });

  const delivered = new Set();
  const readRates = new Set();
  const watch = (x) => {
    delivered.add(x.delivered.sub);
    readRates.add(x.read.sub);
  };
  await app.step('resume it: it sends the rest and completes', async () => {
    await app.click('campaign-resume');
    await app.browser.waitUntil(async () => ['running', 'completed'].includes(await status()), {
      timeout: 20000,
      timeoutMsg: 'the campaign did not go on',
    });
    await waitFigures('the rest was not sent', (x) => x.sent.value === N, 120000, watch);
    await waitStatus('completed', 30000);
    assert.equal((await app.els('campaign-resume')).length, 0, 'Resume on a completed campaign');
    assert.equal((await app.els('campaign-pause')).length, 0, 'Pause on a completed campaign');
    assert.equal((await app.els('campaign-stop')).length, 0, 'Stop on a completed campaign');
  });

  await app.step('delivered and read climb as the sandbox reports, to 100%', async () => {
    const f = await waitFigures('delivered and read did not reach every recipient', (x) => x.delivered.value === N && x.read.value === N, 120000, watch);
    assert.equal(f.sent.sub, '100%');
    assert.equal(f.delivered.sub, '100% of recipients');
    assert.equal(f.read.sub, '100% of delivered');
    assert.equal(f.failed.value, 0);
    assert.equal(f.waiting.value, 0);
    assert.equal(f.attention.value, 0);
    // On the way the rates took values between where the pause left them and 100%.
    const between = [...delivered].map((s) => parseFloat(s)).filter((p) => p > (paused / N) * 100 && p < 100);
    assert.ok(between.length >= 2, `delivered % never moved between the pause and the end: ${[...delivered].join(', ')}`);
    assert.ok([...readRates].some((s) => parseFloat(s) < 100), `read % (of delivered) never lagged behind: ${[...readRates].join(', ')}`);
    assert.match((await app.texts('campaign-failures'))[0], /No failures/);
    // Nothing failed and everybody read it: nobody to retarget.
    assert.equal((await app.els('campaign-retarget-failed')).length, 0);
    assert.equal((await app.els('campaign-retarget-unread')).length, 0);
    await app.waitFor('campaign-chart');
    await shot('campaign-report.png', 'campaign-report');
  });

  await app.step('the log: every frozen row; the skipped one is the card without a name', async () => {
    await app.browser.waitUntil(async () => (await app.texts('campaign-log-total'))[0] === `${n(N + 1)} rows`, {
      timeout: 10000,
      timeoutMsg: `the log does not hold ${N + 1} rows: ${(await app.texts('campaign-log-total'))[0]}`,
    });
    await logChip('skipped', 1);
    const [row] = await app.texts('campaign-recipient');
    assert.match(row ?? '', /\+40 722 099 999/, `the skipped row: ${row}`);
    await app.click('campaign-chip-all');
  });

  await app.step('the list shows it completed, with its figures and rates', async () => {
    await app.click('campaign-back');
    const row = app.browser.$('[data-testid="campaign-row"][data-name="Spring fair follow-up"]');
    await row.waitForExist({ timeout: 10000 });
    assert.equal(await row.getAttribute('data-status'), 'completed');
    const cells = await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="campaign-row"] [role="cell"]')).map((c) => c.textContent.replace(/\s+/g, ' ').trim()),
    );
    assert.deepEqual(cells.slice(2, 7), ['Completed', n(N), n(N), '100%', '100%'], cells.join(' | '));
  });

  await app.step('the sandbox panel: half the sends now fail', async () => {
    await app.click('sandbox-panel-open');
    await app.waitFor('sandbox-panel');
    const rate = await app.waitFor('sandbox-rate');
    await app.browser.execute((el) => {
      el.value = '50';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, rate);
    await app.click('sandbox-rate-apply');
    await toastWith('50% of sends will now fail');
    await app.click('sandbox-close');
  });

  let failed;
  let failedPhones;
  let firstFailed;
  await app.step(`a campaign to “${VIP}”: some delivered and read, the rest failed (131026)`, async () => {
    await dismissToasts(app);
    await newCampaign('VIP invitation', VIP);
    assert.equal(await plan(), V);
    await app.click('campaign-start');
    await app.waitFor('confirm-dialog');
    await app.click('confirm-ok');
    await waitStatus('completed', 60000);
    const f = await waitFigures(
      'not every recipient ended delivered and read, or failed',
      (x) => x.sent.value === V && x.delivered.value + x.failed.value === V && x.read.value === x.delivered.value,
      60000,
    );
    failed = f.failed.value;
    assert.ok(failed > 0 && failed < V, `about half failed: ${failed} of ${V}`);
    assert.equal(f.delivered.sub, `${pct(((V - failed) / V) * 100)} of recipients`);
    assert.equal(f.read.sub, '100% of delivered');
    const reasons = await app.texts('campaign-failure');
    assert.equal(reasons.length, 1, reasons.join('\n'));
    assert.ok(reasons[0].startsWith('131026 ') && reasons[0].endsWith(` ${n(failed)}`), reasons[0]);
    // Only the failed can be retargeted: everybody delivered read it.
    await app.waitFor('campaign-retarget-failed');
    assert.equal((await app.els('campaign-retarget-unread')).length, 0);
    await shot('campaign-failed.png', 'campaign-report');
    await logChip('failed', failed);
    const rows = await exportLog();
    assert.equal(rows.length, failed);
    assert.ok(rows.every((r) => r.state === 'failed' && r.code === '131026'), JSON.stringify(rows[0]));
    failedPhones = rows.map((r) => r.phone).sort();
    firstFailed = rows[0].name;
  });

  await app.step('retarget the failed: a new draft whose plan is exactly them', async () => {
    await app.click('campaign-retarget-failed');
    await app.waitForText('campaign-title', 'VIP invitation · failed');
    await waitStatus('draft');
    const meta = (await app.texts('campaign-meta'))[0];
    assert.ok(meta.includes(TEMPLATE), meta);
    assert.ok(meta.includes('Failed recipients of “VIP invitation”'), meta);
    assert.equal(await plan(), failed);
    const card = (await app.texts('campaign-plan-card'))[0];
    assert.ok(card.includes(`${n(failed)} selected of ${n(V)} in the earlier campaign`), card);
    // The first of them (in the earlier campaign's order) is the sample.
    assert.ok(card.includes(`The first recipient reads: ${firstFailed}`), card);
    await shot('campaign-retarget-plan.png', 'campaign-detail');
    const planned = await exportLog();
    assert.deepEqual(planned.map((r) => r.phone).sort(), failedPhones, 'the draft goes to exactly the failed numbers');
    assert.ok(planned.every((r) => r.state === 'planned'), JSON.stringify(planned[0]));
  });

  await app.step('the list holds the three campaigns', async () => {
    await app.click('campaign-back');
    await app.browser.waitUntil(async () => (await app.els('campaign-row')).length === 3, { timeout: 10000 });
    const states = await app.browser.execute(() =>
      Object.fromEntries(Array.from(document.querySelectorAll('[data-testid="campaign-row"]')).map((r) => [r.dataset.name, r.dataset.status])),
    );
    assert.deepEqual(states, {
      'Spring fair follow-up': 'completed',
      'VIP invitation': 'completed',
      'VIP invitation · failed': 'planned',
    });
    assert.equal((await app.texts('campaigns-count'))[0], '3 campaigns');
  });
});
