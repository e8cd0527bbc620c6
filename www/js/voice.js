// voice.js: the voice page (home). One large talk control records the person, the
// recording goes to POST /api/v1/voice/process as 16 kHz WAV, and Rose's reply is shown
// and spoken. The answer streams: her words appear as they are written, and her voice
// starts with the first sentence while the rest is still being made, a sentence a piece.
//
// How the control works:
//   hold    press and hold (pointer, touch or Space), speak, let go: the recording is sent.
//   tap     a press shorter than HOLD_MS keeps listening; the next press sends.
//   Enter   (and clicks from assistive technology) work as taps.
//   Escape  cancels a recording, or quiets Rose.
// Pressing while Rose speaks stops her and starts listening.
//
// The page's state is visible in main[data-state]: idle | preparing | listening | thinking |
// speaking. The browser tests wait on it.

import { ApiError, getMessages, localPath, sendVoice } from './api.js';
import { Notice, friendly as friendlyApi, messageElement, typingDots } from './page.js';
import { MicError, Recorder, micPermission, recordingSupported } from './recorder.js';
import { resumeOrStart, sessionGone, startOver } from './session.js';
import { concat, encodeWav, toSpeechWav } from './wav.js';

const HOLD_MS = 400;                // a press at least this long is push-to-talk; shorter is a tap
const MIN_RECORDING_MS = 300;       // less than this is a slip of the finger, not speech
const MAX_RECORDING_MS = 60_000;    // the server takes at most a minute (413 beyond)
// What is sent stops a little short of the minute: the clock and the audio do not start at
// exactly the same instant, and 60.01 s would be refused.
const MAX_SEND_SECONDS = 59.5;
const EARLIER_TURNS = 3;            // exchanges shown from before this visit

const $ = (id) => document.getElementById(id);
const els = {
    main: $('main'),
    stage: $('talk-stage'),
    talk: $('talk'),
    label: $('talk-label'),
    timer: $('talk-timer'),
    status: $('talk-status'),
    controls: $('talk-controls'),
    cancel: $('cancel'),
    stop: $('stop'),
    note: $('voice-note'),
    log: $('log'),
    turns: $('turns'),
    player: $('player'),
};

const recorder = new Recorder();

// After a 429 the control rests, and the notice counts down.
const notice = new Notice({
    left: (n) => `Try again in ${n}\u00a0s.`,
    over: { message: 'Rose is ready to listen again.', countdown: '' },
    changed: paint,
});

const state = {
    phase: 'idle',          // idle | preparing | listening | thinking | speaking
    mode: 'hold',           // while recording: hold (send on release) | tap (send on next press)
    pressing: false,        // a pointer or the Space bar is down on the control
    pressAt: 0,
    pointerId: null,
    swallowRelease: false,  // the press that ended a tap-mode recording: its release does nothing
    lastKeyAt: 0,
    ticket: 0,              // bumped when a recording ends, so a late microphone is dropped
    recording: null,
    level: 0,
    meterFrame: 0,
    clockTimer: 0,
    limitTimer: 0,
    session: null,          // {sessionId, token}
    sessionLoad: null,      // the promise of the session being opened
    lastAudio: null,        // the last recording that did not get an answer, for "Send again"
    playing: null,          // the turn whose reply is playing
    unlocked: false,
    supported: recordingSupported(),
};

// ---- small helpers ----------------------------------------------------------------------

function clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function say(text) {
    els.status.textContent = text;
}

function isTextField(el) {
    return Boolean(el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)));
}

// ---- the control's look -----------------------------------------------------------------

const LABELS = {
    idle: 'Hold to talk',
    preparing: 'Just a moment…',
    listening: 'Release to send',
    thinking: 'Rose is thinking…',
    speaking: 'Tap to talk',
};

