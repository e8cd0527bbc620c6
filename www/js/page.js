// page.js: what the chat page and the voice page show alike: the notice (what went wrong,
// a reference for the operator, one action, a countdown after a 429), the words for a failed
// request, and a message bubble. Where a person is told about their message or their
// recording, each page keeps its own words.

import { ApiError } from './api.js';

// ---- the notice -------------------------------------------------------------------------

// The page's one place for trouble and notes: #notice with #notice-message,
// #notice-countdown, #notice-ref and #notice-action. After a 429 it counts down:
//   left(n)   the countdown's words while n seconds are left
//   over      {message, countdown}: the words once the wait is over (no message: it stays)
//   changed() repaints the page's controls when the wait begins and ends
export class Notice {
    constructor({ left, over, changed }) {
        const $ = (id) => document.getElementById(id);
        this.el = $('notice');
        this.message = $('notice-message');
        this.countdown = $('notice-countdown');
        this.ref = $('notice-ref');
        this.button = $('notice-action');
        this.words = { left, over };
        this.changed = changed;
        this.action = null;
        this.waitUntil = 0;     // after a 429: nothing is sent before this time (ms)
        this.waitTimer = 0;
        this.button.addEventListener('click', () => {
            const { action } = this;
            if (action) action();
        });
    }

    clear() {
        clearInterval(this.waitTimer);
        this.el.hidden = true;
        this.el.dataset.kind = '';
        this.message.textContent = '';
        this.countdown.textContent = '';
        this.ref.textContent = '';
        this.button.hidden = true;
        this.action = null;
    }

    // kind: "error" | "info". code, when given, goes to data-code for the tests.
    show(text, { kind = 'error', requestId = '', action = null, actionLabel = '', code } = {}) {
        this.clear();
        this.el.dataset.kind = kind;
        if (code !== undefined) this.el.dataset.code = code;
        this.message.textContent = text;
        this.ref.textContent = requestId ? `Reference: ${requestId}` : '';
        if (action) {
            this.button.textContent = actionLabel;
            this.button.hidden = false;
            this.action = action;
        }
        this.el.hidden = false;
    }

    // Shows text for a failed request; after a 429 the page waits as the server asked.
    error(text, err, options = {}) {
        this.show(text, { requestId: err.requestId || '', ...options });
        if (err instanceof ApiError && err.status === 429) this.wait(err.retryAfter);
    }

    waiting() {
        return Date.now() < this.waitUntil;
    }

    wait(seconds) {
        const secs = Math.max(1, Math.min(3600, seconds || 10));
        this.waitUntil = Date.now() + secs * 1000;
        const tick = () => {
            const left = Math.ceil((this.waitUntil - Date.now()) / 1000);
            if (left <= 0) {
                clearInterval(this.waitTimer);
                this.waitUntil = 0;
                const { over } = this.words;
                if (over.message !== undefined) this.message.textContent = over.message;
                this.countdown.textContent = over.countdown;
                this.el.dataset.kind = 'info';
                this.changed();
                return;
            }
            this.countdown.textContent = this.words.left(left);
        };
        tick();
        clearInterval(this.waitTimer);
        this.waitTimer = setInterval(tick, 1000);
        this.changed();
    }
}

// ---- the words for a failed request -----------------------------------------------------

// What to tell a person about a failed request; retry: the same request may simply be sent
// again. words holds the page's own wording, by what happened:
//   offline, unreachable  the server could not be reached (offline: the browser knows why)
//   cut                   the stream broke after Rose began to answer
//   broken                an error inside the stream
//   400 413 415 429 503   those answers (a page without 415 words it as any other 4xx)
//   server                any other 5xx
// The server's own message, written for a person, wins for a 400, a 415 and a stream error.
export function friendly(err, words) {
    if (!(err instanceof ApiError)) {
        return { text: 'Something went wrong on this page. Please reload it and try again.', retry: false };
    }
    switch (err.status) {
    case 0:
        if (err.code === 'network') {
            return { text: navigator.onLine === false ? words.offline : words.unreachable, retry: true };
        }
        if (err.code === 'stream_cut') return { text: words.cut, retry: true };
        return { text: err.serverMessage || words.broken, retry: true };
    case 400:
        return { text: err.serverMessage || words[400], retry: false };
    case 413:
        return { text: words[413], retry: false };
    case 415:
        if (words[415]) return { text: err.serverMessage || words[415], retry: false };
        break;
    case 429:
        return { text: words[429], retry: false };
    case 503:
        return { text: words[503], retry: true };
    case 504:
        return { text: 'Rose took too long to answer. Please try again.', retry: true };
    default:
        break;
    }
    if (err.status >= 500) return { text: words.server, retry: true };
    return { text: 'Something went wrong. Please reload the page and try again.', retry: false };
}

// ---- messages ---------------------------------------------------------------------------

// One message: Rose's avatar beside her words, and a bubble that tells screen readers who
// spoke. tag is the element made (li, div); its .msg__bubble takes what else the page shows.
export function messageElement(tag, role, text) {
    const mine = role === 'user';
    const msg = document.createElement(tag);
    msg.className = `msg ${mine ? 'msg--user' : 'msg--rose'}`;
    msg.dataset.role = mine ? 'user' : 'assistant';
    if (!mine) {
        const avatar = document.createElement('img');
        avatar.className = 'msg__avatar';
        avatar.src = 'favicon.svg';
        avatar.alt = '';
        avatar.width = 28;
        avatar.height = 28;
        msg.append(avatar);
    }
    const box = document.createElement('div');
    box.className = 'msg__bubble';
    const who = document.createElement('span');
    who.className = 'visually-hidden';
    who.textContent = mine ? 'You said: ' : 'Rose said: ';
    const body = document.createElement('p');
    body.className = 'msg__text';
    body.textContent = text;
    box.append(who, body);
    msg.append(box);
    return msg;
}

// The three dots that say Rose (or the person's words) are on their way.
export function typingDots() {
    const typing = document.createElement('span');
    typing.className = 'typing';
    typing.setAttribute('aria-hidden', 'true');
    typing.append(...[0, 1, 2].map(() => document.createElement('span')));
    return typing;
}
