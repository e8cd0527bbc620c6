// test_voice.mjs: the voice page (home) in headless Chromium with a fake microphone, against
// a running Rose with offline engines (PocketSphinx, Flite).
//   BASE_URL=http://127.0.0.1:8080 node tests/browser/test_voice.mjs
//
// 1. The page's WAV encoder (www/js/wav.js) under node: the resampler keeps speech and
//    removes what would alias, and the WAV header is right.
// 2. Real turns: Flite speaks "my name is sarah and i feel sad today" into a WAV that
//    Chromium plays as the microphone. Push-to-talk with the pointer, then with the Space bar,
//    then tap to start and tap to send: what Rose heard and her reply are shown, and her
//    spoken reply plays and can be stopped.
// 3. Every error the endpoint can give, made up with request interception: 413, 415, 429
//    with Retry-After, 503 (and "Send again" to the real server), a lost connection, a
//    session that has ended, silence, and a reply without audio.
// 4. A microphone the person refused, and no microphone at all.
// Needs the flite command (Debian package flite).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
    DESKTOP, PHONE, attempt, baseUrl, checkProblems, firstPage, launch, problemsOf, runTest, screenshot,
} from './lib.mjs';
import { concat, encodeWav, resample } from '../../www/js/wav.js';

const SPOKEN = 'my name is sarah and i feel sad today';
const PROCESS = '**/api/v1/voice/process';
const HOLD_MS = 4500;           // long enough for the whole sentence in the fake microphone

// ---- WAV helpers ------------------------------------------------------------

// Parses a PCM WAV: {rate, channels, bits, frames, samples: Float32Array (first channel)}.
function parseWav(buf) {
    const b = Buffer.from(buf);
    if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
    let at = 12;
    let fmt = null;
    let data = null;
    while (at + 8 <= b.length) {
        const id = b.toString('ascii', at, at + 4);
        const size = b.readUInt32LE(at + 4);
        const body = b.subarray(at + 8, Math.min(b.length, at + 8 + size));
        if (id === 'fmt ') {
            fmt = {
                format: body.readUInt16LE(0), channels: body.readUInt16LE(2),
                rate: body.readUInt32LE(4), bits: body.readUInt16LE(14),
            };
        } else if (id === 'data') {
            data = body;
        }
        at += 8 + size + (size & 1);
    }
    if (!fmt || !data || fmt.format !== 1 || fmt.bits !== 16) throw new Error('not 16-bit PCM');
    const frames = Math.floor(data.length / (2 * fmt.channels));
    const samples = new Float32Array(frames);
    for (let i = 0; i < frames; i += 1) samples[i] = data.readInt16LE(i * 2 * fmt.channels) / 32768;
    return { ...fmt, frames, samples };
}

function rms(a, from, to) {
    let s = 0;
    for (let i = from; i < to; i += 1) s += a[i] * a[i];
    return Math.sqrt(s / (to - from));
}

function sine(freq, rate, seconds) {
    const n = Math.round(rate * seconds);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 1) out[i] = Math.sin((2 * Math.PI * freq * i) / rate);
    return out;
}

// ---- part 1: the encoder under node -------------------------------------------------------

function encoderTests(tap) {
    for (const rate of [48000, 44100]) {
        const speech = resample(sine(1000, rate, 1), rate, 16000);
        const keep = rms(speech, 1000, 15000) / Math.SQRT1_2;
        tap.ok(speech.length === 16000 && Math.abs(keep - 1) < 0.02,
            `resampling ${rate} Hz to 16 kHz keeps a 1 kHz tone (length ${speech.length}, gain ${keep.toFixed(3)})`);
        // Dropping samples would fold 10 kHz to 6 kHz at full strength; the filter removes it.
        const alias = resample(sine(10000, rate, 1), rate, 16000);
        const left = rms(alias, 1000, 15000) / Math.SQRT1_2;
        tap.ok(left < 0.01, `resampling ${rate} Hz to 16 kHz removes a 10 kHz tone instead of aliasing it (left ${left.toFixed(4)})`);
    }
    const joined = concat([new Float32Array([0.5, -0.5]), new Float32Array([1.5, -2])]);
    const wav = parseWav(encodeWav(joined, 16000));
    tap.ok(wav.rate === 16000 && wav.channels === 1 && wav.bits === 16 && wav.frames === 4,
        'encodeWav writes a 16 kHz mono 16-bit PCM header', JSON.stringify({ ...wav, samples: undefined }));
    const pcm = Array.from(wav.samples, (s) => Math.round(s * 32768));
    tap.ok(JSON.stringify(pcm) === JSON.stringify([16384, -16384, 32767, -32768]),
        'samples are scaled to 16 bits and loud ones clipped', JSON.stringify(pcm));
}