function paint() {
    const { phase } = state;
    const recording = phase === 'preparing' || phase === 'listening';
    els.main.dataset.state = phase;
    els.main.dataset.mode = recording ? state.mode : '';
    let label = LABELS[phase];
    if (phase === 'listening' && !state.pressing) label = 'Tap to send';
    if (phase === 'idle' && notice.waiting()) label = 'Please wait';
    if (!state.supported) label = 'Voice unavailable';
    els.label.textContent = label;
    els.talk.setAttribute('aria-pressed', recording ? 'true' : 'false');
    const blocked = !state.supported || phase === 'thinking' || (phase === 'idle' && notice.waiting());
    els.talk.setAttribute('aria-disabled', blocked ? 'true' : 'false');
    els.cancel.hidden = !recording;
    els.stop.hidden = phase !== 'speaking';
    els.controls.hidden = els.cancel.hidden && els.stop.hidden;
    if (phase !== 'listening') {
        els.timer.textContent = '';
        els.stage.style.setProperty('--level', '0');
    }
}

function setPhase(phase, status) {
    state.phase = phase;
    paint();
    if (status !== undefined) say(status);
}

// The level meter: a ring around the control that swells with the voice. Fast to rise,
// slow to fall, so it reads as a level rather than a flicker.
function meter() {
    cancelAnimationFrame(state.meterFrame);
    const tick = () => {
        if (state.phase !== 'listening' || !state.recording) return;
        const now = state.recording.level();
        state.level = now > state.level ? now : state.level * 0.9 + now * 0.1;
        els.stage.style.setProperty('--level', state.level.toFixed(3));
        state.meterFrame = requestAnimationFrame(tick);
    };
    state.level = 0;
    state.meterFrame = requestAnimationFrame(tick);
}

function startClock() {
    const started = performance.now();
    const tick = () => {
        const ms = performance.now() - started;
        els.timer.textContent = `${clock(ms)} / ${clock(MAX_RECORDING_MS)}`;
        els.timer.dataset.near = ms > MAX_RECORDING_MS - 10_000 ? 'true' : 'false';
    };
    tick();
    state.clockTimer = setInterval(tick, 250);
    state.limitTimer = setTimeout(() => finishRecording({ atLimit: true }), MAX_RECORDING_MS);
}

function stopClock() {
    clearInterval(state.clockTimer);
    clearTimeout(state.limitTimer);
    cancelAnimationFrame(state.meterFrame);
}

// ---- notices ----------------------------------------------------------------------------

const MIC_TEXT = {
    denied: 'Rose can’t hear you because the microphone is blocked for this page. To allow it, '
        + 'open the site settings (the icon beside the web address), set Microphone to Allow, '
        + 'and reload the page. You can also write to Rose instead.',
    'no-device': 'No microphone was found. Plug one in or check your device’s sound settings, '
        + 'then try again. You can also write to Rose instead.',
    busy: 'Your microphone could not start. Another app may be using it: close it and try again.',
    unsupported: 'This browser cannot record here. Talking needs a current browser and a secure '
        + '(https) connection. You can still write to Rose.',
    failed: 'The microphone could not start. Please try again, or write to Rose instead.',
};

// What to tell a person about a failed request (page.js friendly() has the rest).
const WORDS = {
    offline: 'You seem to be offline. Your recording is kept: send it again when you are back.',
    unreachable: 'Rose can’t be reached right now. Please check your connection and try again.',
    cut: 'Rose’s answer did not come through. Please try again.',
    broken: 'Rose’s answer did not come through. Please try again.',
    400: 'Rose couldn’t make out that recording. Please try again.',
    413: 'That was longer than Rose can take in at once. Please keep it under a minute.',
    415: 'Rose couldn’t open that kind of recording.',
    429: 'Rose needs a moment…',
    503: 'Rose is unavailable right now: a service she relies on is resting. Please try again in a little while.',
    server: 'Something went wrong on Rose’s side. Please try again.',
};

// What to tell a person about a failed turn. retry: the recording can be sent again as is.
function friendly(err) {
    if (err instanceof MicError) return { text: MIC_TEXT[err.kind] || MIC_TEXT.failed, retry: false };
    return friendlyApi(err, WORDS);
}

