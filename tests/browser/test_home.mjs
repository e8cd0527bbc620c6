// test_home.mjs: the home (voice) page in headless Chromium against a running Rose.
//   BASE_URL=http://127.0.0.1:8080 node tests/browser/test_home.mjs

import {
    PHONE, DESKTOP, attempt, baseUrl, checkProblems, firstPage, launch, runTest, screenshot,
} from './lib.mjs';

await runTest('home', async (tap) => {
    const base = baseUrl(tap);
    const { context, close } = await launch({ viewport: DESKTOP });
    try {
        const page = await firstPage(context);
        const res = await page.goto(`${base}/`, { waitUntil: 'load' });
        tap.ok(res && res.status() === 200, 'GET / answers 200', res ? `status ${res.status()}` : 'no response');

        const csp = (res && (await res.allHeaders())['content-security-policy']) || '';
        tap.ok(/default-src 'self'/.test(csp) && /frame-ancestors 'none'/.test(csp),
            'the page is served with the Content-Security-Policy header', `got: ${csp || '(none)'}`);

        tap.ok(/Rose/.test(await page.title()), 'title names Rose', await page.title());

        const nav = page.getByRole('navigation', { name: 'Main' });
        const chatLink = nav.getByRole('link', { name: 'Chat' });
        const chatHref = await attempt(tap, () => chatLink.getAttribute('href', { timeout: 5000 }));
        tap.ok(chatHref === 'chat.html', 'the main navigation links to the chat page', `href=${chatHref}`);
        const current = await attempt(tap, () => nav.locator('[aria-current="page"]').textContent({ timeout: 5000 }));
        tap.ok(current && current.trim() === 'Talk', 'the Talk tab is marked as the current page', `current=${current}`);

        // The indicator must show what the API says, not a placeholder.
        await attempt(tap, () => page.waitForSelector('#health:not([data-status="loading"])', { timeout: 10_000 }));
        const api = await page.evaluate(async () => {
            const r = await fetch('/api/v1/health', { headers: { Accept: 'application/json' } });
            return { status: r.status, body: await r.json().catch(() => null) };
        });
        tap.ok(api.body && ['healthy', 'degraded', 'unhealthy'].includes(api.body.status),
            'GET /api/v1/health returns a status', JSON.stringify(api));
        const shown = await page.locator('#health').getAttribute('data-status');
        const label = (await page.locator('#health .health__label').textContent()).trim();
        tap.ok(api.body && shown === api.body.status && label !== '' && !/Checking/.test(label),
            'the health indicator shows the status from /api/v1/health',
            `api=${api.body && api.body.status} shown=${shown} label="${label}"`);
        const services = await page.locator('#services-list dt').count();
        const expected = api.body && api.body.services ? Object.keys(api.body.services).length : -1;
        tap.ok(services === expected && services > 0, 'every service from /health is listed', `listed ${services}, api ${expected}`);
        const dot = await page.locator('[data-health-dot]').getAttribute('data-state');
        tap.ok(['ok', 'degraded', 'down'].includes(dot), 'the header status dot is lit', `data-state=${dot}`);

        // Until the recorder lands the talk control must not pretend to work.
        const coming = await page.locator('#voice-note[data-voice-state="coming"]').count();
        if (coming > 0) {
            tap.ok(await page.locator('#talk').isDisabled(), 'the talk control is disabled while voice is coming');
        } else {
            tap.ok(await page.locator('#talk').isEnabled(), 'the talk control is enabled once voice is here');
        }
        const write = page.getByRole('link', { name: 'Write to Rose' });
        tap.ok(await write.count() === 1 && (await write.getAttribute('href')) === 'chat.html',
            'a clear link leads to the chat page');

        await screenshot(page, 'home.png');

        await page.setViewportSize(PHONE);
        const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
        tap.ok(overflow <= 0, 'nothing overflows sideways on a 390 px phone', `overflow ${overflow}px`);
        await screenshot(page, 'home-phone.png');

        checkProblems(tap, page, '/');
    } finally {
        await close();
    }
});
