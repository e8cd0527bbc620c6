// chat.js: the chat page. Opens (or resumes) a conversation, shows its transcript, and
// sends turns with Rose's reply streamed into the page as it is written.
//
// The page's state is visible in main[data-state]: starting | ready | sending | error
// and each message's in li[data-state]: streaming | done. The browser tests wait on these.

import { initNav } from './nav.js';
import { ApiError, MESSAGE_MAX_BYTES, byteLength, getMessages, localPath, sendChat } from './api.js';
import { Notice, friendly, messageElement, typingDots } from './page.js';
import { resumeOrStart, sessionGone, startNew, startOver } from './session.js';

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
};

const state = {
    sessionId: null,
    token: null,
    ready: false,       // a session is open
    busy: false,        // a turn or a session change is in flight
};

const numberFormat = new Intl.NumberFormat();

// After a 429 the notice counts down; until then nothing is sent.
const notice = new Notice({
    left: (n) => `Please wait ${n} second${n === 1 ? '' : 's'}.`,
    over: { countdown: 'You can send again now.' },
    changed: updateControls,
});

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

// Media is shown only from same-origin paths (localPath).
function messageEl(role, text, { createdAt = new Date(), state: st = 'done', audioUrl, imageUrl } = {}) {
    const li = messageElement('li', role, text);
    li.dataset.state = st;
    const bubble = li.querySelector('.msg__bubble');

    if (st === 'streaming') {
        const hint = document.createElement('span');
        hint.className = 'visually-hidden typing-label';
        hint.textContent = 'Rose is writing…';
        bubble.append(typingDots(), hint);
    }

    const image = localPath(imageUrl);
    if (image) {
        const img = document.createElement('img');
        img.className = 'msg__image';
        img.src = image;
        img.alt = 'An image Rose made for you';
        img.loading = 'lazy';
        bubble.append(img);
    }
    const audio = localPath(audioUrl);
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

// What to tell a person about a failed request (page.js friendly() has the rest).
const WORDS = {
    offline: 'You seem to be offline. Your words are safe in the box; send them when you are back.',
    unreachable: "Rose can't be reached right now. Please check your connection and try again.",
    cut: 'The connection dropped while Rose was answering. Please send your message again.',
    broken: 'Rose could not finish her reply. Please try again.',
    400: 'Rose could not read that message. Please try rewording it.',
    413: `That message is longer than Rose can take in at once. Please shorten it to under ${numberFormat.format(MESSAGE_MAX_BYTES)} bytes, or send it in parts.`,
    429: "You're sending messages faster than Rose can answer.",
    503: 'Rose is resting for a moment: a service she relies on is unavailable. Please try again in a little while.',
    server: "Something went wrong on Rose's side. Please try again.",
};

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
    return state.ready && !state.busy && !notice.waiting() && n > 0 && n <= MESSAGE_MAX_BYTES;
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
        if (!sessionGone(err)) throw err;
        adopt(await startOver());
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
        notice.clear();
        els.main.dataset.state = 'ready';
    } catch (err) {
        state.ready = false;
        els.main.dataset.state = 'error';
        els.loading.textContent = 'Your conversation could not be opened.';
        notice.error(friendly(err, WORDS).text, err, { action: open, actionLabel: 'Try again' });
    }
    updateControls();
}

async function newConversation() {
    if (state.busy) return;
    state.busy = true;
    updateControls();
    notice.clear();
    try {
        adopt(await startNew());
        showTranscript([]);
        announce('A new conversation has begun.');
        els.input.focus();
    } catch (err) {
        notice.error(friendly(err, WORDS).text, err);
    } finally {
        state.busy = false;
        updateControls();
    }
}

// The server no longer has this conversation (expired, or erased elsewhere).
async function sessionLost(text) {
    try {
        adopt(await startOver());
        const divider = document.createElement('li');
        divider.className = 'msg-divider';
        divider.textContent = 'A new conversation begins';
        els.list.append(divider);
        restoreDraft(text);
        notice.show('That conversation has ended, so a new one has begun. Your message is back in the box; send it when you are ready.', { kind: 'info' });
    } catch (err) {
        restoreDraft(text);
        state.ready = false;
        els.main.dataset.state = 'error';
        notice.show(friendly(err, WORDS).text, { requestId: err.requestId, action: open, actionLabel: 'Try again' });
    }
}

// ---- a turn -----------------------------------------------------------------------------

async function sendTurn(event) {
    event.preventDefault();
    const text = draft();
    if (byteLength(text) > MESSAGE_MAX_BYTES) {
        notice.show(friendly(new ApiError(413, 'too_large', ''), WORDS).text);
        return;
    }
    if (!canSend()) return;

    notice.clear();
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
            const f = friendly(err, WORDS);
            notice.error(f.text, err, {
                action: f.retry ? () => els.form.requestSubmit() : null,
                actionLabel: 'Send again',
            });
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
updateCount();
open();
