// test_api.mjs: the page's HTTP client (www/js/api.js) and session keeping
// (www/js/session.js) under node, with fetch and localStorage replaced by fakes that
// answer as the contract says. No browser, no server.
//   node tests/browser/test_api.mjs

import { runTest } from './lib.mjs';

// ---- fakes ------------------------------------------------------------------------------

const store = new Map();
globalThis.localStorage = {
    getItem: (k) => (store.has(k) ? store.get(k) : null),
    setItem: (k, v) => store.set(k, String(v)),
    removeItem: (k) => store.delete(k),
};

let script = [];        // handlers, one per expected request, in order
let calls = [];
globalThis.fetch = async (url, init = {}) => {
    const call = { url, method: init.method || 'GET', headers: { ...(init.headers || {}) }, body: init.body };
    calls.push(call);
    const next = script.shift();
    if (!next) throw new Error(`unexpected request ${call.method} ${url}`);
    return next(call);
};

function json(status, obj, headers = {}) {
    return new Response(JSON.stringify(obj), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

function sseResponse(chunks) {
    const enc = new TextEncoder();
    const body = new ReadableStream({
        start(c) {
            for (const x of chunks) c.enqueue(enc.encode(x));
            c.close();
        },
    });
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream', 'X-Request-ID': 'rid-1' } });
}

function brokenSse(chunks) {
    const enc = new TextEncoder();
    let i = 0;
    const body = new ReadableStream({
        pull(c) {
            if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]));
            else c.error(new TypeError('network error'));
        },
    });
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

const errBody = (code) => ({ error: code, message: `words for ${code}`, request_id: `rid-${code}` });

function reset(handlers) {
    script = handlers;
    calls = [];
}

async function rejection(promise) {
    try {
        await promise;
        return null;
    } catch (err) {
        return err;
    }
}

const api = await import('../../www/js/api.js');
const session = await import('../../www/js/session.js');

