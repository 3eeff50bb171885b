// console.mjs - drives Debian's /usr/bin/chromium (headless, through
// playwright-core) over the web console for
// tests/integration/test_console_browser.py. It only browses and reports:
// the assertions are the Python test's.
//
//   node console.mjs '<scenario JSON>'    one scenario, one JSON result line
//   node console.mjs < scenarios          one scenario per input line, one
//                                         result line each (one browser for all)
//
// A scenario:
//   {"context": "main",            named browser context (cookies, digest state
//                                  kept between scenarios); created on first use
//    "credentials": {"username": "admin", "password": "admin"},
//                                  given: the context is made anew with them
//    "base": "http://127.0.0.1:PORT",
//    "dir": "/path",               where capture writes NAME.jpg and NAME.html
//    "steps": [ ... ]}
// Steps (one key each; every step reports an object in "steps"):
//   {"goto": "/path"}              -> the page: status, path, lang, title, h1
//   {"fill": [selector, text]}, {"check": selector}, {"select": [selector, value]}
//   {"click": selector}            a click that loads a page -> the page
//   {"capture": "NAME"}            full-page screenshot (NAME.jpg), the bytes the server
//                                  sent for the page (for vnu) -> {image, html}
//   {"axe": true}                  axe-core in the page -> {violations: [...]}
//   {"query": selector}            -> {elements: [{text, id, html}]}
//   {"tab": N}                     N presses of Tab -> {focus: [element, ...]}
//   {"press": key}                 one key -> {focus: element, path}
// The result: {"ok": true, "steps": [...]} or {"ok": false, "error": ...,
// "step": index, "steps": [the steps done]}.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const AXE = readFileSync(join(HERE, 'node_modules/axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.SEKISHO_CHROMIUM || '/usr/bin/chromium';
// Each wait of the browser is bounded (a console that hangs fails the step).
const TIMEOUT_MS = Number(process.env.SEKISHO_BROWSER_TIMEOUT_MS || 30000);

let browser = null;
const contexts = new Map(); // name -> {context, page, response}

async function contextFor(sc) {
    const name = sc.context || 'main';
    let c = contexts.get(name);
    if (c && sc.credentials) {
        await c.context.close();
        contexts.delete(name);
        c = null;
    }
    if (!c) {
        const context = await browser.newContext({
            httpCredentials: sc.credentials || { username: 'admin', password: 'admin' },
            viewport: { width: 1280, height: 900 },
        });
        context.setDefaultTimeout(TIMEOUT_MS);
        const page = await context.newPage();
        c = { context, page, response: null };
        contexts.set(name, c);
    }
    return c;
}

async function pageState(c) {
    const p = c.page;
    const info = await p.evaluate(() => ({
        lang: document.documentElement.getAttribute('lang'),
        title: document.title,
        h1: (document.querySelector('h1') || { textContent: '' }).textContent,
    }));
    const url = new URL(p.url());
    return {
        status: c.response ? c.response.status() : null,
        path: url.pathname + url.search,
        ...info,
    };
}

function describeFocus() {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    return {
        tag: e.tagName.toLowerCase(),
        id: e.id || null,
        name: e.getAttribute('name'),
        value: e.getAttribute('value'),
        type: e.getAttribute('type'),
        href: e.getAttribute('href'),
        cls: e.getAttribute('class'),
        text: (e.textContent || '').trim().slice(0, 80),
        in_nav: e.closest('nav') !== null,
        in_main: e.closest('main') !== null,
        in_form: e.closest('main form') !== null,
    };
}

async function step(c, sc, s) {
    const p = c.page;
    if ('goto' in s) {
        c.response = await p.goto(sc.base + s.goto, { waitUntil: 'load' });
        return pageState(c);
    }
    if ('click' in s) {
        const [resp] = await Promise.all([
            p.waitForNavigation({ waitUntil: 'load' }),
            p.click(s.click),
        ]);
        c.response = resp;
        return pageState(c);
    }
    if ('fill' in s) {
        await p.fill(s.fill[0], s.fill[1]);
        return {};
    }
    if ('check' in s) {
        await p.check(s.check);
        return {};
    }
    if ('select' in s) {
        await p.selectOption(s.select[0], s.select[1]);
        return {};
    }
    if ('capture' in s) {
        mkdirSync(sc.dir, { recursive: true });
        const image = join(sc.dir, s.capture + '.jpg');
        const html = join(sc.dir, s.capture + '.html');
        // JPEG: a settings page is some 10000 px tall, and PNG takes seconds to encode.
        await p.screenshot({ path: image, fullPage: true, type: 'jpeg', quality: 85 });
        // What the server sent, not the browser's reserialised DOM.
        writeFileSync(html, c.response ? await c.response.body() : await p.content());
        return { image, html };
    }
    if ('axe' in s) {
        // Evaluated through the debugging protocol: the console's CSP
        // (script-src 'self') stays in force for the page itself.
        await p.evaluate(AXE);
        const r = await p.evaluate(() =>
            window.axe.run(document, { resultTypes: ['violations'] }));
        return {
            violations: r.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target, html: n.html.slice(0, 200) })),
            })),
        };
    }
    if ('query' in s) {
        const elements = await p.$$eval(s.query, (els) =>
            els.map((e) => ({
                text: (e.textContent || '').trim(),
                id: e.id || null,
                html: e.outerHTML.slice(0, 500),
            })));
        return { elements };
    }
    if ('tab' in s) {
        const focus = [];
        for (let i = 0; i < s.tab; i++) {
            await p.keyboard.press('Tab');
            focus.push(await p.evaluate(describeFocus));
        }
        return { focus };
    }
    if ('press' in s) {
        await p.keyboard.press(s.press);
        const url = new URL(p.url());
        return { focus: await p.evaluate(describeFocus), path: url.pathname + url.hash };
    }
    throw new Error('unknown step ' + JSON.stringify(s));
}

async function run(sc) {
    const done = [];
    try {
        const c = await contextFor(sc);
        for (let i = 0; i < (sc.steps || []).length; i++) {
            try {
                done.push(await step(c, sc, sc.steps[i]));
            } catch (e) {
                return { ok: false, error: String(e && e.message || e), step: i, steps: done };
            }
        }
        return { ok: true, steps: done };
    } catch (e) {
        return { ok: false, error: String(e && e.message || e), step: -1, steps: done };
    }
}

async function main() {
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        timeout: TIMEOUT_MS,
        // root (the test machines) cannot use Chromium's user-namespace sandbox
        args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
    });
    try {
        if (process.argv[2]) {
            process.stdout.write(JSON.stringify(await run(JSON.parse(process.argv[2]))) + '\n');
            return;
        }
        const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
        for await (const line of rl) {
            if (!line.trim()) continue;
            let sc;
            try {
                sc = JSON.parse(line);
            } catch (e) {
                process.stdout.write(JSON.stringify({ ok: false, error: 'bad JSON: ' + e.message }) + '\n');
                continue;
            }
            process.stdout.write(JSON.stringify(await run(sc)) + '\n');
        }
    } finally {
        await browser.close();
    }
}

main().catch((e) => {
    process.stderr.write(String(e && e.stack || e) + '\n');
    process.exit(1);
});
