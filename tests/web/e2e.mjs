// Real-browser end-to-end test of `k2k serve`: starts the server on a free port, drives Debian's
// chromium through the page (upload, paste, drop, boxes on a page, invert override, API error).
// Usage: node e2e.mjs --k2k BIN --run RUN --kuzushiji PNG --out DIR
// Exits 1 with a "FAIL:" line naming the failed check; the server is killed at exit, always.
// K2K_WEB_DIR=DIR serves index.html, app.js and style.css from DIR instead of the copies embedded
// in the binary (with the server's own headers), to try page edits without rebuilding k2k.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const START_TIMEOUT_MS = 180000;  // loading a run's networks on a busy 2-core machine
const READ_TIMEOUT_MS = 120000;   // one /api/read (tiny run: well under a second when idle)
const VIEWPORT = { width: 1280, height: 800 };

function parseArgs(argv) {
  const a = { k2k: '', run: '', kuzushiji: '', out: '' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in a) || i + 1 >= argv.length) throw new Error('usage: e2e.mjs --k2k BIN --run RUN --kuzushiji PNG --out DIR (bad argument ' + argv[i] + ')');
    a[k] = argv[++i];
  }
  for (const k of Object.keys(a)) if (!a[k]) throw new Error('e2e.mjs: --' + k + ' is required');
  return a;
}

let server = null;       // the k2k serve child process
let serverLog = '';      // its stdout + stderr, printed when something fails
let browser = null;

function killServer() {
  if (server && server.exitCode === null && server.signalCode === null) {
    try { server.kill('SIGTERM'); } catch (e) { /* already gone */ }
  }
}
process.on('exit', killServer);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { killServer(); process.exit(130); });

// Starts `BIN serve --run RUN --port 0` and resolves to the URL from its "listening on" line.
function startServer(bin, run) {
  return new Promise((resolve, reject) => {
    server = spawn(bin, ['serve', '--run', run, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const timer = setTimeout(() => reject(new Error('k2k serve printed no "listening on" line within ' +
      START_TIMEOUT_MS / 1000 + ' s')), START_TIMEOUT_MS);
    server.stdout.on('data', (d) => {
      serverLog += d;
      pending += d;
      const m = pending.match(/listening on (http:\/\/[^\s/]+\/?)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].endsWith('/') ? m[1] : m[1] + '/');
      }
    });
    server.stderr.on('data', (d) => { serverLog += d; });
    server.on('error', (e) => { clearTimeout(timer); reject(new Error('cannot start ' + bin + ': ' + e.message)); });
    server.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error('k2k serve exited (' + (sig || 'code ' + code) + ') before listening'));
    });
  });
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const log = (s) => console.log('[e2e] ' + s);

// Runs `action` (which makes the page send one /api/read), waits for the response and for the
// page to finish with it (a new answer rendered, or an error shown). Returns {response, json, url}.
async function readVia(page, what, action) {
  const before = Number((await page.getAttribute('#results', 'data-answer')) || 0);
  const t0 = Date.now();
  const respP = page.waitForResponse((r) => r.url().includes('/api/read') && r.request().method() === 'POST',
    { timeout: READ_TIMEOUT_MS });
  await action();
  let response;
  try {
    response = await respP;
  } catch (e) {
    throw new Error(what + ': the page sent no POST /api/read (or it got no answer in ' + READ_TIMEOUT_MS / 1000 + ' s)');
  }
  let json = null;
  try { json = await response.json(); } catch (e) { log(what + ": cannot read the response body: " + e.message); }
  if (response.ok()) {
    await page.waitForFunction((n) => Number(document.getElementById('results').dataset.answer || 0) > n &&
      !document.body.classList.contains('busy'), before, { timeout: 20000 })
      .catch(() => { throw new Error(what + ': the server answered 200 but the page rendered no answer'); });
  } else {
    await page.waitForFunction(() => document.getElementById('status').classList.contains('error'), null,
      { timeout: 20000 }).catch(() => { throw new Error(what + ': the server answered ' + response.status() +
        ' but the page shows no error'); });
  }
  log(what + ': ' + response.status() + ' in ' + (Date.now() - t0) + ' ms  ' + response.url().replace(/^.*\/api/, '/api'));
  return { response, json, url: new URL(response.url()) };
}