await runTest('api', async (tap) => {
    // ---- a streamed turn ----
    reset([() => sseResponse([
        'event: token\ndata: {"text":"I am "}\n',
        '\nevent: token\ndata: {"text":"here."}\n\nevent: done\ndata: {"text":"I am here.","workflow":"conversation","timings":{"total_ms":3}}\n\n',
    ])]);
    const pieces = [];
    let reply = await api.sendChat({ sessionId: 's1', message: 'hi', token: 't1', onToken: (p, all) => pieces.push([p, all]) });
    tap.ok(reply.text === 'I am here.' && reply.streamed && reply.workflow === 'conversation' && reply.timings.total_ms === 3,
        'a streamed turn resolves with the done event', JSON.stringify(reply));
    tap.ok(JSON.stringify(pieces) === JSON.stringify([['I am ', 'I am '], ['here.', 'I am here.']]),
        'onToken sees each piece and the text so far', JSON.stringify(pieces));
    const c0 = calls[0];
    tap.ok(c0.url === '/api/v1/chat' && c0.method === 'POST' && c0.headers.Accept === 'text/event-stream'
        && c0.headers['Content-Type'] === 'application/json' && c0.headers.Authorization === 'Bearer t1'
        && /^[0-9a-f-]{36}$/.test(c0.headers['Idempotency-Key'])
        && c0.body === JSON.stringify({ session_id: 's1', message: 'hi' }),
    'the chat request: POST JSON {session_id, message}, Accept SSE, bearer, Idempotency-Key', JSON.stringify(c0));

    // ---- the server answers plain JSON to a stream request ----
    reset([() => json(200, { session_id: 's1', text: 'Plain.', workflow: 'conversation', timings: {} })]);
    reply = await api.sendChat({ sessionId: 's1', message: 'hi' });
    tap.ok(reply.text === 'Plain.' && !reply.streamed && calls.length === 1, 'a plain JSON answer is accepted as it is');

    // ---- the stream cannot start: one plain retry with the same key ----
    reset([
        () => { throw new TypeError('Failed to fetch'); },
        () => json(200, { session_id: 's1', text: 'Fallback.', workflow: 'conversation', timings: {} }),
    ]);
    reply = await api.sendChat({ sessionId: 's1', message: 'hi' });
    tap.ok(reply.text === 'Fallback.' && calls.length === 2 && calls[1].headers.Accept === 'application/json'
        && calls[0].headers['Idempotency-Key'] === calls[1].headers['Idempotency-Key'],
    'a stream that fails to start falls back to one plain request with the same Idempotency-Key',
    JSON.stringify(calls.map((c) => c.headers)));

    reset([
        () => sseResponse([': only a comment\n\n']),
        () => json(200, { session_id: 's1', text: 'Fallback.', workflow: 'conversation', timings: {} }),
    ]);
    reply = await api.sendChat({ sessionId: 's1', message: 'hi' });
    tap.ok(reply.text === 'Fallback.' && calls.length === 2, 'a stream that ends before any event falls back too');

    reset([
        () => brokenSse([]),
        () => json(200, { session_id: 's1', text: 'Fallback.', workflow: 'conversation', timings: {} }),
    ]);
    reply = await api.sendChat({ sessionId: 's1', message: 'hi' });
    tap.ok(reply.text === 'Fallback.' && calls.length === 2, 'a stream that errors before any event falls back too');

    // ---- a stream that breaks midway is an error, not a retry ----
    reset([() => brokenSse(['event: token\ndata: {"text":"Half"}\n\n'])]);
    let err = await rejection(api.sendChat({ sessionId: 's1', message: 'hi' }));
    tap.ok(err && err.code === 'stream_cut' && err.status === 0 && calls.length === 1,
        'a stream broken after Rose started is "stream_cut" and is not resent', String(err && err.code));

    reset([() => sseResponse(['event: token\ndata: {"text":"Half"}\n\nevent: done\ndata: {"te'])]);
    err = await rejection(api.sendChat({ sessionId: 's1', message: 'hi' }));
    tap.ok(err && err.code === 'stream_cut', 'a stream that ends without a complete done is "stream_cut"', String(err && err.code));

    reset([() => sseResponse(['event: token\ndata: {"text":"a"}\n\nevent: error\ndata: {"error":"upstream","message":"Rose lost her thread.","request_id":"r9"}\n\n'])]);
    err = await rejection(api.sendChat({ sessionId: 's1', message: 'hi' }));
    tap.ok(err && err.code === 'upstream' && err.message === 'Rose lost her thread.' && err.requestId === 'r9' && calls.length === 1,
        'an error event becomes an ApiError with its code, words and request id', JSON.stringify(err));

    // ---- HTTP errors are answers: no retry ----
    for (const [status, code, headers] of [[413, 'too_large', {}], [429, 'rate_limited', { 'Retry-After': '12' }],
        [503, 'unavailable', {}], [504, 'timeout', {}], [400, 'empty_message', {}]]) {
        reset([() => json(status, errBody(code), headers)]);
        err = await rejection(api.sendChat({ sessionId: 's1', message: 'hi' }));
        tap.ok(err instanceof api.ApiError && err.status === status && err.code === code && err.requestId === `rid-${code}`
            && err.message === `words for ${code}` && calls.length === 1
            && (status !== 429 || err.retryAfter === 12),
        `${status} becomes an ApiError (code, message, request id${status === 429 ? ', Retry-After' : ''}) and is not retried`,
        JSON.stringify(err));
    }

    reset([() => new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'Content-Type': 'text/html', 'X-Request-ID': 'px' } })]);
    err = await rejection(api.sendChat({ sessionId: 's1', message: 'hi' }));
    tap.ok(err && err.status === 502 && err.code === 'http_502' && err.requestId === 'px', "a proxy's HTML error page still gives a status",
        JSON.stringify(err));

    tap.ok(api.parseRetryAfter('7') === 7 && api.parseRetryAfter(null) === null && api.parseRetryAfter('soon') === null
        && api.parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1)) === 30,
    'Retry-After as seconds or as an HTTP date');
    tap.ok(api.byteLength('é'.repeat(2000)) === 4000 && api.byteLength('🌿') === 4, 'message length is counted in UTF-8 bytes');

    // ---- health: 503 still carries the document ----
    reset([() => json(503, { status: 'unhealthy', version: '1', services: {} })]);
    const h = await api.getHealth();
    tap.ok(h.status === 'unhealthy', 'a 503 health answer is still read as a health document');

    // ---- sessions ----
    store.clear();
    reset([(c) => {
        tap.ok(c.url === '/api/v1/session/start' && c.method === 'POST' && !c.headers.Authorization,
            'a first visit starts a session without a token', JSON.stringify(c));
        return json(201, { session_id: 'S1', user_id: 'U1', user_token: 'T1', message: 'ok' });
    }]);
    let s = await session.resumeOrStart();
    tap.ok(s.sessionId === 'S1' && !s.resumed && store.get('rose.session_id') === 'S1' && store.get('rose.user_token') === 'T1',
        'the new session id and user token are kept under rose.session_id and rose.user_token', JSON.stringify([...store]));

    reset([(c) => {
        tap.ok(c.url === '/api/v1/session/S1' && c.method === 'GET' && c.headers.Authorization === 'Bearer T1',
            'a return visit asks for the stored session with the bearer token', JSON.stringify(c));
        return json(200, { session_id: 'S1', created_at: '2026-01-01 10:00:00', last_active: 'x', message_count: 4, summary: '' });
    }]);
    s = await session.resumeOrStart();
    tap.ok(s.sessionId === 'S1' && s.resumed && s.info.message_count === 4, 'a session the server still has is resumed');

    reset([
        () => json(404, errBody('not_found')),
        (c) => {
            tap.ok(c.headers.Authorization === 'Bearer T1', 'after a 404 the new session is started for the same user');
            return json(201, { session_id: 'S2', user_id: 'U1', message: 'ok' });
        },
    ]);
    s = await session.resumeOrStart();
    tap.ok(s.sessionId === 'S2' && store.get('rose.session_id') === 'S2' && store.get('rose.user_token') === 'T1',
        'a gone session (404) is replaced and the token kept', JSON.stringify([...store]));

    reset([
        () => json(401, errBody('unauthorized')),
        () => json(401, errBody('unauthorized')),
        (c) => {
            tap.ok(!c.headers.Authorization, 'an unknown token is dropped and the person starts anew anonymously');
            return json(201, { session_id: 'S3', user_id: 'U2', user_token: 'T2', message: 'ok' });
        },
    ]);
    s = await session.resumeOrStart();
    tap.ok(s.sessionId === 'S3' && store.get('rose.user_token') === 'T2' && calls.length === 3,
        'a 401 on resume and start leads to a new anonymous user', JSON.stringify([...store]));

    reset([() => json(503, errBody('unavailable'))]);
    err = await rejection(session.resumeOrStart());
    tap.ok(err && err.status === 503 && store.get('rose.session_id') === 'S3',
        'a server that is down does not make the page forget the session', JSON.stringify([...store]));

    reset([() => { throw new TypeError('Failed to fetch'); }]);
    err = await rejection(session.resumeOrStart());
    tap.ok(err && err.code === 'network' && store.get('rose.session_id') === 'S3', 'neither does a lost network');

    tap.ok(script.length === 0, 'every scripted answer was used');
});
