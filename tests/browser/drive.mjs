// drive.mjs BASE_URL ARTIFACTS_DIR -- drives the search page in Debian's headless chromium
// over the Chrome DevTools Protocol (its --remote-debugging-port WebSocket, spoken by the
// small client below: no npm package, any Node from 18), as a person would: type a query, read the results, click a facet,
// go to the next page, use completions by keyboard and by mouse, navigate with the keyboard;
// and opens pages of hostile articles and hostile requests. Prints TAP.
//
// Fails on: any JavaScript exception, console error, failed or refused load, CSP violation
// (reported by chromium's log and by securitypolicyviolation events), any dialog (alert,
// confirm, prompt), and any element or attribute that only hostile data could have made.
// Screenshots at phone (390 px) and desktop (1280 px) widths go to ARTIFACTS_DIR.
// Bounded: the whole run stops (failing) after DRIVE_TIMEOUT_MS (default 120000).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const [BASE, ART] = process.argv.slice(2);
if (!BASE || !ART) {
  console.log('Bail out! usage: drive.mjs BASE_URL ARTIFACTS_DIR');
  process.exit(2);
}
fs.mkdirSync(ART, { recursive: true });

let n = 0;
let failed = 0;
function ok(cond, desc, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${desc}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${desc}`);
    if (detail !== undefined)
      console.log(String(typeof detail === 'string' ? detail : JSON.stringify(detail))
        .slice(0, 2000).split('\n').map((l) => '#   ' + l).join('\n'));
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- chromium --------------------------------------------------------------------------
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-chromium-'));
const chrome = spawn('chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-extensions', '--disable-default-apps', '--mute-audio', '--hide-scrollbars',
  `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
let chromeErr = '';
chrome.stderr.on('data', (d) => { chromeErr = (chromeErr + d).slice(-4000); });
let chromeExited = false;
chrome.on('exit', () => { chromeExited = true; });
chrome.on('error', (e) => { chromeExited = true; chromeErr += String(e); });

function stopChrome() {
  try { process.kill(-chrome.pid, 'SIGKILL'); } catch (e) { /* gone already */ }
  try { fs.rmSync(profile, { recursive: true, force: true }); } catch (e) { /* best effort */ }
}
function bail(why) {
  console.log(`not ok ${++n} - ${why}`);
  console.log(chromeErr.split('\n').slice(-20).map((l) => '#   ' + l).join('\n'));
  console.log(`1..${n}`);
  stopChrome();
  process.exit(1);
}
const deadline = setTimeout(() => bail('the browser test ran past its time limit'),
  Number(process.env.DRIVE_TIMEOUT_MS || 120000));

// chromium writes its port and the browser target's path to DevToolsActivePort.
let wsUrl = null;
for (let i = 0; i < 300 && !wsUrl && !chromeExited; i++) {
  try {
    const [port, p] = fs.readFileSync(path.join(profile, 'DevToolsActivePort'), 'utf8').split('\n');
    if (port && p) wsUrl = `ws://127.0.0.1:${port.trim()}${p.trim()}`;
  } catch (e) { /* not yet */ }
  if (!wsUrl) await sleep(100);
}
if (!wsUrl) bail('chromium starts with a DevTools port (is Debian\'s chromium installed and runnable?)');
ok(true, 'chromium starts headless with a DevTools port');

// ---- the protocol ----------------------------------------------------------------------
// A WebSocket client for one local connection (RFC 6455): text frames, masked as a client
// must; fragmented and large (screenshot) messages reassembled.
function wsConnect(u, onMessage) {
  return new Promise((resolve, reject) => {
    const { hostname, port, pathname } = new URL(u);
    const req = http.get({ host: hostname, port, path: pathname, headers: {
      Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64') } });
    req.on('error', reject);
    req.on('response', (r) => reject(new Error('no upgrade: HTTP ' + r.statusCode)));
    req.on('upgrade', (res, sock) => {
      let buf = Buffer.alloc(0);
      let parts = [];
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          if (buf.length < 2) return;
          const fin = buf[0] & 0x80, op = buf[0] & 0x0f;
          let len = buf[1] & 0x7f, off = 2;
          if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
          else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
          if (buf.length < off + len) return;
          const payload = buf.subarray(off, off + len);
          buf = buf.subarray(off + len);
          if (op === 0x1 || op === 0x0) {
            parts.push(payload);
            if (fin) { const text = Buffer.concat(parts).toString('utf8'); parts = []; onMessage(text); }
          } else if (op === 0x8) sock.end();
        }
      });
      resolve({
        send(text) {
          const data = Buffer.from(text, 'utf8');
          const mask = crypto.randomBytes(4);
          let head;
          if (data.length < 126) head = Buffer.from([0x81, 0x80 | data.length]);
          else if (data.length < 65536) { head = Buffer.alloc(4); head[0] = 0x81; head[1] = 0x80 | 126; head.writeUInt16BE(data.length, 2); }
          else { head = Buffer.alloc(10); head[0] = 0x81; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(data.length), 2); }
          for (let i = 0; i < data.length; i++) data[i] ^= mask[i & 3];
          sock.write(Buffer.concat([head, mask, data]));
        },
        close() { sock.destroy(); },
      });
    });
  });
}
const ws = await wsConnect(wsUrl, (text) => onMessage(text))
  .catch((e) => bail('connect to chromium\'s DevTools WebSocket: ' + e.message));