const NOTE = {
    ready: 'Hold to talk, or tap once to start and again to send. The Space bar works too.',
    blocked: 'The microphone is blocked for this page. Allow it in the site settings, or write to Rose.',
    unsupported: 'Talking needs a current browser and a secure (https) connection. You can still write to Rose.',
};

// The line under the control says how talking works, or why it cannot.
function setNote(kind) {
    if (els.note.dataset.voiceState === kind) return;
    els.note.dataset.voiceState = kind;
    els.note.textContent = NOTE[kind];
}

function showError(err) {
    const f = friendly(err);
    const code = err instanceof MicError ? `mic-${err.kind}` : err instanceof ApiError ? String(err.status) : 'page';
    notice.error(f.text, err, {
        code,
        action: f.retry && state.lastAudio ? () => sendTurn(state.lastAudio) : null,
        actionLabel: 'Send again',
    });
    if (err instanceof MicError) {
        setNote(err.kind === 'denied' ? 'blocked' : err.kind === 'unsupported' ? 'unsupported' : 'ready');
        say('The microphone is not available.');
    }
}

// ---- the conversation on the page -------------------------------------------------------

function playButton(turn) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'play';
    b.setAttribute('aria-pressed', 'false');
    b.innerHTML = '<svg class="play__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">'
        + '<path class="play__start" d="M8 5v14l11-7z" fill="currentColor"/>'
        + '<rect class="play__stop" x="6" y="6" width="12" height="12" rx="2" fill="currentColor"/></svg>'
        + '<span class="play__text">Listen</span>';
    b.addEventListener('click', () => {
        if (state.playing === turn) stopPlayback('Stopped.');
        else play(turn);
    });
    return b;
}

function showLog() {
    els.log.hidden = els.turns.children.length === 0;
}

// A turn: what the person said and Rose's answer, newest at the top, next to the control.
function addTurn({ transcript = '', text = '', audioUrls = [], pending = false, earlier = false } = {}) {
    const li = document.createElement('li');
    li.className = 'turn';
    li.dataset.state = pending ? 'thinking' : 'done';
    if (earlier) li.dataset.earlier = 'true';
    const user = messageElement('div', 'user', transcript);
    const rose = messageElement('div', 'assistant', text);
    if (pending) {
        user.querySelector('.msg__text').append(typingDots());
        rose.hidden = true;
    }
    if (!pending && transcript === '') user.hidden = true;
    if (!pending && text === '') rose.hidden = true;
    li.append(user, rose);
    setAudio(li, audioUrls);

    const first = els.turns.firstElementChild;
    if (earlier) {
        els.turns.append(li);
    } else {
        els.turns.insertBefore(li, first);
    }
    showLog();
    return li;
}

// A turn's spoken reply: its pieces in order (one per sentence when it streamed), kept in
// data-audio separated by spaces.
function audioOf(turn) {
    return (turn.dataset.audio || '').split(' ').filter((u) => u !== '');
}

function setAudio(turn, urls) {
    turn.dataset.audio = urls.join(' ');
    const box = turn.querySelector('.msg--rose .msg__bubble');
    if (urls.length > 0 && !box.querySelector('.play')) box.append(playButton(turn));
    if (urls.length === 0 && box.querySelector('.play')) box.querySelector('.play').remove();
}

function fillTurn(turn, reply) {
    turn.dataset.state = 'done';
    const user = turn.querySelector('.msg--user');
    const rose = turn.querySelector('.msg--rose');
    user.querySelector('.msg__text').textContent = reply.transcript;
    rose.querySelector('.msg__text').textContent = reply.text;
    // Silence: Rose heard no words. Her gentle prompt is shown without an empty bubble.
    user.hidden = reply.transcript === '';
    rose.hidden = reply.text === '';
    if (reply.transcript === '') turn.dataset.kind = 'silence';
    setAudio(turn, reply.audioUrls);
}

