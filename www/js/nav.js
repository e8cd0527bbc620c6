// nav.js: what every page's header shares: the connection status dot fed by /health, and a
// banner when the browser goes offline. Pages that show more (home's status card) subscribe
// with onHealth().

import { getHealth } from './api.js';

const POLL_MS = 60_000;     // health is rate limited at 60/min per client; once a minute is calm

const listeners = [];
let last = null;
let timer = 0;

// Reduces a /health document (or null when it could not be fetched) to what a person needs:
//   state   "ok" | "degraded" | "down"   (drives colour)
//   label   a few words for the status pill
//   detail  one sentence
//   voice   "hosted" | "offline" | "unavailable": how speech is handled
//   words   "hosted" | "offline" | "unavailable": how Rose's replies are made
export function describeHealth(health) {
    if (!health) {
        return {
            state: 'down', status: 'unreachable', label: "Can't reach Rose",
            detail: 'Check your connection. This page will try again shortly.',
            voice: 'unavailable', words: 'unavailable',
        };
    }
    const services = health.services || {};
    const st = (name) => (services[name] && services[name].status) || 'unknown';
    const usable = (s) => s === 'ok' || s === 'degraded' || s === 'offline';
    const mode = (...names) => {
        const all = names.map(st);
        if (!all.every(usable)) return 'unavailable';
        return all.includes('offline') ? 'offline' : 'hosted';
    };
    const voice = mode('stt', 'tts');
    const words = mode('llm');
    if (health.status === 'unhealthy') {
        return {
            state: 'down', status: health.status, label: 'Rose is unavailable',
            detail: 'Something on the server needs attention. Please try again later.',
            voice, words,
        };
    }
    const degraded = health.status !== 'healthy';
    const label = voice === 'offline' ? 'Connected · offline voice' : 'Connected';
    const parts = [];
    if (words === 'offline') parts.push('Rose is answering with her built-in offline companion.');
    if (words === 'unavailable') parts.push('Rose cannot answer right now.');
    if (voice === 'offline') parts.push('Speech is handled on the server itself.');
    if (voice === 'unavailable') parts.push('Speech is unavailable right now.');
    if (degraded) parts.push('Some services are resting, so replies may be slower.');
    if (parts.length === 0) parts.push('Everything is working.');
    return {
        state: degraded || words === 'unavailable' ? 'degraded' : 'ok',
        status: health.status, label, detail: parts.join(' '), voice, words,
    };
}

function paintDot(summary) {
    for (const el of document.querySelectorAll('[data-health-dot]')) {
        el.dataset.state = summary.state;
        el.title = `${summary.label}. ${summary.detail}`;
        const text = el.querySelector('.status-dot__text');
        if (text) text.textContent = summary.label;
    }
}

async function poll() {
    clearTimeout(timer);
    let health = null;
    try {
        health = await getHealth();
    } catch {
        health = null;
    }
    last = { health, summary: describeHealth(health) };
    paintDot(last.summary);
    for (const fn of listeners) fn(last.summary, last.health);
    if (document.visibilityState === 'visible') timer = setTimeout(poll, POLL_MS);
}

// Calls fn(summary, healthDocumentOrNull) now if known and after each check.
export function onHealth(fn) {
    listeners.push(fn);
    if (last) fn(last.summary, last.health);
}

function showOffline(offline) {
    const banner = document.getElementById('offline-banner');
    if (banner) banner.hidden = !offline;
}

export function initNav() {
    showOffline(navigator.onLine === false);
    window.addEventListener('offline', () => showOffline(true));
    window.addEventListener('online', () => {
        showOffline(false);
        poll();
    });
    document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') poll();
        else clearTimeout(timer);
    });
    poll();
}