let seq = 0;
const pending = new Map();
const listeners = [];
function onMessage(text) {
  const msg = JSON.parse(text);
  if (msg.id && pending.has(msg.id)) {
    const { res, rej, method } = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) rej(new Error(`${method}: ${msg.error.message}`));
    else res(msg.result);
  } else if (msg.method) {
    for (const l of listeners) l(msg);
  }
}
let session = null;
function send(method, params = {}, sid = session) {
  const id = ++seq;
  const m = { id, method, params };
  if (sid) m.sessionId = sid;
  ws.send(JSON.stringify(m));
  return new Promise((res, rej) => pending.set(id, { res, rej, method }));
}

// What must never happen, collected over the whole run.
const problems = [];
const dialogs = [];
// Pages the test asks for knowing they answer an error status (a bad filter: 400).
const expectedErrors = new Set();
listeners.push((msg) => {
  const p = msg.params || {};
  switch (msg.method) {
  case 'Runtime.exceptionThrown':
    problems.push('JS exception: ' + (p.exceptionDetails.exception?.description || p.exceptionDetails.text));
    break;
  case 'Runtime.consoleAPICalled':
    if (p.type === 'error' || p.type === 'assert')
      problems.push('console.' + p.type + ': ' + p.args.map((a) => a.value ?? a.description).join(' '));
    break;
  case 'Log.entryAdded':
    if (p.entry.source === 'network' && expectedErrors.has(p.entry.url)) break;
    if (p.entry.level === 'error' || /Content Security Policy/i.test(p.entry.text))
      problems.push(`log (${p.entry.source}): ${p.entry.text} ${p.entry.url || ''}`);
    break;
  case 'Network.loadingFailed':
    if (!p.canceled) problems.push(`load failed: ${p.errorText} ${p.blockedReason || ''}`);
    break;
  case 'Page.javascriptDialogOpening':
    dialogs.push(`${p.type}: ${p.message}`);
    send('Page.handleJavaScriptDialog', { accept: false }).catch(() => {});
    break;
  }
});