// The fake microphone: Flite's voice (slt, the voice PocketSphinx hears best), with silence
// around it so a hold catches the whole sentence. Chromium loops the file.
function makeMicrophoneWav(dir) {
    const raw = path.join(dir, 'flite.wav');
    execFileSync('flite', ['-voice', 'slt', '-t', SPOKEN, '-o', raw]);
    const voice = parseWav(fs.readFileSync(raw));
    const silence = (s) => new Float32Array(Math.round(voice.rate * s));
    const out = path.join(dir, 'microphone.wav');
    fs.writeFileSync(out, Buffer.from(encodeWav(concat([silence(0.5), voice.samples, silence(1.5)]), voice.rate)));
    return out;
}

// ---- page helpers -------------------------------------------------------------------------

const state = (page) => page.locator('main').getAttribute('data-state');

async function watchStates(page) {
    await page.evaluate(() => {
        window.__states = [];
        const main = document.getElementById('main');
        new MutationObserver(() => window.__states.push(main.dataset.state))
            .observe(main, { attributes: true, attributeFilter: ['data-state'] });
    });
}

async function takeStates(page) {
    return page.evaluate(() => window.__states.splice(0));
}

// Holds the talk control with the mouse for ms; while it is held, samples the level meter
// and calls during() once. Returns the highest level seen.
async function hold(page, ms, during) {
    const box = await page.locator('#talk').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    const until = Date.now() + ms;
    let peak = 0;
    let called = false;
    while (Date.now() < until) {
        await page.waitForTimeout(200);
        const v = await page.locator('#talk-stage').evaluate((el) => Number(el.style.getPropertyValue('--level')) || 0);
        peak = Math.max(peak, v);
        if (!called && during && Date.now() > until - ms / 2) {
            called = true;
            await during();
        }
    }
    await page.mouse.up();
    return peak;
}

const doneTurns = (page) => page.locator('.turn[data-state="done"]').count();

async function waitTurns(page, n, timeout = 60_000) {
    await page.waitForFunction((want) => document.querySelectorAll('.turn[data-state="done"]').length >= want
        && document.getElementById('main').dataset.state !== 'thinking', n, { timeout });
}

async function waitIdle(page, timeout = 15_000) {
    await page.waitForSelector('main[data-state="idle"]', { timeout });
}

async function newestTurn(page) {
    return page.locator('.turn').first().evaluate((li) => ({
        state: li.dataset.state,
        heard: li.querySelector('.msg--user .msg__text').textContent,
        heardShown: !li.querySelector('.msg--user').hidden,
        reply: li.querySelector('.msg--rose .msg__text').textContent,
        replyShown: !li.querySelector('.msg--rose').hidden,
        audio: li.dataset.audio,
    }));
}

async function notice(page) {
    return page.locator('#notice').evaluate((el) => ({
        shown: !el.hidden,
        code: el.dataset.code || '',
        kind: el.dataset.kind || '',
        text: el.innerText,
        action: el.querySelector('#notice-action').hidden ? '' : el.querySelector('#notice-action').textContent,
    }));
}

// ---- part 2: real turns -------------------------------------------------------------------

