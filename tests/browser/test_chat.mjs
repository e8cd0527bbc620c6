// test_chat.mjs: the chat page in headless Chromium against a running Rose: a session
// starts, two turns stream, and a reload restores the transcript.
//   BASE_URL=http://127.0.0.1:8080 node tests/browser/test_chat.mjs

import {
    DESKTOP, PHONE, attempt, baseUrl, checkProblems, firstPage, launch, runTest, screenshot,
} from './lib.mjs';

const FIRST = 'Hello Rose. My grandmother died last spring and I still miss her.';
const SECOND = 'Today I found her old garden gloves in the shed.';

await runTest('chat', async (tap) => {
    const base = baseUrl(tap);
    const { context, close } = await launch({ viewport: DESKTOP });
    try {
        const page = await firstPage(context);

        // Every chat request and its response, to check the page asked for a stream.
        const turns = [];
        page.on('response', async (res) => {
            const req = res.request();
            if (req.method() !== 'POST' || !new URL(req.url()).pathname.endsWith('/api/v1/chat')) return;
            turns.push({
                accept: (await req.allHeaders()).accept || '',
                status: res.status(),
                type: (await res.allHeaders())['content-type'] || '',
            });
        });

        const res = await page.goto(`${base}/chat.html`, { waitUntil: 'load' });
        tap.ok(res && res.status() === 200, 'GET /chat.html answers 200', res ? `status ${res.status()}` : 'no response');
        tap.ok(/Rose/.test(await page.title()), 'title names Rose', await page.title());

        const ready = await attempt(tap, () => page.waitForSelector('main[data-state="ready"]', { timeout: 15_000 }));
        const stored = await page.evaluate(() => ({
            session: localStorage.getItem('rose.session_id'),
            token: localStorage.getItem('rose.user_token'),
        }));
        tap.ok(ready && stored.session, 'a session starts and its id is kept in localStorage', JSON.stringify(stored));
        tap.ok(Boolean(stored.token), 'the new user token is kept in localStorage');
        const emptyShown = await page.locator('#empty').isVisible();
        tap.ok(emptyShown && (await page.locator('#messages > li').count()) === 0,
            'a new conversation starts empty, with a welcome');

        const input = page.getByLabel('Your message to Rose');
        const send = page.getByRole('button', { name: 'Send', exact: true });
        tap.ok(await send.isDisabled(), 'Send is disabled while the box is empty');

        // Hold the first turn's request back a moment so the in-flight state can be seen.
        let release;
        const held = new Promise((resolve) => { release = resolve; });
        await page.route('**/api/v1/chat', async (route) => {
            await held;
            await route.continue();
        }, { times: 1 });

        // Turn 1: typed, sent with Enter.
        await input.fill(FIRST);
        await input.press('Enter');
        const inFlight = await attempt(tap, () => page.waitForSelector('main[data-state="sending"]', { timeout: 5000 }));
        tap.ok(inFlight && await send.isDisabled(), 'Send is disabled while a turn is in flight');
        release();
        await attempt(tap, () => page.waitForSelector('.msg--rose[data-state="done"]', { timeout: 30_000 }));
        const users1 = await page.locator('.msg--user .msg__text').allTextContents();
        const roses1 = await page.locator('.msg--rose[data-state="done"] .msg__text').allTextContents();
        tap.ok(users1.length === 1 && users1[0] === FIRST, 'the first message appears as a user bubble', JSON.stringify(users1));
        tap.ok(roses1.length === 1 && roses1[0].trim() !== '', 'Rose answers the first message', JSON.stringify(roses1));
        tap.ok((await input.inputValue()) === '', 'the message box is cleared after sending');

        // Turn 2: sent with the button.
        await input.fill(SECOND);
        await send.click();
        await attempt(tap, () => page.waitForFunction(
            () => document.querySelectorAll('.msg--rose[data-state="done"]').length === 2, null, { timeout: 30_000 }));
        const users = await page.locator('.msg--user .msg__text').allTextContents();
        const roses = await page.locator('.msg--rose[data-state="done"] .msg__text').allTextContents();
        tap.ok(users.length === 2 && users[1] === SECOND, 'both user messages are shown, in order', JSON.stringify(users));
        tap.ok(roses.length === 2 && roses.every((t) => t.trim() !== ''), 'Rose answers both messages', JSON.stringify(roses));
        await attempt(tap, () => page.waitForFunction(
            (want) => document.getElementById('announcer').textContent === `Rose: ${want}`, roses[1], { timeout: 5000 }));
        const announced = await page.locator('#announcer').textContent();
        tap.ok(announced === `Rose: ${roses[1]}`, "Rose's last reply is announced to screen readers", announced);

        tap.ok(turns.length >= 2 && turns.every((t) => t.accept.includes('text/event-stream')),
            'the page asks for a streamed reply', JSON.stringify(turns));
        tap.ok(turns.length === 2 && turns.every((t) => t.status === 200 && t.type.includes('text/event-stream')),
            'each turn was one request answered as text/event-stream', JSON.stringify(turns));

        await screenshot(page, 'chat.png');
        await page.setViewportSize(PHONE);
        const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
        tap.ok(overflow <= 0, 'nothing overflows sideways on a 390 px phone', `overflow ${overflow}px`);
        await screenshot(page, 'chat-phone.png', { fullPage: false });
        await page.setViewportSize(DESKTOP);
        checkProblems(tap, page, '/chat.html');

        // Reload: the same session comes back with its transcript.
        await page.reload({ waitUntil: 'load' });
        await attempt(tap, () => page.waitForSelector('main[data-state="ready"]', { timeout: 15_000 }));
        await attempt(tap, () => page.waitForFunction(
            () => document.querySelectorAll('#messages > li.msg').length >= 4, null, { timeout: 10_000 }));
        const again = await page.evaluate(() => localStorage.getItem('rose.session_id'));
        tap.ok(again === stored.session, 'the reload resumes the same session', `${stored.session} -> ${again}`);
        const restored = await page.locator('#messages > li.msg').evaluateAll((lis) => lis.map((li) => ({
            role: li.dataset.role,
            text: li.querySelector('.msg__text').textContent,
        })));
        const want = [
            { role: 'user', text: FIRST }, { role: 'assistant', text: roses[0] },
            { role: 'user', text: SECOND }, { role: 'assistant', text: roses[1] },
        ];
        tap.ok(JSON.stringify(restored) === JSON.stringify(want), 'the transcript is restored after a reload',
            `got ${JSON.stringify(restored)}\nwant ${JSON.stringify(want)}`);
        tap.ok(await page.locator('#empty').isHidden(), 'the welcome is not shown over a restored conversation');
        checkProblems(tap, page, '/chat.html after reload');
    } finally {
        await close();
    }
});
