// The status page /ui as a person sees it: Chromium (/usr/bin/chromium, or CHROMIUM) driven by
// playwright-core opens ORION_URL/ui at each size given, waits until the node table is drawn,
// saves a full-page screenshot to OUT/NAME-WxH.png and prints what the page shows as one JSON
// object per size (test/integ/t_ui.sh asserts on it):
//   width, scrollWidth   the screen's width in CSS pixels (the size given: on a phone, Chromium's
//                        window.innerWidth grows to fit a page that is too wide, so it is no
//                        measure) and the page's (a page wider than the screen scrolls sideways)
//   overflow             visible elements whose right edge passes the screen's
//   nodes                per row of the node table: its cells' text, the state's class, whether
//                        the row fits the viewport, and each cell's label as shown (::before)
//   queue                the "waiting in the router" figure
//   latency              per row of the latency table: its id (lat-NODE or lat-NODE/MODEL),
//                        its cells' text, whether it fits the viewport
// Usage: node ui.mjs URL OUT NAME 1280x800 390x844
import { chromium } from 'playwright-core';

const [url, out, name, ...sizes] = process.argv.slice(2);
const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let status = 0;
try {
    for (const size of sizes) {
        const [w, h] = size.split('x').map(Number);
        const phone = w < 700;
        const ctx = await browser.newContext({
            viewport: { width: w, height: h }, deviceScaleFactor: phone ? 2 : 1,
            isMobile: phone, hasTouch: phone,
        });
        const page = await ctx.newPage();
        await page.goto(`${url}/ui`);
        await page.waitForFunction(() => document.querySelectorAll('#nodes tbody tr').length >= 3,
            null, { timeout: 20000 });
        await page.screenshot({ path: `${out}/${name}-${size}.png`, fullPage: true });
        const facts = await page.evaluate((vw) => {
            const seen = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
            const overflow = [...document.querySelectorAll('body *')]
                .filter((e) => seen(e) && e.getBoundingClientRect().right > vw + 0.5)
                .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''));
            const nodes = [...document.querySelectorAll('#nodes tbody tr')].map((tr) => {
                const tds = [...tr.children];
                return {
                    id: tr.id,
                    cells: tds.map((td) => td.textContent),
                    stateClass: tds[1] ? tds[1].className : '',
                    fits: tr.getBoundingClientRect().right <= vw + 0.5,
                    right: Math.round(tr.getBoundingClientRect().right),
                    labels: tds.map((td) => getComputedStyle(td, '::before').content),
                    fontPx: Math.min(...tds.map((td) => parseFloat(getComputedStyle(td).fontSize))),
                };
            });
            const latency = [...document.querySelectorAll('#latency tbody tr')].map((tr) => ({
                id: tr.id,
                cells: [...tr.children].map((td) => td.textContent),
                fits: tr.getBoundingClientRect().right <= vw + 0.5,
            }));
            return {
                width: vw, latency, scrollWidth: document.documentElement.scrollWidth, overflow, nodes,
                queue: document.getElementById('queue').textContent,
                err: document.getElementById('err').textContent,
                innerWidth: window.innerWidth,
            };
        }, w);
        console.log(JSON.stringify({ size, ...facts }));
        await ctx.close();
    }
} catch (e) {
    console.error(`ui.mjs: ${e.message}`);
    status = 1;
}
await browser.close();
process.exit(status);
