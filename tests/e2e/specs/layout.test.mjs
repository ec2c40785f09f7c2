// Every list screen at 1024×700, 1280×800 and 1920×1080, with the sandbox's demo records: each
// row's actions are on screen and can be clicked (the element under their centre is theirs, so
// nothing clips or covers them), a click on a CRM row opens its record, the content uses the
// window's width, the sidebar folds to icons and back, and a screenshot of each
// screen at each size is saved in tests/e2e/artifacts/layout/.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ARTIFACTS, launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

const SIZES = [
  [1024, 700],
  [1280, 800],
  [1920, 1080],
];

/** Each list screen, the test id of its rows, and of the actions every row must offer. */
const SCREENS = [
  ['leads', 'lead-row', ['lead-edit', 'lead-delete']],
  ['clients', 'client-row', ['client-edit', 'client-delete']],
  ['documents', 'document-row', ['document-open-pdf', 'document-send-whatsapp', 'document-edit', 'document-attach', 'document-delete']],
  ['bulk_contacts', 'contact-row', ['contact-edit']],
  ['groups', 'group-row', ['group-edit', 'group-delete']],
  ['templates', 'template-row', ['template-edit', 'template-delete']],
  ['quick_replies', 'quick-reply-row', ['quick-reply-edit', 'quick-reply-delete']],
];

/** Where the first row's actions are, and whether each can be clicked where it is. */
function reach(rowId, actionIds) {
  return Array.from(document.querySelectorAll(`[data-testid="${rowId}"]`))
    .slice(0, 1)
    .flatMap((row) =>
      actionIds.map((id) => {
        const el = row.querySelector(`[data-testid="${id}"]`);
        if (!el) return { id, problem: 'missing' };
        const r = el.getBoundingClientRect();
        const x = r.left + r.width / 2;
        const y = r.top + r.height / 2;
        if (r.width === 0 || r.height === 0) return { id, problem: 'has no size' };
        if (r.left < 0 || r.right > window.innerWidth || r.top < 0 || r.bottom > window.innerHeight) {
          return { id, problem: `outside the window (${Math.round(r.left)}–${Math.round(r.right)} of ${window.innerWidth})` };
        }
        const hit = document.elementFromPoint(x, y);
        if (!hit || !(hit === el || el.contains(hit))) return { id, problem: `covered or clipped (${hit?.className ?? 'nothing'} is there)` };
        return { id, problem: null };
      }),
    );
}

test('list screens: actions reachable at 1024×700, 1280×800 and 1920×1080', async (t) => {
  const app = await launch(t);
  t.after(() => app.quit());
  const shots = join(ARTIFACTS, 'layout');
  mkdirSync(shots, { recursive: true });
  await app.step('sign in as the owner', () => ownerSignedIn(app));
  await app.step('records on every list screen', async () => {
    await openScreen(app, 'leads');
    await app.click('leads-load-demo');
    await app.browser.$('[data-testid="lead-row"]').waitForExist({ timeout: 10000 });
    await openScreen(app, 'groups');
    await app.click('group-add');
    await app.type('group-name', 'Fair 2026');
    await app.click('group-save');
    await openScreen(app, 'quick_replies');
    await app.click('quick-reply-add');
    await app.type('quick-reply-name', 'hours');
    await app.type('quick-reply-message', 'We are open 9 to 5.');
    await app.click('quick-reply-save');
    await openScreen(app, 'templates');
    await app.click('templates-sync');
    await app.browser.$('[data-testid="template-row"]').waitForExist({ timeout: 20000 });
    await openScreen(app, 'bulk_contacts');
    await app.click('contact-add');
    await app.type('contact-name', 'Ana Ruiz');
    await app.type('contact-phone', '+1 201 555 0101');
    await app.click('contact-save');
    await app.browser.$('[data-testid="contact-row"]').waitForExist({ timeout: 10000 });
  });

  const problems = [];
  for (const [w, h] of SIZES) {
    await app.step(`${w}×${h}`, async () => {
      await app.browser.setWindowSize(w, h);
      await app.browser.waitUntil(async () => (await app.browser.execute(() => window.innerWidth)) <= w, { timeout: 5000 });
      for (const [screen, rowId, actions] of SCREENS) {
        await openScreen(app, screen);
        await app.browser.$(`[data-testid="${rowId}"]`).waitForExist({ timeout: 20000, timeoutMsg: `no ${rowId} on ${screen}` });
        await app.browser.pause(150);
        await app.browser.saveScreenshot(join(shots, `${screen}-${w}x${h}.png`));
        for (const r of await app.browser.execute(reach, rowId, actions)) {
          if (r.problem) problems.push(`${w}×${h} ${screen}: ${r.id} ${r.problem}`);
        }
        // The content uses the width: no empty strip of more than a fifth of the window.
        const gap = await app.browser.execute(() => {
          const main = document.querySelector('main.content > *');
          if (!main) return 0;
          return window.innerWidth - main.getBoundingClientRect().right;
        });
        if (gap > w / 10) problems.push(`${w}×${h} ${screen}: an empty strip of ${Math.round(gap)} px on the right`);
      }
    });
  }
  assert.deepEqual(problems, [], problems.join('\n'));

  await app.step('at 1024×700 the sidebar is icons only, a row click opens the record, the sidebar unfolds', async () => {
    await app.browser.setWindowSize(1024, 700);
    await app.browser.waitUntil(async () => (await app.el('sidebar').getAttribute('data-compact')) === 'true', {
      timeout: 5000,
      timeoutMsg: 'the sidebar is not compact in a narrow window',
    });
    await openScreen(app, 'leads');
    await app.browser.$('[data-testid="lead-row"] [role="cell"]').click();
    await app.waitFor('lead-form');
    await app.browser.keys('Escape');
    await app.el('lead-form').waitForExist({ reverse: true, timeout: 5000 });
    await app.click('sidebar-toggle');
    assert.equal(await app.el('sidebar').getAttribute('data-compact'), 'false');
    await app.browser.saveScreenshot(join(shots, 'leads-1024x700-sidebar-open.png'));
    await app.click('sidebar-toggle');
    assert.equal(await app.el('sidebar').getAttribute('data-compact'), 'true');
  });
});