const { targetId } = await send('Target.createTarget', { url: 'about:blank' }, null);
({ sessionId: session } = await send('Target.attachToTarget', { targetId, flatten: true }, null));
await send('Page.enable');
await send('Runtime.enable');
await send('Log.enable');
await send('Network.enable');
// Records CSP violations the page itself sees (runs before any page script).
await send('Page.addScriptToEvaluateOnNewDocument', {
  source: `window.__csp = []; document.addEventListener('securitypolicyviolation',
    (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
});
await viewport(1280, 900, false);

async function viewport(width, height, mobile) {
  await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: mobile ? 2 : 1, mobile });
}
async function evaluate(expr) {
  const r = await send('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) throw new Error('evaluate: ' + (r.exceptionDetails.exception?.description || r.exceptionDetails.text));
  return r.result.value;
}
// Whether expr becomes true within ms.
async function until(expr, ms = 5000) {
  for (const t0 = Date.now(); Date.now() - t0 < ms;) {
    try { if (await evaluate(expr)) return true; } catch (e) { /* page changing */ }
    await sleep(50);
  }
  return false;
}
async function waitFor(expr, what, ms = 5000) {
  if (await until(expr, ms)) return true;
  ok(false, `waiting for ${what}`);
  return false;
}
// Runs act (which starts a navigation) and waits for the new page's load event.
async function loads(act) {
  let done;
  const loaded = new Promise((r) => { done = r; });
  const l = (msg) => { if (msg.method === 'Page.loadEventFired') done(); };
  listeners.push(l);
  await act();
  const t = await Promise.race([loaded.then(() => true), sleep(10000).then(() => false)]);
  listeners.splice(listeners.indexOf(l), 1);
  if (!t) ok(false, 'a page loads within 10 s');
  await waitFor('document.readyState === "complete"', 'the page to be complete');
}
const go = (url) => loads(() => send('Page.navigate', { url: BASE + url }));
const url = () => evaluate('location.pathname + location.search');
async function key(k, extra = {}) {
  const codes = { Enter: 13, ArrowDown: 40, ArrowUp: 38, ArrowRight: 39, ArrowLeft: 37, Escape: 27, Backspace: 8 };
  const base = { key: k, code: k, windowsVirtualKeyCode: codes[k] || 0, ...extra };
  await send('Input.dispatchKeyEvent', { type: 'keyDown', ...base, ...(k === 'Enter' ? { text: '\r' } : {}) });
  await send('Input.dispatchKeyEvent', { type: 'keyUp', ...base });
}
// Types text into the search box. The keys go to whatever has focus: the box's autofocus
// is applied at a rendering step that may come after the load event, so wait for it.
async function type(text) {
  await waitFor('document.activeElement === document.getElementById("q")', 'the search box to have focus');
  for (const c of text) {
    await send('Input.dispatchKeyEvent', { type: 'keyDown', key: c, text: c, unmodifiedText: c });
    await send('Input.dispatchKeyEvent', { type: 'keyUp', key: c });
    await sleep(15);
  }
}
async function click(selector) {
  const r = await evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)});
    if (!e) return null; e.scrollIntoView({ block: 'center' }); const b = e.getBoundingClientRect();
    return { x: b.left + b.width / 2, y: b.top + b.height / 2 }; })()`);
  if (!r) { ok(false, `an element ${selector} to click`); return false; }
  for (const type of ['mousePressed', 'mouseReleased'])
    await send('Input.dispatchMouseEvent', { type, x: r.x, y: r.y, button: 'left', clickCount: 1 });
  return true;
}
async function shot(name) {
  const { data } = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
  fs.writeFileSync(path.join(ART, name), Buffer.from(data, 'base64'));
}
async function api(p) {
  const r = await fetch(BASE + p);
  return r.json();
}
const hitIds = () => evaluate('[...document.querySelectorAll(".hit")].map((h) => h.dataset.id)');

// Nothing on the page that only data could have put there.
const INERT = `(() => {
  const bad = [];
  for (const e of document.querySelectorAll('*')) {
    const tag = e.tagName.toLowerCase();
    if (['img', 'svg', 'iframe', 'object', 'embed', 'style', 'base', 'frame', 'math'].includes(tag)) bad.push('<' + tag + '>');
    if (tag === 'script' && e.getAttribute('src') !== '/assets/page.js') bad.push('a script');
    for (const a of e.attributes) {
      if (/^on/i.test(a.name)) bad.push(tag + ' ' + a.name);
      if (a.name === 'href' && !/^(\\/|https?:\\/\\/)/.test(a.value)) bad.push('href ' + a.value);
      if (a.name === 'href' && /^\\/\\//.test(a.value)) bad.push('href ' + a.value);
    }
  }
  if (document.querySelectorAll('script').length !== 1) bad.push('scripts: ' + document.querySelectorAll('script').length);
  return bad;
})()`;
async function inert(what) {
  const bad = await evaluate(INERT);
  ok(bad.length === 0, `${what}: no element or attribute from data`, bad);
}

