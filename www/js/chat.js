// chat.js: the chat page. Opens (or resumes) a conversation, shows its transcript, and
// sends turns with Rose's reply streamed into the page as it is written.
//
// The page's state is visible in main[data-state]: starting | ready | sending | error
// and each message's in li[data-state]: streaming | done. The browser tests wait on these.

import { initNav } from './nav.js';
import { ApiError, MESSAGE_MAX_BYTES, byteLength, getMessages, sendChat } from './api.js';
import { forgetSession, resumeOrStart, startNew } from './session.js';

const $ = (id) => document.getElementById(id);
const els = {
    main: $('main'),
    info: $('session-info'),
    newChat: $('new-chat'),
    empty: $('empty'),
    list: $('messages'),
    loading: $('loading'),
    announcer: $('announcer'),
    form: $('composer'),
    input: $('message'),
    send: $('send'),
    count: $('count'),
    countHint: $('count-hint'),
    notice: $('notice'),
    noticeMessage: $('notice-message'),
    noticeCountdown: $('notice-countdown'),
    noticeRef: $('notice-ref'),
    noticeAction: $('notice-action'),
};

const state = {
    sessionId: null,
    token: null,
    ready: false,       // a session is open
    busy: false,        // a turn or a session change is in flight
    waitUntil: 0,       // after a 429: no sending before this time (ms)
    waitTimer: 0,
    noticeAction: null,
};

const numberFormat = new Intl.NumberFormat();

// ---- time -------------------------------------------------------------------------------

// created_at may be ISO 8601, SQLite's "YYYY-MM-DD HH:MM:SS" (UTC, no zone), or epoch
// seconds or milliseconds. Returns a Date or null.
function parseTime(value) {
    if (typeof value === 'number' && Number.isFinite(value)) {
        return new Date(value < 1e12 ? value * 1000 : value);
    }
    if (typeof value !== 'string' || value === '') return null;
    let text = value.trim();
    if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text)) {
        text = `${text.replace(' ', 'T')}Z`;
    }
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : new Date(ms);
}