// Earlier exchanges of this conversation (also from the chat page), oldest last.
function showEarlier(messages) {
    const turns = [];
    let cur = null;
    for (const m of messages) {
        if (!m || typeof m.text !== 'string') continue;
        if (m.role === 'user' || !cur || cur.text !== '') {
            cur = { transcript: '', text: '', audioUrls: [] };
            turns.push(cur);
        }
        if (m.role === 'user') {
            cur.transcript = m.text;
        } else {
            cur.text = m.text;
            const pieces = Array.isArray(m.audio_urls) ? m.audio_urls : [m.audio_url];
            cur.audioUrls = pieces.map(localPath).filter((u) => u !== '');
        }
    }
    for (const t of turns.slice(-EARLIER_TURNS).reverse()) addTurn({ ...t, earlier: true });
}

// ---- playback ---------------------------------------------------------------------------

// iOS Safari lets a page start audio only from a gesture, or on an element that has played
// from one before: the first press plays a moment of silence to earn that.
function unlockPlayer() {
    if (state.unlocked) return;
    state.unlocked = true;
    const url = URL.createObjectURL(new Blob([encodeWav(new Float32Array(160), 16000)], { type: 'audio/wav' }));
    els.player.src = url;
    els.player.play().catch(() => {}).finally(() => URL.revokeObjectURL(url));
}

function paintPlayButtons() {
    for (const b of els.turns.querySelectorAll('.play')) {
        const on = b.closest('.turn') === state.playing;
        b.setAttribute('aria-pressed', on ? 'true' : 'false');
        b.querySelector('.play__text').textContent = on ? 'Stop' : 'Listen';
    }
}

// Plays a turn's reply from its first piece; the player's ended event moves to the next one,
// and a turn still streaming (data-state "thinking") hands over new pieces as they come.
function play(turn, before = '') {
    const urls = audioOf(turn);
    if (urls.length === 0) return;
    if (state.phase === 'preparing' || state.phase === 'listening') return;
    if (state.phase === 'thinking' && turn.dataset.state !== 'thinking') return;
    state.playing = turn;
    turn.dataset.piece = '0';
    delete turn.dataset.quiet;
    setPhase('speaking', `${before}Rose is speaking. Press the button to talk, or Stop to quiet her.`);
    paintPlayButtons();
    playPiece(turn, urls[0]);
}

function playPiece(turn, url) {
    els.player.src = url;
    els.player.play().catch((err) => {
        if (state.playing !== turn || (err && err.name === 'AbortError')) return;
        endPlayback(err && err.name === 'NotAllowedError'
            ? 'Press Listen to hear Rose’s reply.'
            : 'Rose’s voice could not be played; her words are above.');
    });
}

function endPlayback(status) {
    state.playing = null;
    paintPlayButtons();
    if (state.phase === 'speaking') setPhase('idle', status);
}

// The player finished a piece: the next one, or wait for it while the reply still streams.
function nextPiece() {
    const turn = state.playing;
    const urls = audioOf(turn);
    const next = Number(turn.dataset.piece || 0) + 1;
    if (next < urls.length) {
        turn.dataset.piece = String(next);
        playPiece(turn, urls[next]);
    } else if (turn.dataset.state === 'thinking') {
        turn.dataset.piece = String(next);   // the next piece plays when it arrives
        turn.dataset.waiting = 'true';
    } else {
        endPlayback('Hold to talk when you are ready.');
    }
}

// A piece of a streaming reply arrived: play it now if the player is waiting for it, or
// start her voice with the first piece.
function pieceArrived(turn, url) {
    const urls = audioOf(turn);
    urls.push(url);
    setAudio(turn, urls);
    if (turn.dataset.quiet === 'true') return;
    if (state.playing === turn && turn.dataset.waiting === 'true' && Number(turn.dataset.piece) === urls.length - 1) {
        delete turn.dataset.waiting;
        playPiece(turn, url);
    } else if (!state.playing && urls.length === 1 && state.phase === 'thinking') {
        play(turn);
    }
}

