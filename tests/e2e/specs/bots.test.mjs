// Bots in the window (issue 22): a menu bot made from the list opens in the flow editor on its
// starter flow; a button title over WhatsApp's 20 characters is refused on save with its node
// highlighted; the simulator runs the draft (buttons, the chosen branch's answer, the hand-off);
// removing the middle button keeps the other branches' edges; publish, turn on; a second bot on
// the same words is refused naming both. Then at work: a simulated customer triggers it, taps a
// button and gets that branch's answer, asks for a person; the rep takes over and the bot stays
// silent. Screenshots in tests/e2e/artifacts/.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ARTIFACTS, launch, openScreen, ownerSignedIn } from '../lib/harness.mjs';

/** The canvas's nodes: kind, the editor's id, and each output port's branch label and edge count. */
function canvasNodes() {
  return Array.from(document.querySelectorAll('[data-testid="flow-node"]')).map((n) => ({
    id: n.id.replace('node-', ''),
    kind: n.dataset.kind,
    problem: n.classList.contains('fn-problem'),
    here: n.classList.contains('fn-here'),
    ports: Array.from(n.querySelectorAll('.outputs .output')).map((p) => p.dataset.branch),
    figures: n.dataset.figures ?? '',
  }));
}

/** Edges as "from:port→to" from Drawflow's SVG connections. */
function canvasEdges() {
  return Array.from(document.querySelectorAll('.drawflow .connection')).map((c) => {
    const cls = Array.from(c.classList);
    const from = cls.find((x) => x.startsWith('node_out_')).replace('node_out_node-', '');
    const to = cls.find((x) => x.startsWith('node_in_')).replace('node_in_node-', '');
    const port = cls.find((x) => /^output_\d+$/.test(x));
    return `${from}:${port}→${to}`;
  });
}

/** Closes the toasts: they sit over the simulator's controls in the window's corner. */
/**
 * Selects a node on the canvas and waits for its inspector field. The canvas is fitted to its
 * nodes in the frame after it loads, so a click aimed before that lands beside the node: aim again.
 */
async function openNode(app, id, field) {
  await app.browser.waitUntil(
    async () => {
      await app.browser.$(`#node-${id}`).click();
      return app.browser.$(`[data-testid="${field}"]`).isDisplayed();
    },
    { timeout: 10000, interval: 500, timeoutMsg: `node ${id} did not open its inspector (${field})` },
  );
}

async function dismissToasts(app) {
  await app.browser.execute(() => document.querySelectorAll('.toast .dismiss').forEach((b) => b.click()));
}