try {
  // ---- the empty page ----------------------------------------------------------------------
  await go('/');
  ok(await until('document.activeElement && document.activeElement.id === "q"'), 'the empty page focuses the search box');
  await shot('home-1280.png');

  // ---- type a query --------------------------------------------------------------------------
  await type('government');
  await loads(() => key('Enter'));
  ok(await url() === '/?q=government', 'Enter searches: the URL carries the query', await url());
  let api1 = await api('/search?q=government&limit=10');
  const page1 = await hitIds();
  ok(JSON.stringify(page1) === JSON.stringify(api1.hits.map((h) => h.id)), 'the results read are the API\'s hits, in order',
    { page: page1, api: api1.hits.map((h) => h.id) });
  ok(await evaluate('document.querySelectorAll(".hit-snippet mark").length > 0'), 'snippets mark the matched words');
  ok(await evaluate('[...document.querySelectorAll(".hit-title")].every((t) => t.textContent.trim().length > 0)'), 'every hit has a title');
  await inert('results');
  await shot('results-1280.png');
  await viewport(390, 844, true);
  await go('/?q=government');
  ok(await evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'at 390 px the page needs no sideways scrolling',
    await evaluate('[document.documentElement.scrollWidth, window.innerWidth]'));
  ok(await evaluate('parseFloat(getComputedStyle(document.querySelector(".hit-snippet")).fontSize) >= 14'), 'at 390 px the text is at least 14 px');
  await shot('results-390.png');
  await viewport(1280, 900, false);
  await go('/?q=government');

  // ---- click a facet ---------------------------------------------------------------------------
  const facet = await evaluate('document.querySelector(".facet[data-field=category] .facet-value .value").textContent');
  await loads(() => click('.facet[data-field=category] .facet-value'));
  ok((await url()).startsWith('/?q=government&filter=category%3A'), 'the facet click filters, in the URL', await url());
  const cats = await evaluate('[...document.querySelectorAll(".hit-category")].map((e) => e.textContent)');
  ok(cats.length > 0 && cats.every((c) => c === facet), `every hit is in the category clicked (${facet})`, cats);
  ok(await evaluate('document.querySelector(".facet-value.on") !== null'), 'the active facet is shown as on');
  await inert('filtered results');

  // ---- the next page ---------------------------------------------------------------------------
  const filtered1 = await hitIds();
  await loads(() => click('.pages a[rel=next]'));
  ok(/[?&]page=2(&|$)/.test(await url()) && (await url()).includes('filter=category'), 'Next goes to page 2, keeping the filter', await url());
  const filtered2 = await hitIds();
  ok(filtered2.length > 0 && filtered2.every((id) => !filtered1.includes(id)), 'page 2 shows other hits than page 1', { filtered1, filtered2 });
  ok(await evaluate('document.querySelector(".hits").start === 11'), 'page 2 numbers its hits from 11');
  await loads(() => click('.pages a[rel=prev]'));
  ok(JSON.stringify(await hitIds()) === JSON.stringify(filtered1), 'Previous comes back to page 1');

  // ---- keyboard navigation ---------------------------------------------------------------------
  await go('/?q=government');
  await evaluate('document.activeElement.blur()');
  await key('ArrowDown');
  await key('ArrowDown');
  ok(await evaluate('document.querySelectorAll(".hit.sel").length === 1 && document.querySelectorAll(".hit")[1].classList.contains("sel")'),
    'arrow keys select the second hit');
  await key('ArrowUp');
  ok(await evaluate('document.querySelectorAll(".hit")[0].classList.contains("sel")'), 'arrow up selects the first hit again');
  await send('Input.dispatchKeyEvent', { type: 'keyDown', key: '/', text: '/', unmodifiedText: '/' });
  await send('Input.dispatchKeyEvent', { type: 'keyUp', key: '/' });
  ok(await evaluate('document.activeElement.id === "q" && document.getElementById("q").value === "government"'), '/ focuses the search box (and types nothing)');
  await evaluate('document.activeElement.blur()');
  await loads(() => key('ArrowRight'));
  ok(/[?&]page=2(&|$)/.test(await url()), 'the right arrow goes to the next page', await url());

  // ---- completions by keyboard ---------------------------------------------------------------------
  await go('/');
  const want = await api('/complete?q=elec&limit=8');
  const expect = [...new Set([...want.completions, ...want.titles.map((t) => t.title)])];
  const shownJs = '[...document.querySelectorAll("#complete li")].map((l) => l.textContent)';
  await type('elec');
  // Answers to the earlier keystrokes (e, el, ele) may show first and share their first
  // entries with the last one's: wait for the whole list.
  await waitFor(`!document.getElementById("complete").hidden &&
    JSON.stringify(${shownJs}) === ${JSON.stringify(JSON.stringify(expect))}`, 'completions of elec');
  const shown = await evaluate(shownJs);
  ok(JSON.stringify(shown) === JSON.stringify(expect), 'the completions shown are /complete\'s', { shown, expect });
  await key('ArrowDown');
  ok(await evaluate('document.querySelector("#complete li[aria-selected=true]") === document.querySelector("#complete li")'), 'arrow down selects the first completion');
  await loads(() => key('Enter'));
  ok(await url() === '/?q=' + encodeURIComponent(want.completions[0]).replace(/%20/g, '+'), `Enter on it searches for ${want.completions[0]}`, await url());
  ok(await evaluate(`document.getElementById("q").value === ${JSON.stringify(want.completions[0])}`), 'the box holds the completion');

  // ---- a completion by mouse ---------------------------------------------------------------------
  await go('/');
  const want2 = await api('/complete?q=' + encodeURIComponent('Oil pr') + '&limit=8');
  await type('Oil pr');
  await waitFor(`document.querySelectorAll("#complete li").length > 1 &&
    document.querySelector("#complete li").textContent === ${JSON.stringify(want2.completions[0])}`, 'completions of "Oil pr"');
  const second = await evaluate('document.querySelectorAll("#complete li")[1].textContent');
  await loads(() => click('#complete li:nth-child(2)'));
  ok(await evaluate(`document.getElementById("q").value === ${JSON.stringify(second)}`), `a click on a completion searches for it (${second})`);
  await key('Escape');

  // ---- hostile articles ------------------------------------------------------------------------------
  await go('/?q=zebracorn');
  await inert('hostile articles');
  const titles = await evaluate('[...document.querySelectorAll(".hit-title")].map((t) => t.textContent)');
  ok(titles.includes('<script>alert(1)</script>'), 'a <script> title shows as text', titles);
  ok(titles.includes('Zebracorn <img src=x onerror=alert(5)> report'), 'an <img onerror> title shows as text', titles);
  ok(await evaluate('document.body.textContent.includes("\\"><img src=x onerror=alert(2)>")'), 'a hostile facet value shows as text');
  ok(await evaluate('[...document.querySelectorAll(".hit-title a[href]")].map((a) => a.href).join() === "https://example.org/zebracorn?a=1&b=%22x%22"'),
    'only the https url is a link', await evaluate('[...document.querySelectorAll(".hit-title a[href]")].map((a) => a.getAttribute("href"))'));
  // Move the mouse over every hit and focus every link: an injected handler would fire.
  const n_hits = await evaluate('document.querySelectorAll(".hit").length');
  for (let i = 1; i <= n_hits; i++) {
    const r = await evaluate(`(() => { const e = document.querySelector(".hit:nth-child(${i})"); e.scrollIntoView(); const b = e.getBoundingClientRect(); return { x: b.left + 20, y: b.top + 10 }; })()`);
    await send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: r.x, y: r.y });
  }
  await shot('hostile-1280.png');
  await viewport(390, 844, true);
  await go('/?q=zebracorn');
  await shot('hostile-390.png');
  await viewport(1280, 900, false);
  await loads(() => click('.facet[data-field=category] .facet-value'));
  await inert('a hostile facet clicked');

  // ---- typo tolerance ----------------------------------------------------------------------------------
  await go('/');
  await type('zebrakorn');
  await loads(() => key('Enter'));
  ok(await evaluate('(document.querySelector(".corrected b") || {}).textContent') === 'zebracorn',
    'a misspelt query shows "Showing results for" its correction', await evaluate('(document.querySelector(".corrected") || {}).textContent'));
  const typo = await api('/search?q=zebrakorn&limit=10');
  ok(typo.corrected_query === 'zebracorn' && JSON.stringify(await hitIds()) === JSON.stringify(typo.hits.map((h) => h.id)),
    'the corrected results are the API\'s hits, in order', { api: typo.corrected_query, page: await hitIds() });
  ok(await evaluate('document.querySelector(".suggestion") === null'), 'no "did you mean" beside a correction');
  await inert('corrected results');
  await shot('corrected-1280.png');
  await loads(() => click('.corrected a'));
  ok(/[?&]fuzzy=0(&|$)/.test(await url()), '"Search instead for" asks for the query as typed (fuzzy=0)', await url());
  ok(await evaluate('document.querySelector(".corrected") === null && (document.querySelector(".suggestion a") || {}).textContent === "zebracorn"'),
    'the query as typed offers the correction as "did you mean"');
  await loads(() => click('.suggestion a'));
  ok(await evaluate('document.getElementById("q").value') === 'zebracorn', '"did you mean" searches the correction');

  // ---- hostile requests ----------------------------------------------------------------------------------
  const hostileQ = '<script>alert(1)</script>"><img src=x onerror=alert(1)>';
  await go('/?q=' + encodeURIComponent(hostileQ));
  await inert('a hostile q');
  ok(await evaluate(`document.getElementById("q").value === ${JSON.stringify(hostileQ)}`), 'a hostile q is echoed as the box\'s text');
  await go('/?q=zebracorn&mark_open=' + encodeURIComponent('<img src=x onerror=alert(1)>') + '&mark_close=' + encodeURIComponent('</img>'));
  await inert('mark_open in the URL');
  ok(await evaluate('document.querySelectorAll(".hit-snippet mark").length > 0'), 'the page marks with its own <mark>');
  const badFilter = '/?q=zebracorn&filter=' + encodeURIComponent('"><script>alert(1)</script>') + '&sort=' + encodeURIComponent('"><b>');
  expectedErrors.add(BASE + badFilter);
  await go(badFilter);
  await inert('hostile filter and sort');
  ok(await evaluate('document.querySelector(".error") !== null'), 'a filter that is not FIELD:VALUE shows an error on the page');
  await go('/');
  const want3 = await api('/complete?q=zebra&limit=8');
  await type('zebra');
  await waitFor(`document.querySelectorAll("#complete li.title").length > 0 &&
    document.querySelector("#complete li").textContent === ${JSON.stringify(want3.completions[0] || want3.titles[0].title)}`, 'title completions of zebra');
  const ctitles = await evaluate('[...document.querySelectorAll("#complete li.title")].map((l) => l.textContent)');
  ok(ctitles.includes('<script>alert(1)</script>') || ctitles.some((t) => t.startsWith('Zebracorn <img')), 'hostile titles complete as text', ctitles);
  await inert('hostile completions');
  await evaluate('document.getElementById("q").value = ""');
  await type(hostileQ);
  await sleep(400);
  await inert('a hostile text typed in the box');

  await sleep(300);
  const csp = await evaluate('window.__csp');
  ok(csp.length === 0, 'no CSP violation seen by the page', csp);
  ok(dialogs.length === 0, 'no dialog ever opened (alert, confirm, prompt)', dialogs);
  ok(problems.length === 0, 'no JavaScript error, console error, failed load or CSP report', problems);
} catch (e) {
  ok(false, 'the browser session runs to its end', String(e && e.stack || e));
}
clearTimeout(deadline);
console.log(`# screenshots in ${ART}: ${fs.readdirSync(ART).join(' ')}`);
console.log(`1..${n}`);
ws.close();
stopChrome();
process.exit(failed ? 1 : 0);
