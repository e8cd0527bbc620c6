// api.js: the one client for Rose's HTTP API (/api/v1), used by every page.
//
// Every failure becomes an ApiError so pages handle errors in one way:
//   status  the HTTP status, or 0 when the server could not be reached or the stream broke
//   code    the server's machine code ("rate_limited", ...), or our own: "network",
//           "bad_response", "stream_cut"
//   message the server's words for a person, when it sent any
//   retryAfter seconds to wait (429), requestId for the operator's logs.

import { readEvents } from './sse.js';

export const API_BASE = '/api/v1';

// The server refuses longer messages with 413 (issue 3); the page counts bytes as it does.
export const MESSAGE_MAX_BYTES = 4000;

const encoder = new TextEncoder();

export function byteLength(text) {
    return encoder.encode(text).length;
}

export class ApiError extends Error {
    constructor(status, code, message, { requestId = '', retryAfter = null } = {}) {
        super(message || code);
        this.name = 'ApiError';
        // The server's own words for a person ('' when it sent none): pages show these, never
        // the code that Error.message falls back to.
        this.serverMessage = message || '';
        this.status = status;
        this.code = code;
        this.requestId = requestId;
        this.retryAfter = retryAfter;
    }
}

// Retry-After is either delay-seconds or an HTTP date. Returns whole seconds, or null.
export function parseRetryAfter(value, now = Date.now()) {
    if (value === null || value === undefined) return null;
    const text = String(value).trim();
    if (/^\d+$/.test(text)) return Number(text);
    const when = Date.parse(text);
    if (Number.isNaN(when)) return null;
    return Math.max(0, Math.ceil((when - now) / 1000));
}