// Candidates listed on the page, each with a probability; at least one CSS-animated <svg> in
// the candidates and in the stroke samples.
async function checkAnswer(page, what, json) {
  check(json && json.schema === 'k2k-read', what + ': the response is not a k2k-read answer');
  check(Array.isArray(json.candidates) && json.candidates.length >= 1, what + ': the response has no candidates');
  const c0 = json.candidates[0];
  check(typeof c0.probability === 'number' && c0.probability >= 0 && c0.probability <= 1,
    what + ': candidate 1 has no probability in [0, 1] (' + c0.probability + ')');
  const items = await page.locator('#candidates li').count();
  check(items === json.candidates.length, what + ': the page lists ' + items + ' candidates, the response has ' +
    json.candidates.length);
  const probText = await page.locator('#candidates li .prob-text').first().textContent();
  check(/\d+(\.\d)? %/.test(probText || ''), what + ': the first candidate shows no probability ("' + probText + '")');
  const best = await page.locator('#best-char').textContent();
  check(best === c0.character, what + ': the best reading shows "' + best + '", the response says "' + c0.character + '"');
  for (const area of ['#candidates', '#samples-list']) {
    const a = await page.evaluate((sel) => {
      const svgs = Array.from(document.querySelectorAll(sel + ' svg'));
      let css = 0, smil = 0;
      for (const svg of svgs) {
        const els = [svg].concat(Array.from(svg.querySelectorAll('*')));
        if (els.some((e) => getComputedStyle(e).animationName !== 'none')) css++;
        if (svg.querySelector('animate, animateTransform, animateMotion, set')) smil++;
      }
      return { svgs: svgs.length, css, smil };
    }, area);
    check(a.svgs >= 1, what + ': no <svg> in ' + area);
    check(a.css >= 1, what + ': no <svg> in ' + area + ' has a running CSS animation (' + a.svgs + ' svgs, ' +
      a.smil + ' with SMIL <animate> instead)');
  }
  const prepared = await page.evaluate(() => {
    const i = document.getElementById('prepared');
    return { w: i.naturalWidth, h: i.naturalHeight, complete: i.complete };
  });
  check(prepared.w === 64 && prepared.h === 64, what + ': the prepared image shown is ' + prepared.w + 'x' +
    prepared.h + ', expected 64x64');
  return c0;
}

async function checkNoHorizontalScroll(page, what) {
  const s = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  check(s.sw <= s.cw, what + ': the page scrolls horizontally at ' + VIEWPORT.width + 'x' + VIEWPORT.height +
    ' (' + s.sw + ' px wide content in ' + s.cw + ' px)');
}

