// lib.mjs: what every browser test shares: a headless Debian Chromium driven by
// playwright-core, TAP output, and a watch on everything a page should never do
// (console errors, uncaught exceptions, Content-Security-Policy violations).
//
// Never downloads a browser: it runs the system's /usr/bin/chromium (CHROMIUM overrides).

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENS_DIR = path.join(REPO_ROOT, 'build', 'screens');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

// BASE_URL from the environment, without a trailing slash; exits (as a failed test) if unset.
export function baseUrl(tap) {
    const base = (process.env.BASE_URL || '').replace(/\/+$/, '');
    if (!base) {
        tap.ok(false, 'BASE_URL is set (e.g. BASE_URL=http://127.0.0.1:8080)');
        process.exit(tap.finish());
    }
    return base;
}

// ---- TAP --------------------------------------------------------------------------------

export class Tap {
    constructor(name) {
        this.name = name;
        this.n = 0;
        this.failed = 0;
    }

    // Prints "ok N - desc" or "not ok N - desc", then any diagnostics as "# " lines.
    ok(cond, desc, diag) {
        this.n += 1;
        if (!cond) this.failed += 1;
        console.log(`${cond ? 'ok' : 'not ok'} ${this.n} - ${this.name}: ${desc}`);
        if (!cond && diag !== undefined && diag !== '') this.comment(diag);
        return Boolean(cond);
    }

    comment(text) {
        const plain = String(text).replace(/\x1b\[[0-9;]*m/g, '');
        for (const line of plain.split('\n')) console.log(`# ${line}`);
    }

    // Prints the plan; returns the exit code.
    finish() {
        console.log(`1..${this.n}`);
        return this.failed === 0 && this.n > 0 ? 0 : 1;
    }
}

// Runs body(tap) with a deadline. A thrown error or the deadline is one more failed test,
// so a broken step never passes silently and a hung page never hangs the suite.
export async function runTest(name, body, { timeoutMs = 120_000 } = {}) {
    const tap = new Tap(name);
    const timer = setTimeout(() => {
        tap.ok(false, `finished within ${timeoutMs / 1000} s`);
        process.exit(tap.finish());
    }, timeoutMs);
    try {
        await body(tap);
    } catch (err) {
        tap.ok(false, 'ran without an unexpected error', (err && err.stack) || String(err));
    }
    clearTimeout(timer);
    process.exitCode = tap.finish();
}

// ---- browser ----------------------------------------------------------------------------

// Starts Chromium with a fresh temporary profile (so localStorage starts empty). Every page
// of the context is watched (see problemsOf). args: more Chromium switches (a fake
// microphone, say). Returns {context, close}; close() also removes the profile.
export async function launch({ viewport = DESKTOP, args = [] } = {}) {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} not found: run tests/browser/setup.sh (apt-get install chromium)`);
    }
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rose-chromium-'));
    // playwright-core insists on owning --user-data-dir: a persistent context passes it.
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport,
        locale: 'en-GB',
        timezoneId: 'UTC',
        args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--disable-dev-shm-usage',
            ...args,
        ],
    });
    context.setDefaultTimeout(15_000);

    // The listener is installed through the DevTools protocol before any of the page's own
    // scripts run, so the page's CSP does not block it.
    await context.exposeBinding('__roseCspViolation', ({ page }, v) => {
        if (page) problemsOf(page).csp.push(v);
    });
    await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
            window.__roseCspViolation({
                directive: e.effectiveDirective || e.violatedDirective,
                blocked: e.blockedURI,
                source: `${e.sourceFile || ''}:${e.lineNumber || 0}`,
                sample: e.sample || '',
            });
        });
    });
    context.on('page', watch);
    context.pages().forEach(watch);

    const close = async () => {
        await context.close().catch(() => {});
        fs.rmSync(profile, { recursive: true, force: true });
    };
    return { context, close };
}

const problemTable = new WeakMap();

// What went wrong on a page so far: {console: [], errors: [], csp: []}.
export function problemsOf(page) {
    let p = problemTable.get(page);
    if (!p) {
        p = { console: [], errors: [], csp: [] };
        problemTable.set(page, p);
    }
    return p;
}

function watch(page) {
    const p = problemsOf(page);
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const loc = msg.location();
        p.console.push(`${msg.text()} (${loc.url || '?'}:${loc.lineNumber ?? '?'})`);
    });
    page.on('pageerror', (err) => p.errors.push(err.stack || String(err)));
}

// The context's first page (a persistent context opens one), watched from the start.
export async function firstPage(context) {
    return context.pages()[0] || context.newPage();
}

// Three TAP lines: no console errors, no uncaught exceptions, no CSP violations since the
// page opened or since the last check (the record is emptied).
export function checkProblems(tap, page, where) {
    const p = problemsOf(page);
    tap.ok(p.console.length === 0, `no console errors on ${where}`, p.console.join('\n'));
    tap.ok(p.errors.length === 0, `no uncaught page errors on ${where}`, p.errors.join('\n'));
    tap.ok(p.csp.length === 0, `no Content-Security-Policy violations on ${where}`,
        p.csp.map((v) => JSON.stringify(v)).join('\n'));
    p.console.length = 0;
    p.errors.length = 0;
    p.csp.length = 0;
}

export async function screenshot(page, name, { fullPage = true } = {}) {
    fs.mkdirSync(SCREENS_DIR, { recursive: true });
    const file = path.join(SCREENS_DIR, name);
    await page.screenshot({ path: file, fullPage, animations: 'disabled' });
    return file;
}

// Tries fn(); returns its value, or undefined after logging the error as a TAP comment.
// For waits whose outcome the next tap.ok() judges.
export async function attempt(tap, fn) {
    try {
        return await fn();
    } catch (err) {
        tap.comment(String((err && err.message) || err).split('\n')[0]);
        return undefined;
    }
}