async function realTurns(tap, page, base) {
    const posts = [];
    page.on('request', (req) => {
        if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/v1/voice/process') {
            posts.push({ type: req.headers()['content-type'] || '', accept: req.headers().accept || '' });
        }
    });
    // Chromium does not show the test a request body made of a Blob, so what the page hands
    // to fetch() is kept aside for it.
    await page.addInitScript(() => {
        const real = window.fetch;
        window.__voiceSent = [];
        window.fetch = function (input, init) {
            const body = init && init.body;
            if (String(input).endsWith('/voice/process') && body instanceof FormData) {
                const audio = body.get('audio');
                window.__voiceSent.push({
                    session: body.get('session_id'),
                    filename: audio && audio.name, type: audio && audio.type, blob: audio,
                });
            }
            return real.apply(this, arguments);
        };
    });
    const sentParts = (i) => page.evaluate(async (at) => {
        const s = window.__voiceSent[at];
        if (!s) return null;
        const bytes = s.blob ? new Uint8Array(await s.blob.arrayBuffer()) : new Uint8Array();
        let bin = '';
        for (let j = 0; j < bytes.length; j += 0x8000) bin += String.fromCharCode(...bytes.subarray(j, j + 0x8000));
        return { session: s.session, filename: s.filename, type: s.type, base64: btoa(bin) };
    }, i);
    const audios = [];
    page.on('response', async (res) => {
        if (new URL(res.url()).pathname.startsWith('/api/v1/voice/audio/')) {
            audios.push({ status: res.status(), type: (await res.allHeaders())['content-type'] || '' });
        }
    });

    const res = await page.goto(`${base}/`, { waitUntil: 'load' });
    tap.ok(res && res.status() === 200, 'GET / answers 200');
    const talk = page.locator('#talk');
    tap.ok(await talk.evaluate((el) => el.tagName === 'BUTTON' && el.getAttribute('aria-pressed') === 'false'),
        'the talk control is a real button with aria-pressed="false"');
    tap.ok(await page.locator('#talk-status').getAttribute('role') === 'status', 'its state is told in a live status line');
    tap.ok(await page.getByRole('link', { name: 'Chat' }).getAttribute('href') === 'chat.html', 'the navigation leads to the chat page');
    await attempt(tap, () => page.waitForFunction(() => localStorage.getItem('rose.session_id'), null, { timeout: 15_000 }));
    const session = await page.evaluate(() => localStorage.getItem('rose.session_id'));
    tap.ok(Boolean(session), 'the page opens a conversation shared with the chat page (rose.session_id)');
    await page.evaluate(() => {
        const player = document.getElementById('player');
        window.__replyPlaying = false;
        window.__pieces = [];
        player.addEventListener('playing', () => {
            if (!player.currentSrc.includes('/api/v1/voice/audio/')) return;
            window.__replyPlaying = true;
            const piece = new URL(player.currentSrc).pathname;
            if (window.__pieces[window.__pieces.length - 1] !== piece) window.__pieces.push(piece);
        });
    });

    // Turn 1: push-to-talk with the pointer.
    await watchStates(page);
    let pressedWhileHeld = null;
    let labelWhileHeld = '';
    const peak = await hold(page, HOLD_MS, async () => {
        pressedWhileHeld = await talk.getAttribute('aria-pressed');
        labelWhileHeld = (await page.locator('#talk-label').textContent()).trim();
        await screenshot(page, 'voice-listening.png', { fullPage: false });
    });
    tap.ok(pressedWhileHeld === 'true' && /release/i.test(labelWhileHeld),
        'while held the control is pressed and says to release', `aria-pressed=${pressedWhileHeld} label="${labelWhileHeld}"`);
    tap.ok(peak > 0.2, 'the level meter moves with the voice', `peak ${peak}`);
    await attempt(tap, () => waitTurns(page, 1));
    const t1 = await newestTurn(page);
    tap.ok(/sarah/i.test(t1.heard), 'what Rose heard is shown and has the name in it', JSON.stringify(t1.heard));
    tap.ok(t1.reply.trim() !== '' && t1.replyShown, "Rose's reply is shown as text", JSON.stringify(t1.reply));

    // What was sent: one multipart request with a 16 kHz mono WAV of about the hold's length.
    const sent = await sentParts(0);
    tap.ok(posts.length === 1 && /^multipart\/form-data; boundary=/.test(posts[0].type) && sent && sent.session === session,
        'one multipart POST /api/v1/voice/process carried the session id',
        `posts=${JSON.stringify(posts)} session=${sent && sent.session}`);
    let wav = null;
    try {
        wav = sent ? parseWav(Buffer.from(sent.base64, 'base64')) : null;
    } catch (err) {
        tap.comment(String(err));
    }
    tap.ok(sent && sent.filename === 'recording.wav' && sent.type === 'audio/wav',
        'the audio part is recording.wav, audio/wav', sent && `${sent.filename} ${sent.type}`);
    const seconds = wav ? wav.frames / wav.rate : 0;
    tap.ok(wav && wav.rate === 16000 && wav.channels === 1 && wav.bits === 16 && seconds > 3.5 && seconds < 6,
        'the recording is 16 kHz mono 16-bit PCM as long as the hold', wav && `${wav.rate} Hz ${wav.channels} ch ${wav.bits} bit ${seconds.toFixed(2)} s`);

    // Playback of her spoken reply.
    tap.ok(t1.audio.startsWith('/api/v1/voice/audio/'), 'the reply has a same-origin audio URL', t1.audio);
    const played = await attempt(tap, () => page.waitForFunction(() => {
        const p = document.getElementById('player');
        return window.__replyPlaying && p.currentTime > 0.3 && !p.paused;
    }, null, { timeout: 15_000 }));
    tap.ok(Boolean(played), "Rose's spoken reply plays (playing fired, currentTime advances)");
    tap.ok(audios.length > 0 && audios.every((a) => [200, 206].includes(a.status) && /^audio\/(wav|x-wav|mpeg)/.test(a.type)),
        'the reply audio is fetched as audio/wav or audio/mpeg', JSON.stringify(audios));
    const states = await takeStates(page);
    const order = ['listening', 'thinking', 'speaking'].map((s) => states.indexOf(s));
    tap.ok(order.every((i) => i >= 0) && order[0] < order[1] && order[1] < order[2],
        'the state goes listening -> thinking -> speaking', JSON.stringify(states));
    const speakingStatus = await page.locator('#talk-status').textContent();
    tap.ok(/speaking/i.test(speakingStatus), 'the status line says Rose is speaking', speakingStatus);
    await screenshot(page, 'voice-reply.png');

    // The reply streamed, and her voice came a sentence a piece, played one after another.
    tap.ok(posts.length > 0 && posts[0].accept.includes('text/event-stream'), 'the turn asks for a stream', posts[0] && posts[0].accept);
    const pieces = t1.audio.split(' ');
    tap.ok(pieces.length >= 2 && pieces.every((u) => u.startsWith('/api/v1/voice/audio/')),
        'a reply of several sentences is spoken in several pieces', t1.audio);
    const second = await attempt(tap, () => page.waitForFunction(() => window.__pieces.length >= 2, null, { timeout: 30_000 }));
    const heardPieces = await page.evaluate(() => window.__pieces.slice());
    tap.ok(Boolean(second) && heardPieces.every((u, i) => u === pieces[i]),
        'the pieces play one after another, in order', JSON.stringify(heardPieces));

    // Stop her mid-reply.
    if ((await state(page)) === 'speaking') {
        await page.getByRole('button', { name: 'Stop Rose' }).click();
        await attempt(tap, () => waitIdle(page, 5000));
        const paused = await page.evaluate(() => document.getElementById('player').paused);
        tap.ok(paused && (await state(page)) === 'idle', 'Stop Rose quiets her at once');
    } else {
        tap.ok((await state(page)) === 'idle', 'Rose finished speaking before she could be stopped (a very short reply)');
    }

    // Turn 2: the Space bar. A second keydown is an auto-repeat and must not end the recording.
    await watchStates(page);
    await page.locator('body').focus();
    await page.keyboard.down('Space');
    await attempt(tap, () => page.waitForSelector('main[data-state="listening"]', { timeout: 5000 }));
    await page.waitForTimeout(1000);
    await page.keyboard.down('Space');          // repeat: true
    await page.waitForTimeout(HOLD_MS - 1000);
    tap.ok((await state(page)) === 'listening', 'holding Space keeps listening (auto-repeat is ignored)');
    await page.keyboard.up('Space');
    await attempt(tap, () => waitTurns(page, 2));
    const t2 = await newestTurn(page);
    tap.ok(/sarah/i.test(t2.heard) && t2.reply.trim() !== '', 'a Space-bar turn is heard and answered', JSON.stringify(t2));
    const order2 = await page.locator('.turn .msg--user .msg__text').allTextContents();
    tap.ok(await doneTurns(page) === 2 && order2.length === 2 && order2[0] === t2.heard && order2[1] === t1.heard,
        'the conversation shows both turns, newest first', JSON.stringify(order2));
    const states2 = await takeStates(page);
    tap.ok(states2.includes('listening') && states2.includes('thinking'), 'the Space-bar turn went listening -> thinking', JSON.stringify(states2));
    await page.keyboard.press('Escape');
    await attempt(tap, () => waitIdle(page, 5000));
    tap.ok((await state(page)) === 'idle', 'Escape quiets Rose');

    // A slip of the finger: tap to start and tap again at once.
    const before = posts.length;
    await talk.click();
    await talk.click();
    await attempt(tap, () => waitIdle(page, 5000));
    const slip = await page.locator('#talk-status').textContent();
    tap.ok(/hold a little longer/i.test(slip) && posts.length === before, 'a recording under 300 ms is not sent ("hold a little longer")', slip);

    // Tap to start, tap to send.
    await talk.click();
    await attempt(tap, () => page.waitForSelector('main[data-state="listening"]', { timeout: 5000 }));
    await page.waitForTimeout(HOLD_MS);
    const tapLabel = (await page.locator('#talk-label').textContent()).trim();
    tap.ok((await state(page)) === 'listening' && /tap to send/i.test(tapLabel) && await talk.getAttribute('aria-pressed') === 'true',
        'after a tap the page keeps listening and says to tap to send', `${await state(page)} "${tapLabel}"`);
    await talk.click();
    await attempt(tap, () => waitTurns(page, 3));
    const t3 = await newestTurn(page);
    tap.ok(/sarah/i.test(t3.heard) && t3.reply.trim() !== '', 'a tap-to-start, tap-to-send turn is heard and answered', JSON.stringify(t3));
    await page.keyboard.press('Escape');
    await attempt(tap, () => waitIdle(page, 5000));

    // Cancel a recording.
    const sentBefore = posts.length;
    await talk.click();
    await attempt(tap, () => page.waitForSelector('main[data-state="listening"]', { timeout: 5000 }));
    await page.getByRole('button', { name: 'Cancel' }).click();
    await attempt(tap, () => waitIdle(page, 5000));
    await page.waitForTimeout(300);
    tap.ok(posts.length === sentBefore && (await state(page)) === 'idle', 'Cancel ends a recording without sending it');

    // A phone.
    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
    tap.ok(overflow <= 0, 'nothing overflows sideways on a 390 px phone', `overflow ${overflow}px`);
    const box = await talk.boundingBox();
    tap.ok(box && box.y + box.height <= PHONE.height && box.width >= 150,
        'on a phone the talk control is large and on the first screen', JSON.stringify(box));
    await screenshot(page, 'voice-phone.png', { fullPage: false });
    await screenshot(page, 'voice-phone-full.png');
    await page.setViewportSize(DESKTOP);

    // The chat page shows the same conversation.
    await page.goto(`${base}/chat.html`, { waitUntil: 'load' });
    await attempt(tap, () => page.waitForFunction(
        () => document.querySelectorAll('#messages .msg--user').length >= 3, null, { timeout: 15_000 }));
    const chatUser = await page.locator('#messages .msg--user .msg__text').allTextContents();
    tap.ok(chatUser.includes(t1.heard) && chatUser.includes(t3.heard), 'the chat page shows the voice turns of the same conversation', JSON.stringify(chatUser));

    // Back on the voice page, the earlier turns keep Rose's voice: Listen plays it again.
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await attempt(tap, () => page.waitForSelector('.turn[data-earlier="true"] .play', { timeout: 15_000 }));
    const earlier = await page.locator('.turn[data-earlier="true"]').evaluateAll((lis) => lis.map((li) => ({
        heard: li.querySelector('.msg--user .msg__text').textContent, audio: li.dataset.audio || '',
    })));
    const again = earlier.find((e) => e.heard === t3.heard);
    tap.ok(again && again.audio !== '' && again.audio === t3.audio,
        "an earlier turn offers the same pieces of Rose's voice after a reload", JSON.stringify({ again, t3: t3.audio }));
    await page.locator('.turn[data-earlier="true"] .play').first().click();
    const replayed = await attempt(tap, () => page.waitForFunction(() => {
        const p = document.getElementById('player');
        return p.currentSrc.includes('/api/v1/voice/audio/') && !p.paused && p.currentTime > 0.2;
    }, null, { timeout: 15_000 }));
    tap.ok(Boolean(replayed), 'Listen on an earlier turn plays it');
    await page.keyboard.press('Escape');
    checkProblems(tap, page, 'the voice page during real turns');
}