function stopPlayback(status) {
    if (!state.playing) return;
    state.playing.dataset.quiet = 'true';    // later pieces of a streaming reply stay quiet
    delete state.playing.dataset.waiting;
    state.playing = null;
    els.player.pause();
    els.player.removeAttribute('src');
    els.player.load();
    endPlayback(status === undefined ? 'Hold to talk when you are ready.' : status);
}

// ---- session ----------------------------------------------------------------------------

function adopt(session) {
    state.session = { sessionId: session.sessionId, token: session.token };
    return state.session;
}

// Opens the shared conversation (the chat page uses the same one) and shows its last few
// exchanges. A failure is quiet here: pressing the control tries again and explains.
function openSession() {
    state.sessionLoad = (async () => {
        const session = await resumeOrStart();
        adopt(session);
        if (session.resumed) {
            try {
                showEarlier(await getMessages(session.sessionId, session.token));
            } catch {
                // the history is a courtesy; the conversation works without it
            }
        }
        return state.session;
    })();
    state.sessionLoad.catch(() => {}).finally(() => { state.sessionLoad = null; });
    return state.sessionLoad;
}

async function ensureSession() {
    if (state.session) return state.session;
    if (state.sessionLoad) {
        try {
            return await state.sessionLoad;
        } catch {
            // fall through and try once more, now that the person is waiting for it
        }
    }
    return adopt(await resumeOrStart());
}

// ---- recording --------------------------------------------------------------------------

function canTalk() {
    return state.supported && !notice.waiting();
}

function press(how) {
    if (!canTalk()) {
        if (!state.supported) showError(new MicError('unsupported'));
        return;
    }
    switch (state.phase) {
    case 'preparing':
    case 'listening':
        // Only a tap-mode recording is waiting for a press; a hold ends on release.
        if (state.mode === 'tap' || !state.pressing) {
            state.swallowRelease = how !== 'click';
            finishRecording();
        }
        return;
    case 'thinking':
        say('Rose is still thinking about what you said.');
        return;
    case 'speaking':
        stopPlayback('');
        break;
    default:
        break;
    }
    state.pressing = how !== 'click';
    state.pressAt = performance.now();
    state.mode = how === 'click' ? 'tap' : 'hold';
    beginRecording();
}

function release() {
    if (state.swallowRelease) {
        state.swallowRelease = false;
        state.pressing = false;
        return;
    }
    if (!state.pressing) return;
    state.pressing = false;
    if (state.phase !== 'preparing' && state.phase !== 'listening') return;
    const held = performance.now() - state.pressAt;
    if (held >= HOLD_MS && state.phase === 'listening') {
        finishRecording();
    } else {
        // A tap (or a release before the microphone was ready): keep listening until the
        // next press.
        state.mode = 'tap';
        paint();
        if (state.phase === 'listening') say('Listening… press again when you are done.');
    }
}

async function beginRecording() {
    const ticket = ++state.ticket;
    notice.clear();
    unlockPlayer();
    recorder.warmUp();      // synchronously, inside the gesture
    setPhase('preparing', 'Getting the microphone ready…');
    let rec;
    try {
        rec = await recorder.start();
    } catch (err) {
        if (ticket !== state.ticket) return;
        state.pressing = false;
        setPhase('idle');
        showError(err);
        return;
    }
    if (ticket !== state.ticket) {          // cancelled while the microphone was starting
        rec.cancel();
        return;
    }
    state.recording = rec;
    rec.onInterrupted = () => finishRecording();
    setNote('ready');
    setPhase('listening', state.mode === 'tap' && !state.pressing
        ? 'Listening… press again when you are done.'
        : 'Listening… let go when you are done.');
    meter();
    startClock();
}

function cancelRecording(status = 'Recording cancelled.') {
    if (state.phase !== 'preparing' && state.phase !== 'listening') return;
    state.ticket += 1;
    stopClock();
    if (state.recording) state.recording.cancel();
    state.recording = null;
    state.pressing = false;
    recorder.sleep();
    setPhase('idle', status);
}

