// session.js: which conversation this browser is in, shared by the chat and voice pages.
//
// localStorage keeps two values:
//   rose.session_id  the current conversation
//   rose.user_token  the anonymous user's bearer token, returned once by /session/start;
//                    it ties new conversations to the same person (long-term memory).

import { getSession, startSession } from './api.js';

export const KEY_SESSION = 'rose.session_id';
export const KEY_TOKEN = 'rose.user_token';

// Storage can be missing or throw (private modes, storage disabled). Rose still works for
// the life of the page then; she just forgets on reload.
const memory = new Map();

function load(key) {
    try {
        return localStorage.getItem(key);
    } catch {
        return memory.has(key) ? memory.get(key) : null;
    }
}

function save(key, value) {
    try {
        if (value === null) localStorage.removeItem(key);
        else localStorage.setItem(key, value);
    } catch {
        if (value === null) memory.delete(key);
        else memory.set(key, value);
    }
}

export function storedToken() {
    return load(KEY_TOKEN);
}

export function storedSessionId() {
    return load(KEY_SESSION);
}

// Starts a new conversation for this person. A 401 means the server does not know the
// stored token (erased, or another server): drop it and start as a new anonymous user.
// Resolves with {sessionId, token, info, resumed: false}.
export async function startNew() {
    let token = storedToken();
    let info;
    try {
        info = await startSession(token);
    } catch (err) {
        if (err.status !== 401 || !token) throw err;
        save(KEY_TOKEN, null);
        token = null;
        info = await startSession(null);
    }
    if (typeof info.session_id !== 'string' || info.session_id === '') {
        throw Object.assign(new Error('no session id'), { status: 200, code: 'bad_response' });
    }
    if (typeof info.user_token === 'string' && info.user_token !== '') {
        token = info.user_token;
        save(KEY_TOKEN, token);
    }
    save(KEY_SESSION, info.session_id);
    return { sessionId: info.session_id, token, info, resumed: false };
}

// Resumes the stored conversation if the server still has it (404 = expired or deleted,
// 401/403 = not this person's), otherwise starts a new one. Other errors (network, 503)
// are thrown: the conversation may well still exist, so it is not thrown away.
// Resolves with {sessionId, token, info, resumed}.
export async function resumeOrStart() {
    const sessionId = storedSessionId();
    if (sessionId) {
        const token = storedToken();
        try {
            const info = await getSession(sessionId, token);
            return { sessionId, token, info, resumed: true };
        } catch (err) {
            if (!sessionGone(err)) throw err;
            save(KEY_SESSION, null);
        }
    }
    return startNew();
}

// The server said this conversation is gone while the page was using it.
export function forgetSession() {
    save(KEY_SESSION, null);
}

// Whether a failed request says the conversation is gone for this page: 404 (expired or
// deleted) or 401/403 (not this person's).
export function sessionGone(err) {
    return Boolean(err) && [401, 403, 404].includes(err.status);
}

// The conversation in use is gone: forgets it and starts a new one (see startNew).
export function startOver() {
    forgetSession();
    return startNew();
}