// A fresh random id for Idempotency-Key. crypto.randomUUID exists only in secure contexts
// (https or localhost); getRandomValues works everywhere.
export function newId() {
    if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function isAbort(err) {
    return err && err.name === 'AbortError';
}

function networkError() {
    return new ApiError(0, 'network', '');
}

async function errorFrom(res) {
    let body = null;
    try {
        body = await res.json();
    } catch {
        // a proxy's HTML error page, or nothing at all: the status still tells what happened
    }
    const field = (name) => (body && typeof body[name] === 'string' ? body[name] : '');
    return new ApiError(res.status, field('error') || `http_${res.status}`, field('message'), {
        requestId: field('request_id') || res.headers.get('X-Request-ID') || '',
        retryAfter: parseRetryAfter(res.headers.get('Retry-After')),
    });
}

async function readJson(res) {
    try {
        return await res.json();
    } catch {
        throw new ApiError(res.status, 'bad_response', '', {
            requestId: res.headers.get('X-Request-ID') || '',
        });
    }
}

function headersFor(token, extra = {}) {
    const h = { Accept: 'application/json', ...extra };
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
}

async function send(method, path, { token = null, body, headers = {}, signal } = {}) {
    const init = { method, headers: headersFor(token, headers), signal, cache: 'no-store' };
    if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    try {
        return await fetch(API_BASE + path, init);
    } catch (err) {
        if (isAbort(err)) throw err;
        throw networkError();
    }
}

async function call(method, path, options) {
    const res = await send(method, path, options);
    if (!res.ok) throw await errorFrom(res);
    return readJson(res);
}

// GET /health. The server answers 503 with the same document when its database is unusable,
// so any response with a JSON body and a status field is returned as it is.
export async function getHealth({ signal } = {}) {
    const res = await send('GET', '/health', { signal });
    let body = null;
    try {
        body = await res.json();
    } catch {
        body = null;
    }
    if (body && typeof body.status === 'string') return body;
    throw res.ok ? new ApiError(res.status, 'bad_response', '') : await errorFrom(res);
}

// POST /session/start. With a token the session belongs to that returning user; without
// one the server makes an anonymous user and returns its user_token (once).
export function startSession(token) {
    return call('POST', '/session/start', { token, body: {} });
}

export function getSession(sessionId, token) {
    return call('GET', `/session/${encodeURIComponent(sessionId)}`, { token });
}

export async function getMessages(sessionId, token) {
    const data = await call('GET', `/session/${encodeURIComponent(sessionId)}/messages`, { token });
    return Array.isArray(data.messages) ? data.messages : [];
}

function replyFrom(data, streamed) {
    if (!data || typeof data.text !== 'string') throw new ApiError(200, 'bad_response', '');
    return {
        text: data.text,
        workflow: data.workflow || '',
        timings: data.timings || {},
        streamed,
    };
}

function parseEventData(ev) {
    try {
        return JSON.parse(ev.data);
    } catch {
        return null;
    }
}

// One chat turn. Asks for a stream and calls onToken(piece, textSoFar) as Rose's words
// arrive; resolves with {text, workflow, timings, streamed} once the turn is done.
//
// If the stream cannot start (connection refused or reset, no readable body, or the stream
// ends before its first event) the turn is sent again as a plain JSON request. Both requests
// carry the same Idempotency-Key, so the server runs the turn at most once. An HTTP error
// (413, 429, 503, ...) is a real answer and is not retried. A stream that breaks after Rose
// started speaking rejects with code "stream_cut"; the partial text is not a finished reply.
export async function sendChat({ sessionId, message, token, onToken = () => {}, signal }) {
    const body = { session_id: sessionId, message };
    const idem = newId();
    const plain = async () => {
        const data = await call('POST', '/chat', {
            token, body, signal, headers: { 'Idempotency-Key': idem },
        });
        const reply = replyFrom(data, false);
        onToken(reply.text, reply.text);
        return reply;
    };

    let res;
    try {
        res = await send('POST', '/chat', {
            token, body, signal,
            headers: { Accept: 'text/event-stream', 'Idempotency-Key': idem },
        });
    } catch (err) {
        if (isAbort(err)) throw err;
        return plain();
    }
    if (res.status === 406) return plain();
    if (!res.ok) throw await errorFrom(res);

    const type = res.headers.get('Content-Type') || '';
    if (!type.includes('text/event-stream')) {
        // The server chose a plain answer; that is allowed.
        const reply = replyFrom(await readJson(res), false);
        onToken(reply.text, reply.text);
        return reply;
    }
    if (!res.body) return plain();

    const requestId = res.headers.get('X-Request-ID') || '';
    let seen = false;
    let text = '';
    try {
        for await (const ev of readEvents(res.body)) {
            seen = true;
            const data = parseEventData(ev);
            if (ev.event === 'token') {
                if (data && typeof data.text === 'string' && data.text !== '') {
                    text += data.text;
                    onToken(data.text, text);
                }
            } else if (ev.event === 'done') {
                const reply = replyFrom(data, true);
                // The final text is authoritative (the server strips markup from the whole).
                if (reply.text !== text) onToken('', reply.text);
                return reply;
            } else if (ev.event === 'error') {
                const field = (name) => (data && typeof data[name] === 'string' ? data[name] : '');
                throw new ApiError(0, field('error') || 'stream_error', field('message'), {
                    requestId: field('request_id') || requestId,
                });
            }
            // Other events (transcript, audio for voice turns) do not concern a text turn.
        }
    } catch (err) {
        if (isAbort(err) || err instanceof ApiError) throw err;
        if (!seen) return plain();
        throw new ApiError(0, 'stream_cut', '', { requestId });
    }
    if (!seen) return plain();
    throw new ApiError(0, 'stream_cut', '', { requestId });
}

// Only same-origin paths are shown or played: the server hands out /api/v1/... URLs.
// Returns the path, or '' for anything else.
export function localPath(value) {
    return typeof value === 'string' && /^\/(?!\/)/.test(value) ? value : '';
}

// One voice turn: POST /voice/process with the recording (a WAV Blob) as the "audio" part,
// asking for a stream (DESIGN.md §6). As the answer arrives:
//   onTranscript(text)        what Rose heard
//   onToken(piece, soFar)     Rose's words as they are written
//   onAudio(url, index)       each sentence's speech, as soon as it is made
// Resolves with {transcript, text, audioUrl, audioUrls, durationMs, timings}: her reply and
// where its speech can be fetched, a sentence a piece (audioUrls; [] if none could be made;
// audioUrl is the first). A server that answers with plain JSON is read the same way. The turn
// is not retried here: the server may have run it, and the page offers "Send again". An error
// after the stream began rejects with the server's code (or "stream_cut" if it just broke).
// timeoutMs ends a request that hangs (an ApiError with status 504, code "timeout").
export async function sendVoice({
    sessionId, audio, token, signal, timeoutMs = 120_000,
    onTranscript = () => {}, onToken = () => {}, onAudio = () => {},
}) {
    const form = new FormData();
    form.append('session_id', sessionId);
    form.append('audio', audio, 'recording.wav');

    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
        timedOut = true;
        ctrl.abort();
    }, timeoutMs);
    const stop = () => ctrl.abort();
    if (signal) signal.addEventListener('abort', stop, { once: true });
    const replyOf = (data, requestId) => {
        if (!data || typeof data.text !== 'string') {
            throw new ApiError(200, 'bad_response', '', { requestId });
        }
        const audioUrls = (Array.isArray(data.audio_urls) ? data.audio_urls : [data.audio_url])
            .map(localPath).filter((u) => u !== '');
        return {
            transcript: typeof data.transcript === 'string' ? data.transcript : '',
            text: data.text,
            audioUrl: audioUrls[0] || '',
            audioUrls,
            durationMs: Number(data.duration_ms) || 0,
            timings: data.timings || {},
        };
    };
    let requestId = '';
    try {
        let res;
        try {
            // No Content-Type here: the browser writes it with the multipart boundary.
            res = await fetch(`${API_BASE}/voice/process`, {
                method: 'POST',
                headers: headersFor(token, { Accept: 'text/event-stream, application/json;q=0.9' }),
                body: form,
                signal: ctrl.signal,
                cache: 'no-store',
            });
        } catch (err) {
            if (timedOut) throw new ApiError(504, 'timeout', '');
            if (isAbort(err)) throw err;
            throw networkError();
        }
        if (!res.ok) throw await errorFrom(res);
        requestId = res.headers.get('X-Request-ID') || '';
        if (!(res.headers.get('Content-Type') || '').includes('text/event-stream') || !res.body) {
            let data;
            try {
                data = await readJson(res);
            } catch (err) {
                if (timedOut) throw new ApiError(504, 'timeout', '');
                throw err;
            }
            return replyOf(data, requestId);
        }
        let text = '';
        let pieces = 0;
        for await (const ev of readEvents(res.body)) {
            const data = parseEventData(ev);
            const field = (name) => (data && typeof data[name] === 'string' ? data[name] : '');
            if (ev.event === 'transcript') {
                onTranscript(field('transcript'));
            } else if (ev.event === 'token') {
                if (field('text') !== '') {
                    text += field('text');
                    onToken(field('text'), text);
                }
            } else if (ev.event === 'audio') {
                const url = localPath(field('url'));
                if (url) onAudio(url, pieces++);
            } else if (ev.event === 'done') {
                return replyOf(data, requestId);
            } else if (ev.event === 'error') {
                throw new ApiError(0, field('error') || 'stream_error', field('message'), {
                    requestId: field('request_id') || requestId,
                });
            }
        }
        throw new ApiError(0, 'stream_cut', '', { requestId });
    } catch (err) {
        if (timedOut) throw new ApiError(504, 'timeout', '');
        if (err instanceof ApiError || isAbort(err)) throw err;
        throw new ApiError(0, 'stream_cut', '', { requestId }); // the body broke off midway
    } finally {
        clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', stop);
    }
}