// In the page: builds an image from the Kuzushiji PNG (white ink on black) with a canvas and
// returns it base64-encoded. kind 'photo': black ink on light noisy paper, off-centre, JPEG;
// kind 'page': several characters on light paper, PNG, with the characters' boxes.
async function makeImage(page, kuzushijiB64, kind) {
  return page.evaluate(async ({ b64, kind }) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    // Ink as black on white: invert the grey image.
    const ink = document.createElement('canvas');
    ink.width = img.naturalWidth;
    ink.height = img.naturalHeight;
    const ig = ink.getContext('2d');
    ig.drawImage(img, 0, 0);
    const d = ig.getImageData(0, 0, ink.width, ink.height);
    for (let i = 0; i < d.data.length; i += 4) {
      d.data[i] = 255 - d.data[i]; d.data[i + 1] = 255 - d.data[i + 1]; d.data[i + 2] = 255 - d.data[i + 2];
    }
    ig.putImageData(d, 0, 0);
    let seed = 12345;
    const rand = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
    function paper(w, h) {
      const c = document.createElement('canvas');
      c.width = w; c.height = h;
      const g = c.getContext('2d');
      const p = g.createImageData(w, h);
      for (let i = 0; i < p.data.length; i += 4) {
        const n = (rand() - 0.5) * 18;
        p.data[i] = 234 + n; p.data[i + 1] = 226 + n; p.data[i + 2] = 206 + n; p.data[i + 3] = 255;
      }
      g.putImageData(p, 0, 0);
      g.globalCompositeOperation = 'multiply';  // dark ink over the paper, paper shows through the white
      return { c, g };
    }
    const toB64 = (c, type) => new Promise((res) => c.toBlob((b) => {
      const r = new FileReader();
      r.onload = () => res(String(r.result).split(',')[1]);
      r.readAsDataURL(b);
    }, type, 0.9));
    if (kind === 'photo') {
      const { c, g } = paper(150, 128);
      g.drawImage(ink, 58, 14, 80, 80);  // off-centre: right and up
      return { b64: await toB64(c, 'image/jpeg'), width: 150, height: 128 };
    }
    const { c, g } = paper(640, 480);
    const boxes = [[60, 50, 110, 110], [300, 190, 96, 96], [470, 70, 120, 120], [120, 300, 100, 100]];
    for (const b of boxes) g.drawImage(ink, b[0], b[1], b[2], b[3]);
    return { b64: await toB64(c, 'image/png'), width: 640, height: 480, boxes };
  }, { b64: kuzushijiB64, kind });
}

// Hands a file to the page the way a user would: 'paste' (Ctrl+V) or 'drop' (drag and drop).
async function giveFile(page, how, b64, name, type) {
  await page.evaluate(({ how, b64, name, type }) => {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type }));
    if (how === 'paste') document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
    else {
      const target = document.getElementById('drop');
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, { how, b64, name, type });
}

// Drags a box on the page canvas with the mouse; box in source pixels of an image w x h.
async function dragBox(page, box, w, h) {
  const bb = await page.locator('#page').boundingBox();
  check(bb && bb.width > 0, 'page: the page canvas is not visible');
  const sx = bb.width / w, sy = bb.height / h;
  const x0 = bb.x + box[0] * sx, y0 = bb.y + box[1] * sy;
  const x1 = bb.x + (box[0] + box[2]) * sx, y1 = bb.y + (box[1] + box[3]) * sy;
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 4 });
  await page.mouse.move(x1, y1, { steps: 4 });
  await page.mouse.up();
}

function boxParam(url) {
  const b = url.searchParams.get('box');
  return b === null ? null : b.split(',').map(Number);
}