// ---- part 3: errors -----------------------------------------------------------------------

function jsonError(status, code, message, headers = {}) {
    return {
        status, headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ error: code, message, request_id: `req-${status}` }),
    };
}

async function errorTurns(tap, page, base) {
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await attempt(tap, () => page.waitForFunction(() => localStorage.getItem('rose.session_id'), null, { timeout: 15_000 }));
    const turns = () => page.locator('.turn').count();
    const quick = async () => {
        await hold(page, 1200);
        await waitIdle(page, 60_000);
    };
    const fake = async (answer, options) => {
        await page.unroute(PROCESS);
        await page.route(PROCESS, (route) => route.fulfill(typeof answer === 'function' ? answer() : answer), options);
    };

    const start = await turns();
    await fake(jsonError(413, 'too_large', 'The recording is longer than 60 seconds.'));
    await quick();
    let n = await notice(page);
    tap.ok(n.shown && n.code === '413' && /under a minute/i.test(n.text) && /req-413/.test(n.text),
        '413: "please keep it under a minute", with the reference', JSON.stringify(n));
    tap.ok(await turns() === start, 'a failed turn leaves no half-made bubbles');
    await screenshot(page, 'voice-413-phone.png', { fullPage: false });

    await fake(jsonError(415, 'unsupported_media_type', 'Offline speech recognition needs WAV audio.'));
    await quick();
    n = await notice(page);
    tap.ok(n.code === '415' && /needs WAV/.test(n.text), "415: the server's message is shown", JSON.stringify(n));

    await fake(jsonError(429, 'rate_limited', 'Too many requests.', { 'Retry-After': '3' }));
    await quick();
    n = await notice(page);
    const resting = await page.locator('#talk').getAttribute('aria-disabled');
    tap.ok(/Rose needs a moment/.test(n.text) && /try again in \d+\s+s/i.test(n.text) && resting === 'true',
        '429: "Rose needs a moment… try again in N s", and the control rests', `${JSON.stringify(n)} aria-disabled=${resting}`);
    await screenshot(page, 'voice-429-phone.png', { fullPage: false });
    await attempt(tap, () => page.waitForFunction(
        () => document.getElementById('talk').getAttribute('aria-disabled') === 'false', null, { timeout: 8000 }));
    tap.ok(await page.locator('#talk').getAttribute('aria-disabled') === 'false', '429: the control wakes after Retry-After');

    await fake(jsonError(503, 'unavailable', 'Speech recognition is unavailable.'));
    await quick();
    n = await notice(page);
    tap.ok(/unavailable/i.test(n.text) && n.action === 'Send again', '503: Rose is unavailable, and the recording can be sent again', JSON.stringify(n));
    await page.unroute(PROCESS);
    const doneBefore = await doneTurns(page);
    await page.locator('#notice-action').click();
    await attempt(tap, () => waitTurns(page, doneBefore + 1));
    tap.ok(await doneTurns(page) === doneBefore + 1 && (await notice(page)).shown === false,
        '"Send again" sends the same recording to the real server, and it is answered');
    await page.keyboard.press('Escape');
    await waitIdle(page).catch(() => {});

    await fake(jsonError(504, 'timeout', 'The reply took too long.'));
    await quick();
    n = await notice(page);
    tap.ok(/too long/i.test(n.text) && n.action === 'Send again', '504: Rose took too long', JSON.stringify(n));

    await page.unroute(PROCESS);
    await page.route(PROCESS, (route) => route.abort('internetdisconnected'));
    await quick();
    n = await notice(page);
    tap.ok(/can.t be reached|offline/i.test(n.text) && n.action === 'Send again', 'a lost connection is explained, and can be retried', JSON.stringify(n));
    await page.context().setOffline(true);
    await attempt(tap, () => page.waitForSelector('#offline-banner:not([hidden])', { timeout: 5000 }));
    tap.ok(await page.locator('#offline-banner').isVisible(), 'going offline shows the offline banner');
    await page.context().setOffline(false);

    // The conversation has ended on the server: a new one begins and the words are sent to it.
    await page.unroute(PROCESS);
    const oldSession = await page.evaluate(() => localStorage.getItem('rose.session_id'));
    await page.route(PROCESS, (route) => route.fulfill(jsonError(404, 'not_found', 'No such session.')), { times: 1 });
    const done404 = await doneTurns(page);
    await quick();
    const newSession = await page.evaluate(() => localStorage.getItem('rose.session_id'));
    n = await notice(page);
    tap.ok(newSession && newSession !== oldSession && await doneTurns(page) === done404 + 1 && n.code === 'renewed',
        '404: a new conversation begins, the recording is sent to it, and the person is told',
        `${oldSession} -> ${newSession}; ${JSON.stringify(n)}`);
    await page.keyboard.press('Escape');
    await waitIdle(page).catch(() => {});

    // Silence: a gentle prompt without an empty "you said" bubble, then nothing at all.
    const ok = (body) => ({ status: 200, contentType: 'application/json', body: JSON.stringify({ session_id: newSession, duration_ms: 900, timings: {}, ...body }) });
    await fake(ok({ transcript: '', text: 'I am here whenever you are ready.', audio_url: '' }));
    await quick();
    const s1 = await newestTurn(page);
    tap.ok(!s1.heardShown && s1.replyShown && s1.reply === 'I am here whenever you are ready.',
        "silence: Rose's gentle prompt is shown without an empty bubble", JSON.stringify(s1));
    const countSilent = await turns();
    await fake(ok({ transcript: '', text: '', audio_url: '' }));
    await quick();
    const hint = await page.locator('#talk-status').textContent();
    tap.ok(await turns() === countSilent && /silence/i.test(hint), 'silence again: no bubble, a quiet hint', hint);

    // Words without a voice (speech synthesis failed).
    await fake(ok({ transcript: 'hello rose', text: 'Hello, dear one.', audio_url: '' }));
    await quick();
    const mute = await newestTurn(page);
    tap.ok(mute.heard === 'hello rose' && mute.reply === 'Hello, dear one.' && mute.audio === '' && (await state(page)) === 'idle',
        'a reply without audio is shown as text only', JSON.stringify(mute));

    // A stream that fails after Rose began: her half reply is taken back, the error is told.
    const sse = (events) => ({
        status: 200, contentType: 'text/event-stream',
        body: events.map(([ev, data]) => `event: ${ev}\ndata: ${JSON.stringify(data)}\n\n`).join(''),
    });
    const beforeCut = await turns();
    await fake(sse([['transcript', { transcript: 'tell me a story' }], ['token', { text: 'Once, ' }],
        ['error', { error: 'upstream_error', message: 'Rose lost her words midway. Please say that again.', request_id: 'req-cut' }]]));
    await quick();
    n = await notice(page);
    tap.ok(n.shown && /lost her words/.test(n.text) && /req-cut/.test(n.text) && await turns() === beforeCut,
        "an error event: the server's words and reference, and no half turn stays", JSON.stringify(n));
    await fake(sse([['transcript', { transcript: 'and then?' }], ['token', { text: 'And then ' }]]));
    await quick();
    n = await notice(page);
    tap.ok(n.shown && /did not come through/.test(n.text) && await turns() === beforeCut,
        'a stream that just stops: her answer did not come through', JSON.stringify(n));
    await page.unroute(PROCESS);

    const p = problemsOf(page);
    const unexpected = p.console.filter((m) => !/Failed to load resource|net::ERR_/.test(m));
    tap.ok(unexpected.length === 0, 'no console errors besides the failed requests the test made', unexpected.join('\n'));
    tap.ok(p.errors.length === 0, 'no uncaught page errors during the error turns', p.errors.join('\n'));
    tap.ok(p.csp.length === 0, 'no Content-Security-Policy violations during the error turns', JSON.stringify(p.csp));
    await page.setViewportSize(DESKTOP);
}

