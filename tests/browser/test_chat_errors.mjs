// test_chat_errors.mjs: how the chat page behaves when things go wrong. The session comes
// from the running Rose at BASE_URL; each chat answer below is made up by the test (the
// browser's request interception), so every error the contract allows can be shown on demand.
//   BASE_URL=http://127.0.0.1:8080 node tests/browser/test_chat_errors.mjs

import {
    PHONE, attempt, baseUrl, firstPage, launch, problemsOf, runTest, screenshot,
} from './lib.mjs';

const CHAT = '**/api/v1/chat';

function errorBody(code, message, requestId) {
    return JSON.stringify({ error: code, message, request_id: requestId });
}

function sse(events) {
    return events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');
}

await runTest('chat-errors', async (tap) => {
    const base = baseUrl(tap);
    const { context, close } = await launch({ viewport: PHONE });
    try {
        const page = await firstPage(context);
        await page.goto(`${base}/chat.html`, { waitUntil: 'load' });
        const ready = await attempt(tap, () => page.waitForSelector('main[data-state="ready"]', { timeout: 15_000 }));
        tap.ok(Boolean(ready), 'the chat page opens a session');
        await screenshot(page, 'chat-empty-phone.png', { fullPage: false });

        const input = page.getByLabel('Your message to Rose');
        const send = page.getByRole('button', { name: 'Send', exact: true });
        const notice = page.locator('#notice');
        const noticeText = () => notice.innerText();
        const bubbles = () => page.locator('#messages > li.msg').count();

        // Chat requests seen by the fake, for checks on headers.
        let seen = [];
        const fake = async (handler) => {
            seen = [];
            await page.unroute(CHAT);
            await page.route(CHAT, async (route) => {
                const req = route.request();
                seen.push({ accept: req.headers().accept || '', key: req.headers()['idempotency-key'] || '', body: req.postData() });
                await handler(route, seen.length);
            });
        };
        const submit = async (text) => {
            await input.fill(text);
            await send.click();
            await page.waitForSelector('main[data-state="ready"]', { timeout: 10_000 });
        };

        // ---- the byte counter: 4,000 bytes, not characters ----
        await input.fill('é'.repeat(2001));             // 4,002 bytes
        tap.ok(await page.locator('#count').getAttribute('data-level') === 'over' && await send.isDisabled(),
            'over 4,000 bytes the counter warns and Send is disabled', await page.locator('#count').innerText());
        tap.ok(await input.getAttribute('aria-invalid') === 'true', 'the too-long box is marked invalid for assistive tech');
        await screenshot(page, 'chat-too-long-phone.png', { fullPage: false });
        await input.fill('é'.repeat(2000));             // exactly 4,000 bytes
        tap.ok(await send.isEnabled(), 'exactly 4,000 bytes may be sent', await page.locator('#count').innerText());

        // ---- 413 from the server ----
        await fake((route) => route.fulfill({
            status: 413, contentType: 'application/json', body: errorBody('too_large', 'Too long.', 'req-413'),
        }));
        await submit('A message the server finds too long');
        tap.ok(/longer than Rose can take in/.test(await noticeText()), '413 explains the message is too long', await noticeText());
        tap.ok(await input.inputValue() === 'A message the server finds too long' && await bubbles() === 0,
            'after a failed turn the words are back in the box and no half turn stays on screen');
        tap.ok(/Reference: req-413/.test(await noticeText()), 'the request id is shown for support', await noticeText());

        // ---- 429 with Retry-After ----
        await fake((route) => route.fulfill({
            status: 429, contentType: 'application/json', headers: { 'Retry-After': '3' },
            body: errorBody('rate_limited', 'Slow down.', 'req-429'),
        }));
        await submit('Are you there?');
        const wait = await noticeText();
        tap.ok(/faster than Rose can answer/.test(wait) && /wait [1-3] seconds?/.test(wait),
            '429 asks to wait the seconds from Retry-After', wait);
        tap.ok(await send.isDisabled(), 'Send stays disabled during the wait');
        await screenshot(page, 'chat-429-phone.png', { fullPage: false });
        await attempt(tap, () => page.waitForFunction(
            () => !document.getElementById('send').disabled, null, { timeout: 6000 }));
        tap.ok(await send.isEnabled() && /send again now/.test(await noticeText()),
            'Send comes back when the wait is over', await noticeText());
        tap.ok(seen.length === 1, 'a 429 is not retried by the page', `requests: ${seen.length}`);

        // ---- 503 and 504 ----
        await fake((route) => route.fulfill({
            status: 503, contentType: 'application/json', body: errorBody('unavailable', 'Down.', 'req-503'),
        }));
        await submit('Hello?');
        tap.ok(/resting/.test(await noticeText()) && await page.locator('#notice-action').isVisible(),
            '503 says Rose is resting and offers to send again', await noticeText());
        await fake((route) => route.fulfill({
            status: 504, contentType: 'application/json', body: errorBody('timeout', 'Slow.', 'req-504'),
        }));
        await submit('Hello again?');
        tap.ok(/took too long/.test(await noticeText()), '504 says Rose took too long', await noticeText());

        // ---- network loss: the stream cannot start, the plain retry cannot either ----
        await fake((route) => route.abort('internetdisconnected'));
        await submit('Is the line open?');
        tap.ok(/can't be reached|offline/.test(await noticeText()), 'network loss is explained', await noticeText());
        tap.ok(seen.length === 2 && seen[0].accept.includes('text/event-stream') && !seen[1].accept.includes('text/event-stream'),
            'a stream that cannot start is retried once as plain JSON', JSON.stringify(seen.map((s) => s.accept)));
        tap.ok(seen.length === 2 && seen[0].key !== '' && seen[0].key === seen[1].key,
            'the retry carries the same Idempotency-Key', JSON.stringify(seen.map((s) => s.key)));
        const body = seen[0] ? JSON.parse(seen[0].body) : {};
        const sid = await page.evaluate(() => localStorage.getItem('rose.session_id'));
        tap.ok(body.session_id === sid && body.message === 'Is the line open?',
            'the chat request carries session_id and message', seen[0] && seen[0].body);

        // ---- the stream fails to start, the plain JSON answer arrives ----
        await fake((route, n) => (n === 1
            ? route.abort('connectionreset')
            : route.fulfill({
                status: 200, contentType: 'application/json',
                body: JSON.stringify({ session_id: sid, text: 'I am here with you.', workflow: 'conversation', timings: {} }),
            })));
        await submit('Still there?');
        const plainReply = await page.locator('.msg--rose[data-state="done"] .msg__text').allTextContents();
        tap.ok(plainReply.length === 1 && plainReply[0] === 'I am here with you.',
            'when the stream fails to start, the plain JSON reply is shown', JSON.stringify(plainReply));
        tap.ok(await notice.isHidden(), 'a successful fallback shows no error');

        // ---- a streamed turn: tokens, then done whose text is the final word ----
        await fake((route) => route.fulfill({
            status: 200, contentType: 'text/event-stream',
            body: `: keep-alive\n\n${sse([['token', { text: 'Grief is ' }], ['token', { text: 'love *sighs*' }],
                ['done', { text: 'Grief is love.', workflow: 'conversation', timings: { total_ms: 5 } }]])}`,
        }));
        await submit('What is grief?');
        const streamed = await page.locator('.msg--rose[data-state="done"] .msg__text').allTextContents();
        tap.ok(streamed[streamed.length - 1] === 'Grief is love.', "the done event's text replaces the streamed tokens",
            JSON.stringify(streamed));

        // ---- an error event in the stream ----
        const before = await bubbles();
        await fake((route) => route.fulfill({
            status: 200, contentType: 'text/event-stream',
            body: sse([['token', { text: 'I wond' }],
                ['error', { error: 'upstream_failed', message: 'Rose lost her thread. Please try again.', request_id: 'req-sse' }]]),
        }));
        await submit('Tell me a story.');
        tap.ok(/Rose lost her thread/.test(await noticeText()) && /req-sse/.test(await noticeText()),
            "an error event shows the server's words and request id", await noticeText());
        tap.ok(await bubbles() === before, 'the half reply of a failed stream is taken back', `${before} -> ${await bubbles()}`);

        // ---- errors without the server's words: the page's own, never a bare code ----
        await fake((route) => route.fulfill({
            status: 400, contentType: 'text/html', body: '<html><body>Bad Request</body></html>',
        }));
        await submit('A message a proxy refuses');
        tap.ok(/could not read that message/.test(await noticeText()) && !/http_400/.test(await noticeText()),
            "a 400 with no JSON body gets the page's own words, not the code", await noticeText());
        await fake((route) => route.fulfill({
            status: 200, contentType: 'text/event-stream',
            body: sse([['token', { text: 'I wond' }], ['error', { error: 'upstream_failed' }]]),
        }));
        await submit('Another story?');
        tap.ok(/could not finish her reply/.test(await noticeText()) && !/upstream_failed/.test(await noticeText()),
            "an error event without a message gets the page's own words", await noticeText());

        // ---- a stream cut off before done ----
        await fake((route) => route.fulfill({
            status: 200, contentType: 'text/event-stream', body: sse([['token', { text: 'Some of my' }]]),
        }));
        await submit('And then?');
        tap.ok(/connection dropped/.test(await noticeText()), 'a stream cut off midway is explained', await noticeText());

        // ---- the session vanished (404): a new one starts, the words are kept ----
        await fake((route) => route.fulfill({
            status: 404, contentType: 'application/json', body: errorBody('not_found', 'Gone.', 'req-404'),
        }));
        await submit('Do you remember me?');
        await attempt(tap, () => page.waitForFunction(
            (old) => localStorage.getItem('rose.session_id') && localStorage.getItem('rose.session_id') !== old,
            sid, { timeout: 10_000 }));
        const sid2 = await page.evaluate(() => localStorage.getItem('rose.session_id'));
        tap.ok(sid2 && sid2 !== sid, 'a 404 on chat starts a new session', `${sid} -> ${sid2}`);
        tap.ok(await input.inputValue() === 'Do you remember me?' && /new one has begun/.test(await noticeText()),
            'the person is told and their words are kept', await noticeText());
        tap.ok(await page.locator('.msg-divider').count() === 1, 'a divider marks where the new conversation begins');

        // ---- New conversation ----
        await page.unroute(CHAT);
        await page.getByRole('button', { name: 'New conversation' }).click();
        await attempt(tap, () => page.waitForFunction(
            (old) => localStorage.getItem('rose.session_id') !== old && document.querySelectorAll('#messages > li').length === 0,
            sid2, { timeout: 10_000 }));
        const sid3 = await page.evaluate(() => localStorage.getItem('rose.session_id'));
        tap.ok(sid3 && sid3 !== sid2 && await bubbles() === 0 && await page.locator('#empty').isVisible(),
            'New conversation starts a fresh, empty session', `${sid2} -> ${sid3}`);

        // The browser itself logs each failed request; anything else is a fault of the page.
        const p = problemsOf(page);
        const unexpected = p.console.filter((m) => !/Failed to load resource|net::ERR_/.test(m));
        tap.ok(unexpected.length === 0, 'no console errors besides the failed requests the test made',
            unexpected.join('\n'));
        tap.ok(p.errors.length === 0, 'no uncaught page errors', p.errors.join('\n'));
        tap.ok(p.csp.length === 0, 'no Content-Security-Policy violations', p.csp.map((v) => JSON.stringify(v)).join('\n'));
    } finally {
        await close();
    }
});
