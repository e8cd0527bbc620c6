// home.js: the home page, which is the voice page: the talk control and conversation
// (voice.js), and a card showing how Rose's services are doing.

import { initNav, onHealth } from './nav.js';
import { startVoice } from './voice.js';

const SERVICE_NAMES = {
    database: 'Memory store',
    llm: 'Words (language model)',
    stt: 'Listening (speech to text)',
    tts: 'Speaking (text to speech)',
    embeddings: 'Embeddings',
    vector_store: 'Long-term memory',
    image: 'Images',
    vision: 'Seeing images',
};

function renderServices(health) {
    const list = document.getElementById('services-list');
    const box = document.getElementById('services');
    const version = document.getElementById('health-version');
    list.replaceChildren();
    const services = (health && health.services) || {};
    const names = Object.keys(services);
    box.hidden = names.length === 0;
    for (const name of names) {
        const s = services[name] || {};
        const dt = document.createElement('dt');
        dt.textContent = SERVICE_NAMES[name] || name;
        const dd = document.createElement('dd');
        dd.dataset.status = String(s.status || 'unknown');
        const parts = [String(s.status || 'unknown')];
        if (s.provider) parts.push(String(s.provider));
        if (s.circuit && s.circuit !== 'closed') parts.push(`circuit ${s.circuit}`);
        dd.textContent = parts.join(' · ');
        list.append(dt, dd);
    }
    version.textContent = health && health.version ? `Version ${health.version}` : '';
}

function renderHealth(summary, health) {
    const el = document.getElementById('health');
    el.dataset.state = summary.state;
    el.dataset.status = summary.status;
    el.dataset.voice = summary.voice;
    el.querySelector('.health__label').textContent = summary.label;
    document.getElementById('health-detail').textContent = summary.detail;
    renderServices(health);
}

initNav();
onHealth(renderHealth);
startVoice();