// ---- part 4: no microphone ------------------------------------------------------------------

async function refusedMicrophone(tap, base) {
    const { context, close } = await launch({
        viewport: PHONE,
        args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream=deny'],
    });
    try {
        const page = await firstPage(context);
        await page.goto(`${base}/`, { waitUntil: 'load' });
        await hold(page, 800);
        await attempt(tap, () => page.waitForSelector('#notice:not([hidden])', { timeout: 10_000 }));
        const n = await notice(page);
        tap.ok(n.code === 'mic-denied' && /blocked/.test(n.text) && /Allow/.test(n.text),
            'a refused microphone is explained, with how to allow it', JSON.stringify(n));
        tap.ok((await state(page)) === 'idle' && await page.locator('#voice-note').getAttribute('data-voice-state') === 'blocked',
            'after a refusal the page is idle and marks the microphone as blocked');
        await screenshot(page, 'voice-denied-phone.png', { fullPage: false });
        checkProblems(tap, page, 'the voice page with the microphone refused');

        // No microphone at all (a computer without one): getUserMedia says NotFoundError.
        const page2 = await context.newPage();
        await page2.addInitScript(() => {
            navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
        });
        await page2.goto(`${base}/`, { waitUntil: 'load' });
        await hold(page2, 800);
        await attempt(tap, () => page2.waitForSelector('#notice:not([hidden])', { timeout: 10_000 }));
        const n2 = await notice(page2);
        tap.ok(n2.code === 'mic-no-device' && /No microphone was found/.test(n2.text), 'no microphone is explained', JSON.stringify(n2));
        checkProblems(tap, page2, 'the voice page without a microphone');
    } finally {
        await close();
    }
}

// ---- main ---------------------------------------------------------------------------------

await runTest('voice', async (tap) => {
    encoderTests(tap);
    const base = baseUrl(tap);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rose-voice-'));
    try {
        let mic = null;
        try {
            mic = makeMicrophoneWav(dir);
        } catch (err) {
            tap.comment(String(err.message || err).split('\n')[0]);
        }
        tap.ok(mic !== null, 'flite speaks the test sentence (apt-get install flite)');
        if (mic) {
            const { context, close } = await launch({
                viewport: DESKTOP,
                args: [
                    '--use-fake-ui-for-media-stream',
                    '--use-fake-device-for-media-stream',
                    `--use-file-for-fake-audio-capture=${mic}`,
                    '--autoplay-policy=no-user-gesture-required',
                ],
            });
            try {
                const page = await firstPage(context);
                await realTurns(tap, page, base);
                await errorTurns(tap, page, base);
            } finally {
                await close();
            }
        }
        await refusedMicrophone(tap, base);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}, { timeoutMs: 280_000 });