async function finishRecording({ atLimit = false } = {}) {
    if (state.phase === 'preparing') {
        cancelRecording('Hold a little longer: the microphone was still starting.');
        return;
    }
    if (state.phase !== 'listening' || !state.recording) return;
    const rec = state.recording;
    state.recording = null;
    state.ticket += 1;
    state.pressing = false;
    stopClock();
    setPhase('thinking', 'Rose is listening to what you said…');
    const { samples: chunks, rate } = await rec.stop();
    recorder.sleep();
    let samples = concat(chunks);
    if (samples.length * 1000 < MIN_RECORDING_MS * rate) {
        setPhase('idle', 'Hold a little longer: keep the button down while you speak.');
        return;
    }
    if (samples.length > MAX_SEND_SECONDS * rate) samples = samples.subarray(0, Math.floor(MAX_SEND_SECONDS * rate));
    const wav = new Blob([toSpeechWav(samples, rate)], { type: 'audio/wav' });
    await sendTurn(wav, { atLimit });
}

// ---- a turn -----------------------------------------------------------------------------

async function postVoice(session, audio, turn) {
    const rose = turn.querySelector('.msg--rose');
    return sendVoice({
        sessionId: session.sessionId, token: session.token, audio,
        onTranscript: (heard) => {
            turn.querySelector('.msg--user .msg__text').textContent = heard;
            if (heard === '') turn.querySelector('.msg--user').hidden = true;
            setPhase('thinking', 'Rose is thinking about what you said…');
        },
        onToken: (piece, soFar) => {
            rose.querySelector('.msg__text').textContent = soFar;
            rose.hidden = false;
        },
        onAudio: (url) => pieceArrived(turn, url),
    });
}

async function sendTurn(audio, { atLimit = false } = {}) {
    if (state.phase !== 'idle' && state.phase !== 'thinking') return;
    notice.clear();
    state.lastAudio = audio;
    setPhase('thinking', atLimit
        ? 'That’s a minute, so Rose is listening to what you said…'
        : 'Rose is listening to what you said…');
    const turn = addTurn({ pending: true });
    let renewed = false;
    let reply;
    try {
        const session = await ensureSession();
        try {
            reply = await postVoice(session, audio, turn);
        } catch (err) {
            // The conversation ended on the server (expired or erased): begin a new one and
            // send the same words to it.
            if (!sessionGone(err)) throw err;
            state.session = null;
            reply = await postVoice(adopt(await startOver()), audio, turn);
            renewed = true;
        }
    } catch (err) {
        if (state.playing === turn) stopPlayback('');
        turn.remove();
        showLog();
        setPhase('idle', 'Rose didn’t get to answer.');
        showError(err);
        return;
    }
    state.lastAudio = null;
    if (renewed) {
        for (const old of els.turns.querySelectorAll('.turn:not(:first-child)')) old.dataset.earlier = 'true';
        notice.show('Your earlier conversation had ended, so Rose began a new one.', { kind: 'info', code: 'renewed' });
    }
    answer(turn, reply);
}

function answer(turn, reply) {
    if (reply.transcript === '' && reply.text === '') {
        // Silence again and again: Rose stays quiet, and the page offers a hint.
        turn.remove();
        showLog();
        setPhase('idle', 'Rose heard only silence. Check that your microphone is on, then hold the button while you speak.');
        return;
    }
    const streamed = audioOf(turn);
    fillTurn(turn, reply);
    const heard = reply.transcript === '' ? 'Rose didn’t catch any words. ' : '';
    if (state.playing === turn) {
        // Her voice began while the reply streamed: it plays on to the end.
        if (turn.dataset.waiting === 'true') {
            delete turn.dataset.waiting;
            const urls = audioOf(turn);
            const at = Number(turn.dataset.piece);
            if (at < urls.length) playPiece(turn, urls[at]);
            else endPlayback('Hold to talk when you are ready.');
        }
    } else if (turn.dataset.quiet === 'true' && streamed.length > 0) {
        // The person quieted her mid-reply (and may be talking again): leave it so.
    } else if (reply.audioUrls.length > 0) {
        if (state.phase === 'thinking') setPhase('idle');
        play(turn, heard);
    } else {
        setPhase('idle', `${heard}Rose answered in words; her voice is not available right now.`);
    }
}

