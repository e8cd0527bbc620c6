// test_sse.mjs: the page's SSE parser (www/js/sse.js) under node, no browser, no server.
// Every way a network read can cut a stream: each split point, CRLF halves, UTF-8 halves.
//   node tests/browser/test_sse.mjs

import { runTest } from './lib.mjs';
import { SSEParser, readEvents } from '../../www/js/sse.js';

function parseChunks(chunks) {
    const p = new SSEParser();
    const out = [];
    for (const c of chunks) out.push(...p.push(c));
    out.push(...p.end());
    return out;
}

const brief = (evs) => JSON.stringify(evs.map((e) => [e.event, e.data]));

function bytesStream(chunks) {
    return new ReadableStream({
        start(controller) {
            for (const c of chunks) controller.enqueue(c);
            controller.close();
        },
    });
}

async function collect(body) {
    const out = [];
    for await (const ev of readEvents(body)) out.push(ev);
    return out;
}

await runTest('sse', async (tap) => {
    const stream = 'event: token\ndata: {"text":"Hel"}\n\n'
        + ': a comment\n\n'
        + 'event: token\r\ndata: {"text":"lo"}\r\n\r\n'
        + 'event: done\rdata: {"text":"Hello"}\r\r';
    const want = brief([
        { event: 'token', data: '{"text":"Hel"}' },
        { event: 'token', data: '{"text":"lo"}' },
        { event: 'done', data: '{"text":"Hello"}' },
    ]);

    tap.ok(brief(parseChunks([stream])) === want, 'LF, CRLF and CR line ends; comments skipped', brief(parseChunks([stream])));

    let bad = [];
    for (let i = 0; i <= stream.length; i += 1) {
        const got = brief(parseChunks([stream.slice(0, i), stream.slice(i)]));
        if (got !== want) bad.push(`split at ${i}: ${got}`);
    }
    tap.ok(bad.length === 0, 'the same events whatever single point the stream is split at', bad.slice(0, 3).join('\n'));

    bad = [];
    for (let i = 1; i < stream.length; i += 1) {
        for (let j = i + 1; j < stream.length; j += 7) {
            const got = brief(parseChunks([stream.slice(0, i), stream.slice(i, j), stream.slice(j)]));
            if (got !== want) bad.push(`split at ${i},${j}: ${got}`);
        }
    }
    tap.ok(bad.length === 0, 'the same events when split at two points', bad.slice(0, 3).join('\n'));

    tap.ok(brief(parseChunks([...stream])) === want, 'the same events fed one character at a time');

    const crlf = parseChunks(['data: a\r', '\n', '\r', '\ndata: b\r\n\r\n']);
    tap.ok(brief(crlf) === brief([{ event: 'message', data: 'a' }, { event: 'message', data: 'b' }]),
        'a CRLF split between reads is one line end, not two', brief(crlf));

    const multi = parseChunks(['data: one\ndata: two\ndata\n\n']);
    tap.ok(multi.length === 1 && multi[0].data === 'one\ntwo\n', 'data lines join with newlines', JSON.stringify(multi));

    const fields = parseChunks(['\ufeffevent:token\ndata:x\nid: 7\nretry: 10\nbogus: 1\n\n']);
    tap.ok(fields.length === 1 && fields[0].event === 'token' && fields[0].data === 'x' && fields[0].id === '7',
        'a BOM, fields without a space, id, and unknown fields', JSON.stringify(fields));

    const noData = parseChunks(['event: token\n\nevent: done\ndata: {}\n\n']);
    tap.ok(noData.length === 1 && noData[0].event === 'done', 'an event with no data is not dispatched and its name does not leak',
        JSON.stringify(noData));

    const cut = parseChunks(['event: token\ndata: {"text":"a"}\n\nevent: done\ndata: {"text":"a"}\n']);
    tap.ok(cut.length === 1 && cut[0].event === 'token', 'an event without its closing blank line is dropped at the end',
        JSON.stringify(cut));

    // Bytes: "é" (c3 a9) and "🌿" (f0 9f 8c bf) split across reads.
    const bytes = new TextEncoder().encode('event: token\ndata: {"text":"café 🌿"}\n\n');
    const at = bytes.indexOf(0xa9);
    const leaf = bytes.indexOf(0xf0);
    const evs = await collect(bytesStream([bytes.slice(0, at), bytes.slice(at, leaf + 2), bytes.slice(leaf + 2)]));
    tap.ok(evs.length === 1 && JSON.parse(evs[0].data).text === 'café 🌿', 'UTF-8 characters split across reads come out whole',
        JSON.stringify(evs));

    const one = [];
    for (const b of bytes) one.push(Uint8Array.of(b));
    const evs1 = await collect(bytesStream(one));
    tap.ok(evs1.length === 1 && JSON.parse(evs1[0].data).text === 'café 🌿', 'a stream delivered one byte per read');

    // Stopping early (after "done") cancels the body so the connection is closed.
    let cancelled = false;
    const endless = new ReadableStream({
        pull(controller) { controller.enqueue(new TextEncoder().encode('event: done\ndata: {}\n\n')); },
        cancel() { cancelled = true; },
    });
    for await (const ev of readEvents(endless)) {
        if (ev.event === 'done') break;
    }
    tap.ok(cancelled, 'leaving the loop early cancels the response body');
});