function formatTime(date) {
    const now = new Date();
    const sameDay = date.toDateString() === now.toDateString();
    const opts = sameDay
        ? { hour: 'numeric', minute: '2-digit' }
        : { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' };
    return date.toLocaleString(undefined, opts);
}

// ---- messages ---------------------------------------------------------------------------

// Only same-origin paths are shown as media: the server hands out /api/v1/... URLs.
function localUrl(value) {
    return typeof value === 'string' && /^\/(?!\/)/.test(value) ? value : null;
}

function messageEl(role, text, { createdAt = new Date(), state: st = 'done', audioUrl, imageUrl } = {}) {
    const mine = role === 'user';
    const li = document.createElement('li');
    li.className = `msg ${mine ? 'msg--user' : 'msg--rose'}`;
    li.dataset.role = mine ? 'user' : 'assistant';
    li.dataset.state = st;

    if (!mine) {
        const avatar = document.createElement('img');
        avatar.className = 'msg__avatar';
        avatar.src = 'favicon.svg';
        avatar.alt = '';
        avatar.width = 28;
        avatar.height = 28;
        li.append(avatar);
    }

    const bubble = document.createElement('div');
    bubble.className = 'msg__bubble';
    const who = document.createElement('span');
    who.className = 'visually-hidden';
    who.textContent = mine ? 'You said: ' : 'Rose said: ';
    const body = document.createElement('p');
    body.className = 'msg__text';
    body.textContent = text;
    bubble.append(who, body);

    if (st === 'streaming') {
        const typing = document.createElement('span');
        typing.className = 'typing';
        typing.append(...[0, 1, 2].map(() => document.createElement('span')));
        typing.setAttribute('aria-hidden', 'true');
        const hint = document.createElement('span');
        hint.className = 'visually-hidden typing-label';
        hint.textContent = 'Rose is writing…';
        bubble.append(typing, hint);
    }

    const image = localUrl(imageUrl);
    if (image) {
        const img = document.createElement('img');
        img.className = 'msg__image';
        img.src = image;
        img.alt = 'An image Rose made for you';
        img.loading = 'lazy';
        bubble.append(img);
    }
    const audio = localUrl(audioUrl);
    if (audio) {
        const player = document.createElement('audio');
        player.className = 'msg__audio';
        player.controls = true;
        player.preload = 'none';    // old audio may have expired; fetch only when asked
        player.src = audio;
        bubble.append(player);
    }

    const when = createdAt instanceof Date ? createdAt : parseTime(createdAt);
    if (when) {
        const time = document.createElement('time');
        time.className = 'msg__time';
        time.dateTime = when.toISOString();
        time.textContent = formatTime(when);
        bubble.append(time);
    }
    li.append(bubble);
    return li;
}

function nearBottom() {
    const doc = document.scrollingElement || document.documentElement;
    return doc.scrollHeight - (doc.scrollTop + window.innerHeight) < 160;
}

function scrollToEnd() {
    const doc = document.scrollingElement || document.documentElement;
    doc.scrollTop = doc.scrollHeight;
}

function addMessage(role, text, options) {
    const follow = nearBottom();
    const li = messageEl(role, text, options);
    els.list.append(li);
    els.empty.hidden = true;
    if (follow || role === 'user') scrollToEnd();
    return li;
}

function setReplyText(li, text) {
    const follow = nearBottom();
    li.querySelector('.msg__text').textContent = text;
    if (text !== '') li.classList.add('has-text');
    if (follow) scrollToEnd();
}

function finishReply(li) {
    li.dataset.state = 'done';
    li.querySelectorAll('.typing, .typing-label').forEach((n) => n.remove());
}

function showTranscript(messages) {
    els.list.replaceChildren();
    for (const m of messages) {
        if (!m || typeof m.text !== 'string') continue;
        els.list.append(messageEl(m.role === 'user' ? 'user' : 'assistant', m.text, {
            createdAt: m.created_at, audioUrl: m.audio_url, imageUrl: m.image_url,
        }));
    }
    els.empty.hidden = els.list.children.length > 0;
    scrollToEnd();
}

function announce(text) {
    // Clear first so the same words said twice are still announced.
    els.announcer.textContent = '';
    setTimeout(() => { els.announcer.textContent = text; }, 50);
}

// ---- notices ----------------------------------------------------------------------------

function clearNotice() {
    clearInterval(state.waitTimer);
    els.notice.hidden = true;
    els.notice.dataset.kind = '';
    els.noticeMessage.textContent = '';
    els.noticeCountdown.textContent = '';
    els.noticeRef.textContent = '';
    els.noticeAction.hidden = true;
    state.noticeAction = null;
}

function showNotice(text, { kind = 'error', requestId = '', action = null, actionLabel = '' } = {}) {
    clearNotice();
    els.notice.dataset.kind = kind;
    els.noticeMessage.textContent = text;
    els.noticeRef.textContent = requestId ? `Reference: ${requestId}` : '';
    if (action) {
        els.noticeAction.textContent = actionLabel;
        els.noticeAction.hidden = false;
        state.noticeAction = action;
    }
    els.notice.hidden = false;
}

// What to tell a person about a failed request. retry: offer "Try again".
function friendly(err) {
    if (!(err instanceof ApiError)) {
        return { text: 'Something went wrong on this page. Please reload it and try again.', retry: false };
    }
    switch (err.status) {
    case 0:
        if (err.code === 'network') {
            return {
                text: navigator.onLine === false
                    ? 'You seem to be offline. Your words are safe in the box; send them when you are back.'
                    : "Rose can't be reached right now. Please check your connection and try again.",
                retry: true,
            };
        }
        if (err.code === 'stream_cut') {
            return { text: 'The connection dropped while Rose was answering. Please send your message again.', retry: true };
        }
        // An error event inside the stream: the server's message is written for a person.
        return { text: err.message || 'Rose could not finish her reply. Please try again.', retry: true };
    case 400:
        return { text: err.message || 'Rose could not read that message. Please try rewording it.', retry: false };
    case 413:
        return {
            text: `That message is longer than Rose can take in at once. Please shorten it to under ${numberFormat.format(MESSAGE_MAX_BYTES)} bytes, or send it in parts.`,
            retry: false,
        };
    case 429:
        return { text: "You're sending messages faster than Rose can answer.", retry: false };
    case 503:
        return { text: 'Rose is resting for a moment: a service she relies on is unavailable. Please try again in a little while.', retry: true };
    case 504:
        return { text: 'Rose took too long to answer. Please try again.', retry: true };
    default:
        if (err.status >= 500) return { text: "Something went wrong on Rose's side. Please try again.", retry: true };
        return { text: 'Something went wrong. Please reload the page and try again.', retry: false };
    }
}

function startWait(seconds) {
    const secs = Math.max(1, Math.min(3600, seconds || 10));
    state.waitUntil = Date.now() + secs * 1000;
    const tick = () => {
        const left = Math.ceil((state.waitUntil - Date.now()) / 1000);
        if (left <= 0) {
            clearInterval(state.waitTimer);
            state.waitUntil = 0;
            els.noticeCountdown.textContent = 'You can send again now.';
            els.notice.dataset.kind = 'info';
            updateControls();
            return;
        }
        els.noticeCountdown.textContent = `Please wait ${left} second${left === 1 ? '' : 's'}.`;
    };
    tick();
    state.waitTimer = setInterval(tick, 1000);
    updateControls();
}

// ---- composer ---------------------------------------------------------------------------

function draft() {
    return els.input.value.trim();
}

function updateCount() {
    const n = byteLength(draft());
    const level = n > MESSAGE_MAX_BYTES ? 'over' : n > MESSAGE_MAX_BYTES * 0.9 ? 'near' : 'ok';
    els.count.textContent = `${numberFormat.format(n)} / ${numberFormat.format(MESSAGE_MAX_BYTES)} bytes${level === 'over' ? ', too long' : ''}`;
    if (level !== els.count.dataset.level) {
        els.countHint.textContent = level === 'over'
            ? 'Your message is longer than Rose can take in at once. Please shorten it.'
            : '';
        els.count.dataset.level = level;
    }
    els.input.setAttribute('aria-invalid', level === 'over' ? 'true' : 'false');
    updateControls();
}

function canSend() {
    const n = byteLength(draft());
    return state.ready && !state.busy && Date.now() >= state.waitUntil && n > 0 && n <= MESSAGE_MAX_BYTES;
}

function updateControls() {
    els.send.disabled = !canSend();
    els.input.disabled = !state.ready;
    els.newChat.disabled = state.busy || !state.ready;
    els.main.dataset.state = !state.ready ? els.main.dataset.state : state.busy ? 'sending' : 'ready';
    els.list.setAttribute('aria-busy', state.busy ? 'true' : 'false');
}

function restoreDraft(text) {
    if (draft() === '') els.input.value = text;
    updateCount();
}

// ---- session ----------------------------------------------------------------------------

function adopt(session) {
    state.sessionId = session.sessionId;
    state.token = session.token;
    state.ready = true;
    const info = session.info || {};
    const started = session.resumed ? parseTime(info.created_at) : null;
    els.info.textContent = started ? `Started ${formatTime(started)}` : 'A new conversation';
}

async function loadTranscript() {
    try {
        return await getMessages(state.sessionId, state.token);
    } catch (err) {
        if (![401, 403, 404].includes(err.status)) throw err;
        forgetSession();
        adopt(await startNew());
        return [];
    }
}

async function open() {
    state.ready = false;
    els.main.dataset.state = 'starting';
    els.loading.hidden = false;
    els.loading.textContent = 'Finding your conversation…';
    updateControls();
    try {
        const session = await resumeOrStart();
        adopt(session);
        showTranscript(session.resumed ? await loadTranscript() : []);
        els.loading.hidden = true;
        clearNotice();
        els.main.dataset.state = 'ready';
    } catch (err) {
        state.ready = false;
        els.main.dataset.state = 'error';
        els.loading.textContent = 'Your conversation could not be opened.';
        const f = friendly(err);
        showNotice(f.text, { requestId: err.requestId, action: open, actionLabel: 'Try again' });
        if (err.status === 429) startWait(err.retryAfter);
    }
    updateControls();
}

async function newConversation() {
    if (state.busy) return;
    state.busy = true;
    updateControls();
    clearNotice();
    try {
        adopt(await startNew());
        showTranscript([]);
        announce('A new conversation has begun.');
        els.input.focus();
    } catch (err) {
        const f = friendly(err);
        showNotice(f.text, { requestId: err.requestId });
        if (err.status === 429) startWait(err.retryAfter);
    } finally {
        state.busy = false;
        updateControls();
    }
}

// The server no longer has this conversation (expired, or erased elsewhere).
async function sessionLost(text) {
    forgetSession();
    try {
        adopt(await startNew());
        const divider = document.createElement('li');
        divider.className = 'msg-divider';
        divider.textContent = 'A new conversation begins';
        els.list.append(divider);
        restoreDraft(text);
        showNotice('That conversation has ended, so a new one has begun. Your message is back in the box; send it when you are ready.', { kind: 'info' });
    } catch (err) {
        restoreDraft(text);
        state.ready = false;
        els.main.dataset.state = 'error';
        showNotice(friendly(err).text, { requestId: err.requestId, action: open, actionLabel: 'Try again' });
    }
}

// ---- a turn -----------------------------------------------------------------------------

async function sendTurn(event) {
    event.preventDefault();
    const text = draft();
    if (byteLength(text) > MESSAGE_MAX_BYTES) {
        showNotice(friendly(new ApiError(413, 'too_large', '')).text);
        return;
    }
    if (!canSend()) return;

    clearNotice();
    state.busy = true;
    updateControls();
    const userLi = addMessage('user', text);
    const roseLi = addMessage('assistant', '', { state: 'streaming' });
    els.input.value = '';
    updateCount();

    try {
        const reply = await sendChat({
            sessionId: state.sessionId,
            token: state.token,
            message: text,
            onToken: (piece, soFar) => setReplyText(roseLi, soFar),
        });
        if (reply.text === '') {
            roseLi.remove();            // Rose chose silence; an empty bubble says nothing
        } else {
            setReplyText(roseLi, reply.text);
            finishReply(roseLi);
            announce(`Rose: ${reply.text}`);
        }
    } catch (err) {
        // The turn did not complete: take both bubbles back and return the words to the box,
        // so sending again is one tap and nothing half-said stays on screen.
        userLi.remove();
        roseLi.remove();
        els.empty.hidden = els.list.children.length > 0;
        if (err instanceof ApiError && [401, 404].includes(err.status)) {
            await sessionLost(text);
        } else {
            restoreDraft(text);
            const f = friendly(err);
            showNotice(f.text, {
                requestId: err.requestId,
                action: f.retry ? () => els.form.requestSubmit() : null,
                actionLabel: 'Send again',
            });
            if (err.status === 429) startWait(err.retryAfter);
        }
    } finally {
        state.busy = false;
        updateControls();
    }
}

function onKey(event) {
    if (event.key !== 'Enter' || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.isComposing) return;      // an IME is still composing a character
    event.preventDefault();
    if (canSend()) els.form.requestSubmit();
}

initNav();
els.form.addEventListener('submit', sendTurn);
els.input.addEventListener('input', updateCount);
els.input.addEventListener('keydown', onKey);
els.newChat.addEventListener('click', newConversation);
els.noticeAction.addEventListener('click', () => {
    const action = state.noticeAction;
    if (action) action();
});
updateCount();
open();