// ---- input ------------------------------------------------------------------------------

// The Space bar talks unless it belongs to something else: a text field, or another button
// or link that Space would press.
function spaceIsOurs(e) {
    const el = e.target;
    if (isTextField(el)) return false;
    if (el === els.talk) return true;
    return !(el instanceof Element && el.closest('button, a[href], summary, audio, select, [role="button"]'));
}

function onKeyDown(e) {
    if (e.key === 'Escape') {
        if (state.phase === 'preparing' || state.phase === 'listening') cancelRecording();
        else if (state.phase === 'speaking') stopPlayback('Stopped.');
        return;
    }
    if (e.key !== ' ' || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (!spaceIsOurs(e)) return;
    e.preventDefault();         // no page scroll, and the focused button is not also clicked
    state.lastKeyAt = performance.now();
    if (e.repeat) return;
    press('key');
}

function onKeyUp(e) {
    if (e.key !== ' ' || !spaceIsOurs(e)) return;
    e.preventDefault();
    state.lastKeyAt = performance.now();
    release();
}

// Text selection, the long-press menu and scrolling are kept off the control by its CSS
// (user-select, -webkit-touch-callout, touch-action) and the contextmenu handler.
function onPointerDown(e) {
    if (e.button !== 0) return;
    try {
        els.talk.setPointerCapture(e.pointerId);
    } catch {
        // the pointer is already gone
    }
    state.pointerId = e.pointerId;
    press('pointer');
}

function onPointerUp(e) {
    if (e.pointerId !== state.pointerId) return;
    state.pointerId = null;
    release();
}

// Enter, and the clicks screen readers and switch devices send, have no press and release:
// they are taps. A click from a real pointer (detail > 0) was handled as pointer events.
function onClick(e) {
    if (e.detail > 0) return;
    if (performance.now() - state.lastKeyAt < 500) return;     // Space already did it
    state.lastKeyAt = performance.now();
    press('click');
}

export function startVoice() {
    paint();
    if (!state.supported) {
        setNote('unsupported');
    } else {
        micPermission((st) => setNote(st === 'denied' ? 'blocked' : 'ready')).then((st) => {
            if (st === 'denied') {
                setNote('blocked');
                say('The microphone is blocked for this page.');
            }
        });
    }

    els.talk.addEventListener('pointerdown', onPointerDown);
    els.talk.addEventListener('pointerup', onPointerUp);
    els.talk.addEventListener('pointercancel', onPointerUp);
    els.talk.addEventListener('lostpointercapture', onPointerUp);
    els.talk.addEventListener('click', onClick);
    els.talk.addEventListener('contextmenu', (e) => e.preventDefault());
    document.addEventListener('keydown', onKeyDown);
    document.addEventListener('keyup', onKeyUp);
    // Letting go can happen where the page cannot see it (another window took the focus).
    window.addEventListener('blur', () => {
        if (state.pressing && state.pointerId === null) release();
    });

    els.cancel.addEventListener('click', () => cancelRecording());
    els.stop.addEventListener('click', () => stopPlayback('Stopped.'));

    els.player.addEventListener('playing', () => {
        if (state.playing && state.phase !== 'speaking') setPhase('speaking');
    });
    els.player.addEventListener('ended', () => {
        if (state.playing) nextPiece();
    });
    els.player.addEventListener('error', () => {
        if (!state.playing) return;
        const gone = els.player.error && els.player.error.code === 4;
        endPlayback(gone
            ? 'That recording of Rose’s voice is no longer available; her words are above.'
            : 'Rose’s voice could not be played; her words are above.');
    });

    openSession().catch(() => {});
}