test('bots: draw, simulate, publish and turn on a menu bot', async (t) => {
  const app = await launch(t);
  t.after(() => app.quit());
  mkdirSync(ARTIFACTS, { recursive: true });
  await app.step('sign in as the owner', () => ownerSignedIn(app));

  await app.step('the Bots screen is empty and offers to make the first bot', async () => {
    await openScreen(app, 'bots');
    await app.waitFor('bots-empty');
  });

  await app.step('a menu bot opens in the editor on its starter flow', async () => {
    await app.click('bot-add');
    await app.type('bot-name', 'Prices menu');
    await (await app.waitFor('bot-kind')).selectByAttribute('value', 'menu');
    await app.type('bot-trigger-words', 'price');
    await app.click('bot-save');
    await app.waitFor('bot-editor');
    await app.browser.waitUntil(async () => (await app.browser.execute(canvasNodes)).length === 4, {
      timeout: 10000,
      timeoutMsg: 'the starter flow did not appear',
    });
    const nodes = await app.browser.execute(canvasNodes);
    assert.deepEqual(nodes.map((n) => n.kind).sort(), ['ask_buttons', 'hand_off', 'send_text', 'start']);
    const ask = nodes.find((n) => n.kind === 'ask_buttons');
    assert.deepEqual(ask.ports, ['Prices', 'Talk to a person', 'anything else', 'no answer', 'send failed']);
  });

  await app.step('a button title over 20 characters is refused on save, its node highlighted', async () => {
    const ask = (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'ask_buttons');
    await openNode(app, ask.id, 'node-inspector');
    const titles = await app.els('node-choice-title');
    await titles[0].clearValue();
    await titles[0].setValue('Prices and packages 2027');
    await app.click('bot-save-draft');
    await app.waitFor('flow-problems');
    assert.match(await app.text('flow-problems'), /24 characters long; WhatsApp allows at most 20/);
    const again = (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'ask_buttons');
    assert.ok(again.problem, 'the node is highlighted');
    await app.browser.saveScreenshot(join(ARTIFACTS, 'bot-editor-refused.png'));
    const fixed = await app.els('node-choice-title');
    await fixed[0].clearValue();
    await fixed[0].setValue('Prices');
    await app.click('bot-save-draft');
    await app.el('flow-problems').waitForExist({ reverse: true, timeout: 10000 });
  });

  await app.step('the simulator runs the draft: buttons, the branch, the hand-off', async () => {
    await dismissToasts(app);
    await app.click('tab-simulator');
    await app.type('sim-first', 'what is the price?');
    await app.click('sim-start');
    await app.browser.waitUntil(async () => (await app.texts('sim-button')).length === 2, { timeout: 10000, timeoutMsg: 'no buttons' });
    assert.deepEqual(await app.texts('sim-button'), ['Prices', 'Talk to a person']);
    const here = (await app.browser.execute(canvasNodes)).find((n) => n.here);
    assert.equal(here?.kind, 'ask_buttons', 'the canvas shows where the customer is');
    await app.browser.execute(() => document.querySelectorAll('[data-testid="sim-button"]')[0].click());
    await app.browser.waitUntil(async () => (await app.texts('sim-bot')).some((x) => x.startsWith('Our prices start at')), {
      timeout: 10000,
      timeoutMsg: 'the Prices branch did not answer',
    });
    assert.match((await app.texts('sim-note')).join(' | '), /The flow ended/);
    await app.click('sim-start');
    // A new conversation: one customer line, the question's two buttons.
    await app.browser.waitUntil(async () => (await app.texts('sim-customer')).length === 1 && (await app.texts('sim-button')).length === 2, {
      timeout: 10000,
      timeoutMsg: 'the simulation did not start again',
    });
    await app.browser.execute(() => {
      const buttons = document.querySelectorAll('[data-testid="sim-button"]');
      buttons[buttons.length - 1].click();
    });
    await app.browser.waitUntil(async () => (await app.texts('sim-note')).some((x) => x.includes('Handed off to a person')), {
      timeout: 10000,
      timeoutMsg: 'no hand-off',
    });
    await app.browser.saveScreenshot(join(ARTIFACTS, 'bot-editor-simulator.png'));
  });

  await app.step('removing the middle of three buttons keeps the other branches where they were', async () => {
    await app.click('tab-node');
    const ask = (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'ask_buttons');
    await openNode(app, ask.id, 'node-choice-add');
    await app.click('node-choice-add');
    await app.browser.waitUntil(async () => (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'ask_buttons').ports.length === 6);
    const before = await app.browser.execute(canvasEdges);
    const handOff = (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'hand_off');
    assert.ok(before.includes(`${ask.id}:output_2→${handOff.id}`), `${before}`);
    // Remove "Talk to a person" (the middle of three) and put the new third button where it was.
    await (await app.els('node-choice-remove'))[1].click();
    await app.browser.waitUntil(async () => (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'ask_buttons').ports.length === 5);
    const after = await app.browser.execute(canvasEdges);
    const text = (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'send_text');
    assert.ok(after.includes(`${ask.id}:output_1→${text.id}`), `Prices keeps its edge: ${after}`);
    assert.ok(!after.some((e) => e.startsWith(`${ask.id}:output_2→`)), `the removed button's edge is gone: ${after}`);
    // Undo brings the middle button and its edge back.
    await app.click('flow-undo');
    await app.browser.waitUntil(async () => (await app.browser.execute(canvasEdges)).includes(`${ask.id}:output_2→${handOff.id}`), {
      timeout: 5000,
      timeoutMsg: 'undo did not bring the edge back',
    });
    await app.click('flow-undo');
    await app.browser.waitUntil(async () => (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'ask_buttons').ports.length === 5);
  });

  await app.step('publish, back to the list, turn it on', async () => {
    await dismissToasts(app);
    await app.click('bot-publish');
    await app.waitForText('bot-editor-version', 'v1 published', 10000);
    await app.click('bot-editor-back');
    await app.waitFor('bots-list');
    await app.waitForText('bot-version', 'v1');
    await app.click('bot-active');
    await app.browser.waitUntil(async () => (await app.texts('toast')).some((x) => x.includes('is on')), { timeout: 10000, timeoutMsg: 'not on' });
    await app.browser.saveScreenshot(join(ARTIFACTS, 'bots-list.png'));
  });

  await app.step('a second bot on the same words is refused, naming both', async () => {
    await app.click('bot-add');
    await app.type('bot-name', 'Price list');
    await app.type('bot-trigger-words', 'price list');
    await app.click('bot-save');
    await app.waitFor('bot-editor');
    await app.click('bot-publish');
    await app.waitForText('bot-editor-version', 'v1 published', 10000);
    await app.click('bot-editor-back');
    await app.browser.waitUntil(async () => (await app.texts('bot-row')).length === 2, { timeout: 10000 });
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="bot-row"]'))
        .find((r) => r.dataset.name === 'Price list')
        .querySelector('[data-testid="bot-active"]')
        .click(),
    );
    await app.browser.waitUntil(async () => (await app.texts('toast-error')).some((x) => x.includes('would answer the same messages as “Prices menu”')), {
      timeout: 10000,
      timeoutMsg: 'the overlap was not refused',
    });
  });
  /** A simulated customer (the sandbox panel) writes or taps; the panel closes again. */
  const customer = async (kind, words, who = 'eve') => {
    await dismissToasts(app);
    await app.click('sandbox-panel-open');
    await app.waitFor('sandbox-panel');
    await app.click(`sandbox-customer-${who}`);
    await (await app.waitFor('sandbox-kind')).selectByAttribute('value', kind);
    await app.type('sandbox-text', words);
    await app.click('sandbox-write');
    await app.click('sandbox-close');
  };
  /** The open thread's messages, bot lines marked. */
  const thread = () =>
    app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="message"]')).map((m) => {
        const bot = m.querySelector('[data-testid="message-bot"]');
        const text = m.textContent.replace(/\s+/g, ' ').trim();
        return bot ? `BOT ${text}` : text;
      }),
    );
  const until = async (what, test) => {
    let last = [];
    await app.browser.waitUntil(
      async () => {
        last = await thread();
        return test(last);
      },
      { timeout: 20000, timeoutMsg: `${what}: ${last.join(' | ')}` },
    );
    return last;
  };

  await app.step('at work: a customer writes “price”, the bot asks with its buttons', async () => {
    await openScreen(app, 'chat');
    await customer('text', 'Hello, what is the price of a roof check?');
    await app.browser.waitUntil(async () => (await app.texts('conversation-row')).some((x) => x.includes('Eve')), {
      timeout: 20000,
      timeoutMsg: 'Eve’s conversation never appeared',
    });
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="conversation-row"]'))
        .find((e) => e.textContent.includes('Eve'))
        .click(),
    );
    const lines = await until('the bot never asked', (l) => l.some((x) => x.startsWith('BOT') && x.includes('How can we help?')));
    const question = lines.find((x) => x.startsWith('BOT'));
    assert.ok(question.includes('Prices menu') && question.includes('Prices') && question.includes('Talk to a person'), question);
  });

  await app.step('she taps Prices and gets that branch’s answer', async () => {
    await customer('button_reply', 'Prices');
    await until('no answer to the tap', (l) => l.some((x) => x.startsWith('BOT') && x.includes('Our prices start at')));
  });

  await app.step('she asks for a person: the bot hands over; the rep takes over and the bot stays silent', async () => {
    await customer('text', 'price again, please');
    await until('the bot did not ask again', (l) => l.filter((x) => x.startsWith('BOT') && x.includes('How can we help?')).length === 2);
    await customer('button_reply', 'Talk to a person');
    await until('the tap did not arrive', (l) => l.filter((x) => x.includes('Talk to a person')).length >= 3);
    // The bot answers a burst once its 1.5 s debounce is over (the hand-off to "whoever picks it
    // up" only notifies): the rep writes after that, as a person reading the notice would. A rep
    // who wrote sooner would simply have taken over from the bot, with no hand-off to count.
    await new Promise((r) => setTimeout(r, 3000));
    const input = await app.waitFor('composer-input');
    await input.setValue('Hi Eve, this is Olivia. I can come on Monday.');
    await app.browser.keys('Enter');
    await until('the rep’s reply did not show', (l) => l.some((x) => !x.startsWith('BOT') && x.includes('I can come on Monday')));
    const bots = (await thread()).filter((x) => x.startsWith('BOT')).length;
    await customer('text', 'Great. And the price for gutters?');
    await until('her question did not arrive', (l) => l.some((x) => x.includes('price for gutters')));
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await thread()).filter((x) => x.startsWith('BOT')).length, bots, 'the bot stayed silent after the rep wrote');
    await app.browser.saveScreenshot(join(ARTIFACTS, 'bot-at-work.png'));
  });
  await app.step('the editor shows each node’s figures: entered, handed off, messages sent', async () => {
    await openScreen(app, 'bots');
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="bot-row"]'))
        .find((r) => r.dataset.name === 'Prices menu')
        .querySelector('[data-testid="bot-open"]')
        .click(),
    );
    await app.waitFor('bot-editor');
    let nodes = [];
    await app.browser.waitUntil(
      async () => {
        nodes = await app.browser.execute(canvasNodes);
        const ask = nodes.find((n) => n.kind === 'ask_buttons');
        const handOff = nodes.find((n) => n.kind === 'hand_off');
        return ask?.figures.includes('2 in') && ask.figures.includes('2 sent') && handOff?.figures.includes('1 handed off');
      },
      { timeout: 10000, timeoutMsg: `no figures on the canvas: ${JSON.stringify(nodes.map((n) => [n.kind, n.figures]))}` },
    );
    await app.browser.saveScreenshot(join(ARTIFACTS, 'bot-editor-figures.png'));
    await app.click('bot-editor-back');
  });

  await app.step('an AI bot answers from its knowledge text through the sandbox stand-in', async () => {
    await openScreen(app, 'bots');
    await app.click('bot-add');
    await app.type('bot-name', 'Opening hours');
    await (await app.waitFor('bot-kind')).selectByAttribute('value', 'ai');
    await app.type('bot-trigger-words', 'open');
    await app.click('bot-save');
    await app.waitFor('bot-editor');
    await app.browser.waitUntil(async () => (await app.browser.execute(canvasNodes)).some((n) => n.kind === 'ai_reply'), { timeout: 10000 });
    const ai = (await app.browser.execute(canvasNodes)).find((n) => n.kind === 'ai_reply');
    await openNode(app, ai.id, 'node-knowledge');
    await app.type('node-knowledge', 'We open at 9 and close at 18. Roof checks cost 80 euros.');
    await app.click('bot-publish');
    await app.waitForText('bot-editor-version', 'v1 published', 10000);
    await app.click('bot-editor-back');
    await app.browser.waitUntil(async () => (await app.texts('bot-row')).length === 3, { timeout: 10000 });
    await dismissToasts(app);
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="bot-row"]'))
        .find((r) => r.dataset.name === 'Opening hours')
        .querySelector('[data-testid="bot-active"]')
        .click(),
    );
    await app.browser.waitUntil(async () => (await app.texts('toast')).some((x) => x.includes('“Opening hours” is on')), { timeout: 10000 });
    await openScreen(app, 'chat');
    await customer('text', 'Hello! When do you open tomorrow?', 'ben');
    await app.browser.waitUntil(async () => (await app.texts('conversation-row')).some((x) => x.includes('Ben')), { timeout: 20000 });
    await app.browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="conversation-row"]'))
        .find((e) => e.textContent.includes('Ben'))
        .click(),
    );
    await until('the AI bot did not answer', (l) => l.some((x) => x.startsWith('BOT') && x.includes('We open at 9 and close at 18.') && x.includes('Opening hours')));
    await app.browser.saveScreenshot(join(ARTIFACTS, 'bot-ai-answer.png'));
  });

  await app.step("the business hours a bot's condition reads are set in Settings, in a time zone", async () => {
    await openScreen(app, 'settings');
    await app.waitFor('settings-hours-default', 10000);
    const zone = await app.waitFor('settings-hours-zone');
    await zone.clearValue();
    await zone.setValue('Europe/Atlantis');
    await app.click('settings-hours-save');
    await app.waitForText('settings-hours-error', 'is not a time zone', 10000);
    await zone.clearValue();
    await zone.setValue('Europe/Bucharest');
    await app.click('settings-hours-open-5');
    await app.click('settings-hours-save');
    await app.browser.waitUntil(async () => (await app.texts('toast')).some((x) => x.includes('Business hours saved (Europe/Bucharest)')), {
      timeout: 10000,
      timeoutMsg: 'the hours were not saved',
    });
    assert.equal(await app.el('settings-hours-default').isExisting(), false, 'no longer the default');
    assert.equal(await app.el('settings-hours-opens-5').isExisting(), true, 'Saturday is open now');
    (await app.el('settings-hours')).scrollIntoView();
    await app.browser.saveScreenshot(join(ARTIFACTS, 'settings-business-hours.png'));
  });
});