function near(a, b, tol) {
  return a && b && a.length === 4 && a.every((v, i) => Math.abs(v - b[i]) <= tol);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const kuzushijiB64 = fs.readFileSync(args.kuzushiji).toString('base64');

  const t0 = Date.now();
  const base = await startServer(args.k2k, args.run);
  log('server up at ' + base + ' after ' + (Date.now() - t0) + ' ms');

  const noSandbox = typeof process.getuid === 'function' && process.getuid() === 0;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: noSandbox ? ['--no-sandbox'] : [],
  });
  const context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base.replace(/\/$/, '') });
  const page = await context.newPage();
  if (process.env.K2K_WEB_DIR) {
    const dir = process.env.K2K_WEB_DIR;
    const files = { '/': 'index.html', '/app.js': 'app.js', '/style.css': 'style.css' };
    await page.route((url) => url.origin + '/' === base && url.pathname in files, async (route) => {
      const response = await route.fetch();
      const name = files[new URL(route.request().url()).pathname];
      await route.fulfill({ response, body: fs.readFileSync(path.join(dir, name)) });
    });
    log('page files from ' + dir + ' (K2K_WEB_DIR), not the binary');
  }
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Failed loads are the API's answers (checked one by one, e.g. the 400 of (e)), not page bugs.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) pageErrors.push('console: ' + m.text());
  });

  try {
    // (f) health, straight from the API and as the page shows it.
    const health = await page.request.get(base + 'api/health');
    check(health.status() === 200, '(f) health: GET /api/health answered ' + health.status());
    const hj = await health.json();
    check(hj.status === 'ok' && hj.version === 1 && typeof hj.run === 'string' && Number.isInteger(hj.characters) &&
      Number.isInteger(hj.kuzushiji_classes) && Number.isInteger(hj.samples),
      '(f) health: unexpected body ' + JSON.stringify(hj));
    log('(f) health: ' + JSON.stringify(hj));

    await page.goto(base, { waitUntil: 'load' });
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource').filter((r) => !r.name.includes('/api/'));
      return { ttfb: n.responseStart - n.startTime, dcl: n.domContentLoadedEventEnd - n.startTime,
        load: n.loadEventEnd - n.startTime, bytes: n.transferSize + res.reduce((s, r) => s + r.transferSize, 0),
        html: n.transferSize, resources: res.map((r) => r.name.replace(/^.*\//, '/')) };
    });
    log('page load (navigation timing, localhost): first byte ' + nav.ttfb.toFixed(1) + ' ms, DOMContentLoaded ' +
      nav.dcl.toFixed(1) + ' ms, load ' + nav.load.toFixed(1) + ' ms, ' + nav.bytes + ' bytes over the wire (' +
      ['/'].concat(nav.resources).join(' ') + ')');
    check(nav.resources.includes('/app.js') && nav.resources.includes('/style.css'),
      'page: /app.js and /style.css were not both loaded (' + nav.resources.join(' ') + ')');
    await page.waitForFunction(() => document.getElementById('health').classList.contains('ok'), null, { timeout: 10000 })
      .catch(() => { throw new Error('(f) health: the page does not show the model as connected'); });
    log('(f) page header: ' + (await page.locator('#health').textContent()));

    // (a) the real Kuzushiji image through the file picker.
    const a = await readVia(page, '(a) upload', () => page.setInputFiles('#file', args.kuzushiji));
    check(a.response.status() === 200, '(a) upload: /api/read answered ' + a.response.status() + ' ' + JSON.stringify(a.json));
    check(boxParam(a.url) === null, '(a) upload: a 64x64 crop was sent with a box (' + a.url.search + ')');
    const best = await checkAnswer(page, '(a) upload', a.json);
    log('(a) best: ' + best.character + ' ' + best.codepoint + ' p=' + best.probability.toFixed(3) + ', ' +
      a.json.candidates.length + ' candidates, ' + a.json.samples.length + ' stroke samples, classifier ' +
      (a.json.classifier ? a.json.classifier.length + ' rows' : 'null'));
    if (Array.isArray(a.json.classifier)) {
      const n = await page.locator('#classifier li').count();
      check(n === a.json.classifier.length, '(a) classifier: the page lists ' + n + ' of ' + a.json.classifier.length);
    }
    const a11y = await page.evaluate(() => ({
      noAlt: Array.from(document.images).filter((i) => !i.hidden && !i.closest('[hidden]') && !i.alt).length,
      unlabelled: Array.from(document.querySelectorAll('input')).filter((i) => !(i.labels && i.labels.length) &&
        !i.getAttribute('aria-label')).map((i) => i.id || i.name),
      nonJa: Array.from(document.querySelectorAll('#candidates .char, #best-char')).filter((e) => e.closest('[lang=ja]') === null).length,
    }));
    check(a11y.noAlt === 0, '(a) accessibility: ' + a11y.noAlt + ' images without alt text');
    check(a11y.unlabelled.length === 0, '(a) accessibility: inputs without a label: ' + a11y.unlabelled.join(' '));
    check(a11y.nonJa === 0, '(a) accessibility: character text without lang="ja"');
    await checkNoHorizontalScroll(page, '(a) layout');
    await page.screenshot({ path: path.join(args.out, 'serve_answer.png'), fullPage: true });

    // The answer's tools: copy, downloads, uncertainty toggle.
    await page.click('#copy');
    await page.waitForFunction(() => /Copied/.test(document.getElementById('status').textContent), null, { timeout: 5000 })
      .catch(() => { throw new Error('(a) copy: no "Copied" message after pressing Copy character'); });
    const clip = await page.evaluate(() => navigator.clipboard.readText().catch((e) => 'unreadable: ' + e.message));
    check(clip === best.character, '(a) copy: the clipboard holds "' + clip + '", expected "' + best.character + '"');
    // The downloads, as a user gets them (the server's CSP keeps the page from fetching blob: URLs).
    const saved = {};
    for (const [id, ext] of [['#download-json', '.json'], ['#download-svg', '.svg']]) {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click(id)])
        .catch(() => { throw new Error('(a) download: clicking ' + id + ' started no download'); });
      check(download.suggestedFilename().endsWith(ext), '(a) download: ' + id + ' is offered as ' + download.suggestedFilename());
      const file = path.join(args.out, 'download' + ext);
      await download.saveAs(file);
      saved[ext] = fs.readFileSync(file, 'utf8');
    }
    let dj = null;
    try { dj = JSON.parse(saved['.json']); } catch (e) { /* checked next */ }
    check(dj && dj.schema === 'k2k-read' && dj.candidates[0].character === best.character,
      '(a) download: the JSON file is not the answer shown');
    check(/<svg[\s>]/.test(saved['.svg']) && saved['.svg'] === a.json.samples.slice().sort((x, y) => x.rank - y.rank)[0].svg,
      '(a) download: the SVG file is not the best stroke sample');
    await page.uncheck('#show-uncertainty');
    check(await page.locator('#uncertainty').isHidden(), '(a) toggle: the uncertainty overlay stays visible when unticked');
    await page.check('#show-uncertainty');
    check(await page.locator('#uncertainty').isVisible(), '(a) toggle: the uncertainty overlay does not come back');
    log('(a) copy, both downloads and the uncertainty toggle work');

    // (b) a black-on-paper photo-style crop (JPEG), pasted with Ctrl+V.
    const photo = await makeImage(page, kuzushijiB64, 'photo');
    const b = await readVia(page, '(b) photo crop, pasted', () => giveFile(page, 'paste', photo.b64, 'photo.jpg', 'image/jpeg'));
    check(b.response.status() === 200, '(b) photo: /api/read answered ' + b.response.status() + ' ' + JSON.stringify(b.json));
    check(b.json.source && b.json.source.format === 'jpeg', '(b) photo: source.format is ' + JSON.stringify(b.json.source));
    check(b.json.prepared.inverted === true, '(b) photo: dark ink on paper was not inverted (prepared.inverted ' +
      b.json.prepared.inverted + ', background ' + b.json.prepared.background + ')');
    check((await page.getAttribute('#prepared-info', 'data-inverted')) === 'true', '(b) photo: the page does not show "inverted"');
    await checkAnswer(page, '(b) photo', b.json);
    log('(b) photo: inverted, background ' + b.json.prepared.background + ', ink box ' + JSON.stringify(b.json.prepared.ink_box));
    await page.screenshot({ path: path.join(args.out, 'serve_photo.png'), fullPage: true });

    // (c) a page with several characters, dropped; boxes drawn with the mouse.
    const pg = await makeImage(page, kuzushijiB64, 'page');
    await giveFile(page, 'drop', pg.b64, 'page.png', 'image/png');
    await page.waitForSelector('#page-panel:not([hidden])', { timeout: 10000 })
      .catch(() => { throw new Error('(c) page: a 640x480 image did not open in page mode'); });
    check(await page.isChecked('input[name=mode][value=page]'), '(c) page: the mode is not "page" for a 640x480 image');
    const pad = 6;
    const want1 = [pg.boxes[1][0] - pad, pg.boxes[1][1] - pad, pg.boxes[1][2] + 2 * pad, pg.boxes[1][3] + 2 * pad];
    const c1 = await readVia(page, '(c) page, box 1', () => dragBox(page, want1, pg.width, pg.height));
    const sent1 = boxParam(c1.url);
    check(near(sent1, want1, 3), '(c) page: box 1 was sent as ' + JSON.stringify(sent1) + ', dragged ' + JSON.stringify(want1));
    check(c1.response.status() === 200, '(c) page: /api/read answered ' + c1.response.status() + ' ' + JSON.stringify(c1.json));
    check(near(c1.json.prepared.box, sent1, 0), '(c) page: prepared.box is ' + JSON.stringify(c1.json.prepared.box) +
      ', the request said ' + JSON.stringify(sent1));
    check(c1.json.source.width === pg.width && c1.json.source.height === pg.height,
      '(c) page: source is ' + JSON.stringify(c1.json.source) + ', the page image is ' + pg.width + 'x' + pg.height);
    await checkAnswer(page, '(c) page, box 1', c1.json);
    const bytes1 = c1.response.request().postDataBuffer();
    await page.screenshot({ path: path.join(args.out, 'serve_page.png'), fullPage: true });

    const want2 = [pg.boxes[2][0] - pad, pg.boxes[2][1] - pad, pg.boxes[2][2] + 2 * pad, pg.boxes[2][3] + 2 * pad];
    const c2 = await readVia(page, '(c) page, box 2', () => dragBox(page, want2, pg.width, pg.height));
    const sent2 = boxParam(c2.url);
    check(near(sent2, want2, 3), '(c) page: box 2 was sent as ' + JSON.stringify(sent2) + ', dragged ' + JSON.stringify(want2));
    check(c2.response.status() === 200, '(c) page: box 2 answered ' + c2.response.status() + ' ' + JSON.stringify(c2.json));
    const bytes2 = c2.response.request().postDataBuffer();
    check(bytes1 && bytes2 && bytes1.equals(bytes2), '(c) page: box 2 did not send the same image bytes as box 1');
    await checkAnswer(page, '(c) page, box 2', c2.json);
    log('(c) both boxes sent the same ' + bytes1.length + ' bytes; box 1 read ' + c1.json.candidates[0].character +
      ', box 2 ' + c2.json.candidates[0].character);

    // Keyboard: Shift+Right moves the box 10 px, Enter reads it; then the typed box form.
    await page.focus('#page');
    await page.keyboard.press('Shift+ArrowRight');
    const k = await readVia(page, '(c) page, keyboard box', () => page.keyboard.press('Enter'));
    const sentK = boxParam(k.url);
    check(near(sentK, [sent2[0] + 10, sent2[1], sent2[2], sent2[3]], 0), '(c) keyboard: Shift+Right then Enter sent ' +
      JSON.stringify(sentK) + ' after ' + JSON.stringify(sent2));
    check(k.response.status() === 200, '(c) keyboard: answered ' + k.response.status());
    const typed = [pg.boxes[3][0] - pad, pg.boxes[3][1] - pad, pg.boxes[3][2] + 2 * pad, pg.boxes[3][3] + 2 * pad];
    await page.fill('#box-x', String(typed[0]));
    await page.fill('#box-y', String(typed[1]));
    await page.fill('#box-w', String(typed[2]));
    await page.fill('#box-h', String(typed[3]));
    const t = await readVia(page, '(c) page, typed box', () => page.click('#read-box'));
    check(near(boxParam(t.url), typed, 0), '(c) typed box: sent ' + JSON.stringify(boxParam(t.url)) + ', typed ' + JSON.stringify(typed));
    check(t.response.status() === 200, '(c) typed box: answered ' + t.response.status());
    await checkNoHorizontalScroll(page, '(c) layout');

    // (d) the invert override re-sends the same box.
    const dy = await readVia(page, '(d) invert=yes', () => page.check('input[name=invert][value=yes]'));
    check(dy.url.searchParams.get('invert') === 'yes', '(d) invert: choosing "invert" sent ' + dy.url.search);
    check(near(boxParam(dy.url), typed, 0), '(d) invert: the re-sent request lost the box (' + dy.url.search + ')');
    check(dy.response.status() === 200 && dy.json.prepared.inverted === true,
      '(d) invert=yes: prepared.inverted is ' + (dy.json && dy.json.prepared && dy.json.prepared.inverted));
    const dn = await readVia(page, '(d) invert=no', () => page.check('input[name=invert][value=no]'));
    check(dn.url.searchParams.get('invert') === 'no', '(d) invert: choosing "don\'t invert" sent ' + dn.url.search);
    check(near(boxParam(dn.url), typed, 0), '(d) invert=no: the re-sent request lost the box (' + dn.url.search + ')');
    // Dark ink on paper read as light ink on dark may leave no ink at all: an error the page must show.
    if (dn.response.status() === 200) {
      check(dn.json.prepared.inverted === false, '(d) invert=no: prepared.inverted is ' + dn.json.prepared.inverted);
    } else {
      check(dn.response.status() === 400 && dn.json && typeof dn.json.error === 'string',
        '(d) invert=no: answered ' + dn.response.status() + ' ' + JSON.stringify(dn.json));
      const shownNo = await page.locator('#status').textContent();
      check(shownNo.includes(dn.json.error), '(d) invert=no: the page shows "' + shownNo + '", not "' + dn.json.error + '"');
      log('(d) invert=no on dark ink: the server says "' + dn.json.error + '", shown on the page');
    }
    const da = await readVia(page, '(d) invert=auto', () => page.check('input[name=invert][value=auto]'));
    check(da.url.searchParams.get('invert') === 'auto', '(d) invert: choosing "auto" sent ' + da.url.search);
    check(da.response.status() === 200 && da.json.prepared.inverted === true,
      '(d) invert=auto: the page crop was not inverted again (' + da.response.status() + ')');

    // (e) an API error: a text file named .png.
    const e = await readVia(page, '(e) not an image', () => page.setInputFiles('#file', {
      name: 'not_an_image.png', mimeType: 'image/png', buffer: Buffer.from('This is a text file, not a PNG.\n') }));
    check(e.response.status() === 400, '(e) error: a text file named .png answered ' + e.response.status() + ', expected 400');
    check(e.json && typeof e.json.error === 'string' && e.json.error.length > 0, '(e) error: the 400 body has no "error" string');
    const status = page.locator('#status');
    const shown = await status.textContent();
    check(shown.includes(e.json.error), '(e) error: the page shows "' + shown + '", not the server\'s "' + e.json.error + '"');
    check(await status.isVisible(), '(e) error: the error message is not visible');
    const live = await status.evaluate((s) => s.getAttribute('aria-live') || (s.getAttribute('role') === 'status' ? 'polite' : ''));
    check(live === 'polite', '(e) error: the message is not in a polite live region');
    log('(e) error shown: ' + shown);
    await page.screenshot({ path: path.join(args.out, 'serve_error.png'), fullPage: true });

    check(pageErrors.length === 0, 'page: JavaScript errors: ' + pageErrors.join(' | '));
    log('all checks passed; screenshots in ' + args.out);
  } catch (err) {
    await page.screenshot({ path: path.join(args.out, 'serve_failure.png'), fullPage: true }).catch(() => {});
    if (pageErrors.length) err.message += ' (page errors: ' + pageErrors.join(' | ') + ')';
    throw err;
  }
}

let code = 0;
try {
  await main();
} catch (e) {
  console.error('FAIL: ' + e.message);
  if (serverLog) console.error('--- k2k serve output (last 3000 chars) ---\n' + serverLog.slice(-3000));
  code = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  killServer();
}
process.exit(code);
