// The sandbox played from the app, as a new user would: Chat is empty and offers the sandbox
// panel; a simulated customer writes from it; a customer known only by username sends a sticker
// that the window decodes, then writes once showing only their number and once showing both, and
// the two conversations become one; a customer writes from an ad, edits, orders and deletes a message and
// the thread shows each; the sandbox clock moves past the 24-hour window and the conversation says so.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ARTIFACTS, launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

test('the sandbox panel: customers write, the clock closes the window', async (t) => {
  const app = await launch(t);
  t.after(() => app.quit());
  await app.step('sign in as the owner', () => ownerSignedIn(app));

  await app.step('an empty Chat offers the sandbox panel; a customer writes from it', async () => {
    await openScreen(app, 'chat');
    await app.click('chat-empty-sandbox');
    await app.waitFor('sandbox-panel');
    await app.click('sandbox-customer-ben');
    await app.type('sandbox-text', 'Hello from the sandbox panel');
    await app.click('sandbox-write');
    await app.browser.waitUntil(async () => (await app.texts('toast')).some((x) => x.includes('wrote')), {
      timeout: 10000,
      timeoutMsg: 'no toast saying the customer wrote',
    });
    await app.click('sandbox-close');
    const row = app.browser.$('[data-testid="conversation-row"]');
    await row.waitForExist({ timeout: 20000, timeoutMsg: 'the conversation never appeared' });
    await app.browser.waitUntil(async () => (await app.texts('conversation-row')).join(' ').includes('Hello from the sandbox panel'), {
      timeout: 10000,
      timeoutMsg: 'the conversation does not show what the customer wrote',
    });
  });

  await app.step('a customer known only by username sends a sticker, from the sidebar', async () => {
    await app.click('sandbox-panel-open');
    await app.waitFor('sandbox-panel');
    const usernameOnly = await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid^="sandbox-customer-"]'))
        .find((e) => e.closest('label').textContent.includes('no phone number'))
        ?.getAttribute('data-testid'),
    );
    assert.ok(usernameOnly, 'the panel lists a customer without a phone number');
    await app.click(usernameOnly);
    await (await app.waitFor('sandbox-kind')).selectByAttribute('value', 'sticker');
    await app.click('sandbox-write');
    await app.click('sandbox-close');
    await app.browser.waitUntil(async () => (await app.browser.$$('[data-testid="conversation-row"]')).length === 2, {
      timeout: 20000,
      timeoutMsg: 'the username-only customer’s conversation never appeared',
    });
    // The sticker is a real WebP the window decodes (512 × 512, as WhatsApp's are).
    await (await app.browser.$$('[data-testid="conversation-row"]'))[0].click();
    await app.waitFor('media-image', 20000);
    let size = null;
    await app.browser.waitUntil(
      async () => {
        size = await app.browser.execute(() => {
          const img = document.querySelector('[data-testid="media-image"]');
          return img && img.complete ? [img.naturalWidth, img.naturalHeight] : null;
        });
        return size !== null;
      },
      { timeout: 10000, timeoutMsg: 'the sticker never loaded' },
    );
    assert.deepEqual(size, [512, 512], 'the sticker decoded');
    // Known by username alone, the customer is a new lead all the same.
    const linked = await app.waitFor('linked-record', 10000);
    assert.equal(await linked.getAttribute('data-kind'), 'lead');
  });

  await app.step('the username-only customer is added to Bulk Contacts, shown there by username', async () => {
    await app.click('link-menu');
    await app.click('link-new-contact');
    await app.browser.waitUntil(async () => (await (await app.waitFor('linked-record')).getAttribute('data-kind')) === 'contact', {
      timeout: 10000,
      timeoutMsg: 'the conversation was not linked to a new contact',
    });
    await openScreen(app, 'bulk_contacts');
    await app.browser.waitUntil(async () => (await app.texts('contact-username')).some((x) => x.includes('@dara.sandbox')), {
      timeout: 10000,
      timeoutMsg: `the contact without a number is not listed by username: ${await app.texts('contact-row')}`,
    });
    await openScreen(app, 'chat');
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="conversation-row"]'))
        .find((e) => e.textContent.includes('Dara'))
        .click(),
    );
    await app.waitFor('linked-record', 10000);
  });

  await app.step('the username-only customer writes once from their number, then with both: one conversation again', async () => {
    const rows = async () => (await app.texts('conversation-row')).filter((x) => x.includes('Dara'));
    assert.equal((await rows()).length, 1, 'Dara has one conversation');
    assert.ok((await rows())[0].includes('@dara.sandbox') || (await app.texts('conversation-username')).some((x) => x.includes('dara.sandbox')), `the username shows: ${await rows()}`);
    await app.click('sandbox-panel-open');
    await app.waitFor('sandbox-panel');
    await app.click('sandbox-customer-dara');
    await (await app.waitFor('sandbox-kind')).selectByAttribute('value', 'text_from_number');
    await app.type('sandbox-text', 'From my phone this time');
    await app.click('sandbox-write');
    await app.browser.waitUntil(async () => (await rows()).length === 2, {
      timeout: 20000,
      timeoutMsg: 'a webhook with only the number did not start a second conversation',
    });
    await (await app.waitFor('sandbox-kind')).selectByAttribute('value', 'text_showing_all');
    await app.type('sandbox-text', 'Now you see both');
    await app.click('sandbox-write');
    await app.click('sandbox-close');
    await app.browser.waitUntil(async () => (await rows()).length === 1, {
      timeout: 20000,
      timeoutMsg: `the two conversations never became one: ${await rows()}`,
    });
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="conversation-row"]'))
        .find((e) => e.textContent.includes('Dara'))
        .click(),
    );
    await app.waitForText('chat-handle', '@dara.sandbox', 10000);
    await app.waitForText('chat-handle', '555', 10000);
    await app.waitFor('linked-record', 10000);
    const texts = (await app.texts('message')).join(' | ');
    for (const said of ['From my phone this time', 'Now you see both']) {
      assert.ok(texts.includes(said), `the merged thread has “${said}”: ${texts}`);
    }
  });

  await app.step("the linked lead shows the customer's WhatsApp username", async () => {
    await openScreen(app, 'leads');
    await app.browser.waitUntil(async () => (await app.texts('lead-row')).some((r) => r.includes('Dara')), {
      timeout: 10000,
      timeoutMsg: 'no lead for Dara',
    });
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="lead-row"]'))
        .find((r) => r.textContent.includes('Dara'))
        .querySelector('[data-testid="lead-edit"]')
        .click(),
    );
    await app.waitForText('lead-username', '@dara.sandbox', 10000);
    await app.browser.keys('Escape');
    await openScreen(app, 'chat');
  });

  await app.step('a customer writes from an ad, edits it, orders, deletes a message and calls', async () => {
    await app.click('sandbox-panel-open');
    await app.waitFor('sandbox-panel');
    await app.click('sandbox-customer-eve');
    const write = async (kind, text) => {
      await (await app.waitFor('sandbox-kind')).selectByAttribute('value', kind);
      if (text !== undefined) await app.type('sandbox-text', text);
      const before = (await app.texts('toast')).length;
      await app.click('sandbox-write');
      await app.browser.waitUntil(async () => (await app.texts('toast')).length > before || (await app.texts('toast')).some((x) => x.includes('Eve')), {
        timeout: 10000,
        timeoutMsg: `no toast after “${kind}”`,
      });
      assert.equal((await app.texts('toast-error')).length, 0, `the ${kind} step was refused: ${await app.texts('toast-error')}`);
    };
    await write('from_ad', 'Is the offer still on?');
    await write('edit_last', 'Is the 20% offer still on?');
    await write('order');
    await write('text', 'Oops, wrong chat');
    await write('delete_last');
    await write('calls');
    await write('missed_call');
    await app.click('sandbox-close');
    await app.browser.waitUntil(async () => (await app.texts('conversation-row')).some((x) => x.includes('Eve')), {
      timeout: 20000,
      timeoutMsg: 'Eve’s conversation never appeared',
    });
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="conversation-row"]'))
        .find((e) => e.textContent.includes('Eve'))
        .click(),
    );
    await app.waitForText('message-ad', 'Spring offer', 20000);
    await app.waitForText('message-deleted', 'This message was deleted', 20000);
    await app.browser.waitUntil(
      async () => {
        const notes = await app.texts('message-system');
        return notes.some((x) => x.includes('Call from the customer ended after 1 min 5 s')) && notes.some((x) => x.includes('Missed call from the customer'));
      },
      { timeout: 20000, timeoutMsg: 'the calls are not in the thread' },
    );
    const texts = (await app.texts('message')).join(' | ');
    assert.ok(texts.includes('Is the 20% offer still on?'), `the edit shows: ${texts}`);
    assert.ok(!texts.includes('Oops, wrong chat'), `the deleted message's words are gone: ${texts}`);
    assert.equal((await app.texts('message-edited')).length, 1, 'one message is marked edited');
    const total = (await app.texts('message-order-total'))[0] ?? '';
    assert.ok(total.includes('136'), `the order's total is 40 × 2.50 + 2 × 18.00: ${total}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await app.browser.saveScreenshot(join(ARTIFACTS, 'sandbox-kinds.png'));
  });

  await app.step('25 hours later (sandbox clock) the window is closed', async () => {
    await app.click('sandbox-panel-open');
    await app.click('sandbox-advance-25');
    await app.waitForText('sandbox-clock', 'ahead of real time');
    await app.click('sandbox-close');
    await openScreen(app, 'quick_replies');
    await openScreen(app, 'chat');
    const rows = await app.browser.$$('[data-testid="conversation-row"]');
    await rows[rows.length - 1].click();
    await app.waitForText('window-state', 'closed', 10000);
  });

  await app.step("the business replies from its phone (WhatsApp Business app): the thread shows it as the phone's", async () => {
    await app.click('sandbox-panel-open');
    await app.click('sandbox-customer-ben');
    await (await app.waitFor('sandbox-kind')).selectByAttribute('value', 'phone_writes');
    await app.type('sandbox-text', 'Sent from the shop phone');
    await app.click('sandbox-write');
    await app.click('sandbox-close');
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="conversation-row"]'))
        .find((e) => e.textContent.includes('Ben'))
        .click(),
    );
    await app.browser.waitUntil(async () => (await app.texts('message')).some((m) => m.includes('Sent from the shop phone') && m.includes('the phone')), {
      timeout: 20000,
      timeoutMsg: "the phone's message is not in Ben's thread as the phone's",
    });
  });

  await app.step("Meta's own AI agent takes Ben's conversation and answers: the thread shows both, the header says who answers", async () => {
    await openScreen(app, 'chat');
    await app.click('sandbox-panel-open');
    await app.click('sandbox-customer-ben');
    await (await app.waitFor('sandbox-kind')).selectByAttribute('value', 'to_meta_agent');
    await app.type('sandbox-text', 'Is my order on its way?');
    await app.click('sandbox-write');
    await app.click('sandbox-close');
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="conversation-row"]'))
        .find((e) => e.textContent.includes('Ben'))
        .click(),
    );
    await app.waitFor('agent-holds', 20000);
    await app.browser.waitUntil(
      async () => {
        const all = await app.texts('message');
        return all.some((m) => m.includes('Is my order on its way?')) && all.some((m) => m.includes("I'm the business's AI assistant") && m.includes("Meta's AI agent"));
      },
      { timeout: 20000, timeoutMsg: "the customer's words and the agent's reply are not both in Ben's thread" },
    );
  });

  await app.step('Meta restricts the account: the banner says so above every screen, until dismissed', async () => {
    await app.click('sandbox-panel-open');
    await app.click('sandbox-account-restrict');
    await app.click('sandbox-close');
    const notice = await app.waitFor('account-notice', 20000);
    assert.equal(await notice.getAttribute('data-severity'), 'critical');
    assert.match((await app.texts('account-notice'))[0], /Meta restricted the WhatsApp Business Account.*starting conversations/);
    await openScreen(app, 'leads');
    await app.waitFor('account-notice');
    await app.click('account-dismiss');
    await app.browser.waitUntil(async () => (await app.els('account-notice')).length === 0, {
      timeout: 10000,
      timeoutMsg: 'the dismissed notice stayed',
    });
  });
});
