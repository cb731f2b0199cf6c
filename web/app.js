// k2k serve's page logic: takes an image (drop, paste, file picker), optionally a box drawn on it,
// POSTs the bytes to /api/read and shows the answer. No framework, no network beyond this origin.
'use strict';

(function () {
  const PAGE_SIDE = 200;      // an image wider or taller than this (px) opens in page mode
  const MIN_BOX = 4;          // a drag smaller than this (source px, either side) is a click, not a box
  const MAX_CANVAS_H = 0.62;  // the page canvas is at most this fraction of the window's height

  const $ = (id) => document.getElementById(id);
  const el = {
    health: $('health'), drop: $('drop'), file: $('file'), fileName: $('file-name'),
    samples: $('samples'), seed: $('seed'),
    pagePanel: $('page-panel'), canvas: $('page'), boxStatus: $('box-status'), boxForm: $('box-form'),
    boxX: $('box-x'), boxY: $('box-y'), boxW: $('box-w'), boxH: $('box-h'),
    status: $('status'), seen: $('seen'), results: $('results'), empty: $('empty'), stale: $('stale'),
    answer: $('answer'),
    bestChar: $('best-char'), bestInfo: $('best-info'), copy: $('copy'), replay: $('replay'),
    downloadSvg: $('download-svg'), downloadJson: $('download-json'),
    candidates: $('candidates'), classifierBlock: $('classifier-block'), classifier: $('classifier'),
    prepared: $('prepared'), preparedInfo: $('prepared-info'), reconstruction: $('reconstruction'),
    modern: $('modern'), uncertainty: $('uncertainty'), showUncertainty: $('show-uncertainty'),
    uncertaintyInfo: $('uncertainty-info'), samplesList: $('samples-list'), timing: $('timing'),
  };

  const state = {
    bytes: null,       // the image bytes (ArrayBuffer), kept so every box is sent without re-uploading
    type: '',          // their MIME type, sent as the Content-Type
    name: '',
    image: null,       // decoded image (ImageBitmap) or null when the browser cannot decode it
    orientation: 1,    // the JPEG's EXIF orientation (1..8); the browser shows the image turned by it
    width: 0, height: 0,
    box: null,         // [x, y, w, h] in source pixels, or null
    boxesRead: [],     // boxes already read on this page, drawn faintly
    drag: null,        // {x0, y0, pointerId} while dragging
    controller: null,  // AbortController of the request in flight
    answers: 0,        // answers shown so far (also data-answer on #results, for tests)
    response: null,
    urls: [],          // object URLs of the download links, revoked on the next answer
  };

  // ---------- status line (polite live region) ----------

  function say(text, kind) {
    el.status.textContent = text;
    el.status.className = 'status' + (kind ? ' ' + kind : '');
  }

  function setBusy(busy) {
    document.body.classList.toggle('busy', busy);
    el.results.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  // ---------- health ----------

  async function checkHealth() {
    try {
      const r = await fetch('/api/health', { cache: 'no-store' });
      const j = await r.json();
      if (!r.ok || j.status !== 'ok') throw new Error(j.error || 'HTTP ' + r.status);
      el.health.textContent = 'Model “' + j.run + '”: ' + fmtInt(j.characters) + ' modern kanji, ' +
        fmtInt(j.kuzushiji_classes) + ' Kuzushiji classes.';
      el.health.classList.add('ok');
      if (Number.isInteger(j.samples) && j.samples >= 1 && j.samples <= 16) el.samples.value = String(j.samples);
    } catch (e) {
      el.health.textContent = 'The k2k server does not answer (' + e.message + '). Is “k2k serve” running?';
      el.health.classList.add('error');
    }
  }

  function fmtInt(n) { return typeof n === 'number' ? n.toLocaleString('en') : String(n); }
  function pct(p) { return (100 * p).toFixed(p >= 0.995 || p < 0.001 ? 0 : 1) + ' %'; }

  // ---------- input: file picker, drop, paste ----------

  el.file.addEventListener('change', () => {
    if (el.file.files && el.file.files[0]) loadBlob(el.file.files[0], el.file.files[0].name);
    el.file.value = '';  // picking the same file again still fires change
  });

  function hasFiles(e) {
    return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], 'Files') >= 0;
  }
  document.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    el.drop.classList.add('over');
  });
  document.addEventListener('dragleave', (e) => {
    if (e.target === document.documentElement || e.target === el.drop) el.drop.classList.remove('over');
  });
  document.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    el.drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) loadBlob(f, f.name);
  });
  document.addEventListener('paste', (e) => {
    const items = (e.clipboardData && e.clipboardData.items) || [];
    for (let i = 0; i < items.length; i++) {
      if (items[i].kind === 'file' && items[i].type.indexOf('image/') === 0) {
        e.preventDefault();
        loadBlob(items[i].getAsFile(), 'pasted image');
        return;
      }
    }
  });

  async function loadBlob(file, name) {
    let bytes;
    try {
      // Copied into memory: every box re-sends these bytes, even if the file on disk changes or goes.
      bytes = await file.arrayBuffer();
    } catch (e) {
      say('Cannot read ' + (name || 'the file') + ': ' + e.message, 'error');
      return;
    }
    abortRequest();  // an answer for the previous image must not land on this one
    clearAnswer();
    state.bytes = bytes;
    state.type = file.type || 'application/octet-stream';
    state.name = name || 'image';
    state.box = null;
    state.boxesRead = [];
    state.image = null;
    state.width = state.height = 0;
    state.orientation = exifOrientation(new Uint8Array(bytes));
    try {
      state.image = await createImageBitmap(new Blob([bytes], { type: state.type }));
      state.width = state.image.width;
      state.height = state.image.height;
    } catch (e) {
      // Not decodable here: send it anyway, the server says what is wrong with it.
    }
    el.fileName.textContent = state.name + (state.width ? ' — ' + state.width + ' × ' + state.height + ' px' : '') +
      (state.orientation !== 1 ? ' (shown turned upright, as its camera asked)' : '');
    const page = state.width > PAGE_SIDE || state.height > PAGE_SIDE;
    setMode(page ? 'page' : 'single');
    if (page) {
      say('This looks like a page: drag a box round one character (or use the keyboard, see the help).');
    } else {
      read();
    }
  }

  // ---------- mode ----------

  function mode() { return document.querySelector('input[name=mode]:checked').value; }
  function invertChoice() { return document.querySelector('input[name=invert]:checked').value; }

  function setMode(m) {
    document.querySelector('input[name=mode][value=' + m + ']').checked = true;
    showPagePanel();
  }

  function showPagePanel() {
    const page = mode() === 'page' && state.image !== null;
    el.pagePanel.hidden = !page;
    if (page) { drawPage(); updateBoxInputs(); }
  }

  document.querySelectorAll('input[name=mode]').forEach((r) => r.addEventListener('change', () => {
    showPagePanel();
    if (!state.bytes) return;
    if (mode() === 'single') read();
    else if (state.image === null) say('This file cannot be shown as a page here; it is read as one character.', 'error');
    else say('Drag a box round one character.');
  }));

  document.querySelectorAll('input[name=invert]').forEach((r) => r.addEventListener('change', resend));
  el.samples.addEventListener('change', resend);
  el.seed.addEventListener('change', resend);

  // Re-reads the current image (and box) with the new settings, if there is anything to read.
  function resend() {
    if (!state.bytes) return;
    if (mode() === 'page' && state.image !== null && !state.box) return;
    read();
  }

  // ---------- page canvas and the box ----------

  let view = { scale: 1 };  // canvas CSS px per source px

  function drawPage() {
    if (!state.image) return;
    const wrap = el.canvas.parentElement;
    const maxW = Math.max(100, wrap.clientWidth);
    const maxH = Math.max(160, Math.floor(window.innerHeight * MAX_CANVAS_H));
    const scale = Math.min(maxW / state.width, maxH / state.height, 8);
    const cw = Math.max(1, Math.round(state.width * scale));
    const ch = Math.max(1, Math.round(state.height * scale));
    const dpr = window.devicePixelRatio || 1;
    el.canvas.style.width = cw + 'px';
    el.canvas.style.height = ch + 'px';
    el.canvas.width = Math.round(cw * dpr);
    el.canvas.height = Math.round(ch * dpr);
    view.scale = scale;
    const g = el.canvas.getContext('2d');
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(scaledPage(el.canvas.width, el.canvas.height), 0, 0);
    g.setTransform(dpr * scale, 0, 0, dpr * scale, 0, 0);
    const lw = 1 / scale;
    g.lineWidth = 2 * lw;
    g.strokeStyle = 'rgba(0, 110, 190, 0.55)';
    g.setLineDash([4 * lw, 3 * lw]);
    for (const b of state.boxesRead) g.strokeRect(b[0], b[1], b[2], b[3]);
    g.setLineDash([]);
    const b = state.box;
    if (b) {
      // Dim everything but the box, then outline it twice (dark and light) so it shows on any page.
      g.fillStyle = 'rgba(0, 0, 0, 0.28)';
      g.beginPath();
      g.rect(0, 0, state.width, state.height);
      g.rect(b[0] + b[2], b[1], -b[2], b[3]);
      g.fill('evenodd');
      g.lineWidth = 3 * lw;
      g.strokeStyle = '#fff';
      g.strokeRect(b[0], b[1], b[2], b[3]);
      g.lineWidth = 1.5 * lw;
      g.strokeStyle = '#d1242f';
      g.strokeRect(b[0], b[1], b[2], b[3]);
    }
  }

  // The page scaled to the canvas once, so that redrawing the box while dragging stays cheap on
  // a big photo.
  let scaled = { image: null, canvas: null };
  function scaledPage(w, h) {
    if (scaled.image !== state.image || scaled.canvas.width !== w || scaled.canvas.height !== h) {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d');
      g.imageSmoothingEnabled = w < state.width;  // enlarged pages stay sharp pixels
      g.imageSmoothingQuality = 'high';
      g.drawImage(state.image, 0, 0, w, h);
      scaled = { image: state.image, canvas: c };
    }
    return scaled.canvas;
  }

  window.addEventListener('resize', () => { if (!el.pagePanel.hidden) drawPage(); });

  function toSource(e) {
    const r = el.canvas.getBoundingClientRect();
    const x = (e.clientX - r.left) / r.width * state.width;
    const y = (e.clientY - r.top) / r.height * state.height;
    return [clamp(x, 0, state.width), clamp(y, 0, state.height)];
  }
  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

  // A box with integer source-pixel coordinates, inside the image, at least 1 px a side.
  function normBox(x0, y0, x1, y1) {
    const x = Math.floor(clamp(Math.min(x0, x1), 0, state.width - 1));
    const y = Math.floor(clamp(Math.min(y0, y1), 0, state.height - 1));
    const xe = Math.ceil(clamp(Math.max(x0, x1), x + 1, state.width));
    const ye = Math.ceil(clamp(Math.max(y0, y1), y + 1, state.height));
    return [x, y, xe - x, ye - y];
  }

  el.canvas.addEventListener('pointerdown', (e) => {
    if (!state.image || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    el.canvas.focus({ preventScroll: true });
    el.canvas.setPointerCapture(e.pointerId);
    const p = toSource(e);
    state.drag = { x0: p[0], y0: p[1], pointerId: e.pointerId, before: state.box };
  });
  el.canvas.addEventListener('pointermove', (e) => {
    if (!state.drag || e.pointerId !== state.drag.pointerId) return;
    const p = toSource(e);
    state.box = normBox(state.drag.x0, state.drag.y0, p[0], p[1]);
    drawPage();
    updateBoxInputs();
  });
  function endDrag(e, cancelled) {
    if (!state.drag || e.pointerId !== state.drag.pointerId) return;
    const d = state.drag;
    state.drag = null;
    const p = toSource(e);
    const b = normBox(d.x0, d.y0, p[0], p[1]);
    if (cancelled || b[2] < MIN_BOX || b[3] < MIN_BOX) {
      state.box = d.before;  // a click or a tiny drag keeps the previous box
      drawPage();
      updateBoxInputs();
      return;
    }
    state.box = b;
    drawPage();
    updateBoxInputs();
    read();
  }
  el.canvas.addEventListener('pointerup', (e) => endDrag(e, false));
  el.canvas.addEventListener('pointercancel', (e) => endDrag(e, true));

  el.canvas.addEventListener('keydown', (e) => {
    if (!state.image) return;
    const keys = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (!state.box) state.box = defaultBox();
      drawPage();
      updateBoxInputs();
      read();
      return;
    }
    const k = keys[e.key];
    if (!k) return;
    e.preventDefault();
    if (!state.box) state.box = defaultBox();
    const step = e.shiftKey ? 10 : 1;
    const b = state.box.slice();
    if (e.altKey || e.ctrlKey) {
      b[2] = clamp(b[2] + k[0] * step, 1, state.width - b[0]);
      b[3] = clamp(b[3] + k[1] * step, 1, state.height - b[1]);
    } else {
      b[0] = clamp(b[0] + k[0] * step, 0, state.width - b[2]);
      b[1] = clamp(b[1] + k[1] * step, 0, state.height - b[3]);
    }
    state.box = b;
    drawPage();
    updateBoxInputs();
  });

  // A square a fifth of the shorter side, in the middle: a starting point for keyboard users.
  function defaultBox() {
    const s = Math.max(8, Math.round(Math.min(state.width, state.height) / 5));
    const w = Math.min(s, state.width), h = Math.min(s, state.height);
    return [Math.round((state.width - w) / 2), Math.round((state.height - h) / 2), w, h];
  }

  function updateBoxInputs() {
    const inputs = [el.boxX, el.boxY, el.boxW, el.boxH];
    el.boxX.max = String(Math.max(0, state.width - 1));
    el.boxY.max = String(Math.max(0, state.height - 1));
    el.boxW.max = String(state.width);
    el.boxH.max = String(state.height);
    if (state.box) {
      for (let i = 0; i < 4; i++) inputs[i].value = String(state.box[i]);
      el.boxStatus.textContent = 'Box: x ' + state.box[0] + ', y ' + state.box[1] + ', ' + state.box[2] + ' × ' +
        state.box[3] + ' px of a ' + state.width + ' × ' + state.height + ' px page.';
    } else {
      for (let i = 0; i < 4; i++) inputs[i].value = '';
      el.boxStatus.textContent = 'No box yet (page ' + state.width + ' × ' + state.height + ' px).';
    }
  }

  el.boxForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!state.image) return;
    const v = [el.boxX, el.boxY, el.boxW, el.boxH].map((i) => Number(i.value));
    if (v.some((n) => !Number.isInteger(n)) || v[0] < 0 || v[1] < 0 || v[2] < 1 || v[3] < 1 ||
        v[0] + v[2] > state.width || v[1] + v[3] > state.height) {
      say('The box must be whole pixels inside the ' + state.width + ' × ' + state.height +
          ' px page (x, y ≥ 0; w, h ≥ 1).', 'error');
      return;
    }
    state.box = v;
    drawPage();
    updateBoxInputs();
    read();
  });

  // ---------- EXIF orientation ----------

  // The EXIF orientation of a JPEG (1 = stored upright; 2..8 = flipped and/or turned), 1 when none.
  function exifOrientation(b) {
    if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return 1;
    let i = 2;
    while (i + 4 <= b.length && b[i] === 0xff) {
      const marker = b[i + 1];
      const len = (b[i + 2] << 8) | b[i + 3];
      if (marker === 0xda || len < 2) break;  // start of scan: no more metadata
      const s = i + 4;
      if (marker === 0xe1 && len >= 16 && b[s] === 0x45 && b[s + 1] === 0x78 && b[s + 2] === 0x69 && b[s + 3] === 0x66) {
        const t = s + 6;  // TIFF header after "Exif\0\0"
        const le = b[t] === 0x49;
        const u16 = (o) => (le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1]);
        const u32 = (o) => (le ? (u16(o) | (u16(o + 2) << 16)) >>> 0 : ((u16(o) << 16) | u16(o + 2)) >>> 0);
        const end = i + 2 + len;
        const ifd = t + u32(t + 4);
        if (ifd + 2 > end) return 1;
        const n = u16(ifd);
        for (let k = 0; k < n && ifd + 2 + 12 * k + 12 <= end; k++) {
          const e = ifd + 2 + 12 * k;
          if (u16(e) === 0x0112) {
            const v = u16(e + 8);
            return v >= 1 && v <= 8 ? v : 1;
          }
        }
        return 1;
      }
      i += 2 + len;
    }
    return 1;
  }

  // The box drawn on the upright image. k2k serve applies the JPEG's EXIF orientation itself
  // (data/image_decode.h), so both sides see the same upright pixels: the box goes as drawn.
  function serverBox(b) {
    return b;
  }

  // ---------- the request ----------

  function settingsParams() {
    const p = new URLSearchParams();
    p.set('invert', invertChoice());
    const n = Number(el.samples.value);
    if (Number.isInteger(n) && n >= 1 && n <= 16) p.set('samples', String(n));
    else if (el.samples.value !== '') throw new Error('Stroke samples must be a whole number from 1 to 16.');
    const s = Number(el.seed.value);
    if (Number.isInteger(s) && s >= 0) p.set('seed', String(s));
    else if (el.seed.value !== '') throw new Error('The seed must be a whole number ≥ 0.');
    return p;
  }

  function abortRequest() {
    if (!state.controller) return;
    state.controller.abort();
    state.controller = null;
    setBusy(false);
  }

  async function read() {
    if (!state.bytes) return;
    let params;
    try {
      params = settingsParams();
    } catch (e) {
      say(e.message, 'error');
      return;
    }
    const box = mode() === 'page' && state.image !== null ? state.box : null;
    if (box) params.set('box', serverBox(box).join(','));
    abortRequest();
    const controller = new AbortController();
    state.controller = controller;
    setBusy(true);
    say(box ? 'Reading the character in the box…' : 'Reading the character…', 'busy');
    try {
      let r;
      try {
        r = await fetch('/api/read?' + params.toString(), {
          method: 'POST',
          body: state.bytes,
          headers: { 'Content-Type': state.type },
          signal: controller.signal,
        });
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        throw new Error('The k2k server cannot be reached (' + e.message + '). Is “k2k serve” still running?');
      }
      const text = await r.text();
      let j = null;
      try { j = JSON.parse(text); } catch (e) { /* reported below */ }
      if (!r.ok) {
        const why = j && typeof j.error === 'string' ? j.error : text.slice(0, 200) || r.statusText;
        throw new Error(errorIntro(r.status) + why);
      }
      if (!j || j.schema !== 'k2k-read') throw new Error('The server sent an answer this page does not understand.');
      if (box) state.boxesRead.push(box);
      render(j);
      const c = j.candidates && j.candidates[0];
      say(c ? 'Read: ' + c.character + ' (' + c.codepoint + ', ' + pct(c.probability) + '), ' + j.candidates.length +
              ' candidates.' : 'Read, but the model gave no candidates.', 'ok');
    } catch (e) {
      if (e.name === 'AbortError') return;
      say(e.message, 'error');
      markStale(true);
    } finally {
      if (state.controller === controller) {
        state.controller = null;
        setBusy(false);
        if (!el.pagePanel.hidden) drawPage();
      }
    }
  }

  function errorIntro(status) {
    if (status === 413) return 'The image is too large for the server (over 10 MB): ';
    if (status === 400) return 'The server could not read this: ';
    return 'The server answered ' + status + ': ';
  }

  // ---------- the answer ----------

  // The server's SVGs are whole documents; inline only the <svg> element (an XML prolog or a
  // DOCTYPE with an internal subset would otherwise leave stray text in HTML).
  function svgElementText(s) {
    const i = s.search(/<svg[\s>]/);
    return i >= 0 ? s.slice(i) : '';
  }

  function setSvg(container, svgText, label) {
    container.innerHTML = svgElementText(svgText || '');
    const svg = container.querySelector('svg');
    if (!svg) container.appendChild(text('span', 'muted small', 'no strokes'));
    if (svg) {
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', label);
      svg.removeAttribute('width');
      svg.removeAttribute('height');
    }
    container.dataset.svg = svgText || '';
  }

  function bar(p) {
    const b = document.createElement('span');
    b.className = 'bar';
    b.setAttribute('aria-hidden', 'true');
    const f = document.createElement('span');
    f.style.width = (100 * clamp(p, 0, 1)).toFixed(1) + '%';
    b.appendChild(f);
    return b;
  }

  function charSpan(c, cls) {
    const s = document.createElement('span');
    s.className = 'char' + (cls ? ' ' + cls : '');
    s.lang = 'ja';
    s.textContent = c;
    return s;
  }

  function text(tag, cls, t) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    e.textContent = t;
    return e;
  }

  // No answer shown: a new image came, and the old answer would read as this image's.
  function clearAnswer() {
    state.response = null;
    el.answer.hidden = true;
    el.seen.hidden = true;
    el.empty.hidden = false;
    markStale(false);
    for (const u of state.urls) URL.revokeObjectURL(u);
    state.urls = [];
  }

  function markStale(stale) {
    const shown = !el.answer.hidden;
    el.stale.hidden = !(stale && shown);
    el.answer.classList.toggle('stale', stale && shown);
    el.seen.classList.toggle('stale', stale && shown);
  }

  function render(j) {
    state.response = j;
    markStale(false);
    el.empty.hidden = true;
    el.answer.hidden = false;
    el.seen.hidden = false;
    const cands = j.candidates || [];
    const best = cands[0];
    el.bestChar.textContent = best ? best.character : '—';
    el.bestInfo.textContent = best ? best.codepoint + ', ' + pct(best.probability) : '';
    el.copy.disabled = !best;

    el.candidates.replaceChildren();
    cands.forEach((c, i) => {
      const li = document.createElement('li');
      li.className = 'candidate';
      const head = document.createElement('div');
      head.className = 'cand-head';
      head.appendChild(charSpan(c.character, 'big'));
      head.appendChild(text('span', 'code', c.codepoint));
      const prob = document.createElement('div');
      prob.className = 'prob';
      prob.appendChild(bar(c.probability));
      prob.appendChild(text('span', 'prob-text', pct(c.probability)));
      head.appendChild(prob);
      li.appendChild(head);
      const strokes = document.createElement('div');
      strokes.className = 'strokes';
      setSvg(strokes, c.strokes_svg, 'Stroke order of ' + c.character + ' (KanjiVG)');
      li.appendChild(strokes);
      const ev = document.createElement('div');
      ev.className = 'evidence';
      const evs = c.evidence || [];
      if (evs.length) ev.appendChild(text('span', 'muted small', 'Kuzushiji examples:'));
      evs.forEach((src, k) => {
        const img = document.createElement('img');
        img.className = 'px';
        img.src = src;
        img.width = img.height = 48;
        img.alt = 'Kuzushiji training image ' + (k + 1) + ' of ' + evs.length + ' for ' + c.character;
        ev.appendChild(img);
      });
      li.appendChild(ev);
      li.setAttribute('aria-label', 'Candidate ' + (i + 1) + ': ' + c.character + ' ' + c.codepoint + ', ' + pct(c.probability));
      el.candidates.appendChild(li);
    });

    const cls = Array.isArray(j.classifier) ? j.classifier : null;
    el.classifierBlock.hidden = !cls;
    el.classifier.replaceChildren();
    if (cls) {
      cls.forEach((c) => {
        const li = document.createElement('li');
        li.appendChild(charSpan(c.character));
        li.appendChild(text('span', 'code', c.codepoint));
        li.appendChild(bar(c.probability));
        li.appendChild(text('span', 'prob-text', pct(c.probability)));
        el.classifier.appendChild(li);
      });
    }

    const prep = j.prepared || {};
    el.prepared.src = prep.image || '';
    el.reconstruction.src = j.reconstruction || '';
    el.modern.src = j.modern || '';
    el.uncertainty.src = j.uncertainty || '';
    const inv = invertChoice();
    const info = [(prep.inverted ? 'inverted' : 'not inverted') + (inv === 'auto' ? ' (auto)' : ' (your choice)')];
    if (typeof prep.background === 'number') info.push('background ' + prep.background.toFixed(0));
    if (Array.isArray(prep.box)) info.push('box ' + prep.box.join(', '));
    if (Array.isArray(prep.ink_box)) info.push('ink ' + prep.ink_box.join(', '));
    el.preparedInfo.textContent = info.join(' · ');
    el.preparedInfo.dataset.inverted = String(!!prep.inverted);
    el.uncertaintyInfo.textContent = typeof j.mean_std === 'number'
      ? 'mean std ' + j.mean_std.toFixed(3) + ', max ' + (j.max_std || 0).toFixed(3) : '';

    const samples = (j.samples || []).slice().sort((a, b) => a.rank - b.rank);
    el.samplesList.replaceChildren();
    samples.forEach((s, i) => {
      const li = document.createElement('li');
      const box = document.createElement('div');
      box.className = 'strokes';
      setSvg(box, s.svg, 'Stroke sample ' + (i + 1) + ', ' + s.strokes + ' strokes');
      li.appendChild(box);
      li.appendChild(text('span', 'muted small', '#' + (i + 1) + ' · ' + s.strokes + (s.strokes === 1 ? ' stroke' : ' strokes')));
      el.samplesList.appendChild(li);
    });

    for (const u of state.urls) URL.revokeObjectURL(u);
    state.urls = [];
    const stem = 'k2k_' + (best ? best.codepoint.replace('+', '') : 'read');
    if (samples.length) {
      const u = URL.createObjectURL(new Blob([samples[0].svg], { type: 'image/svg+xml' }));
      state.urls.push(u);
      el.downloadSvg.href = u;
      el.downloadSvg.download = stem + '_strokes.svg';
      el.downloadSvg.removeAttribute('aria-disabled');
      el.downloadSvg.classList.remove('disabled');
    } else {
      el.downloadSvg.removeAttribute('href');
      el.downloadSvg.setAttribute('aria-disabled', 'true');
      el.downloadSvg.classList.add('disabled');
    }
    const ju = URL.createObjectURL(new Blob([JSON.stringify(j, null, 2)], { type: 'application/json' }));
    state.urls.push(ju);
    el.downloadJson.href = ju;
    el.downloadJson.download = stem + '.json';

    const st = j.settings || {};
    el.timing.textContent = 'Read in ' + (typeof j.seconds === 'number' ? j.seconds.toFixed(2) : '?') + ' s · ' +
      (st.samples || samples.length) + ' samples, temperature ' + st.temperature + ', MDN temperature ' +
      st.mdn_temperature + ', seed ' + st.seed + ' · source ' + (j.source ? j.source.width + ' × ' +
      j.source.height + ' ' + j.source.format : '');

    state.answers++;
    el.results.dataset.answer = String(state.answers);
  }

  el.showUncertainty.addEventListener('change', () => {
    el.uncertainty.hidden = !el.showUncertainty.checked;
  });

  el.replay.addEventListener('click', () => {
    // Re-inserting an SVG restarts its CSS animation.
    el.answer.querySelectorAll('.strokes').forEach((c) => {
      const svg = c.querySelector('svg');
      setSvg(c, c.dataset.svg, svg ? svg.getAttribute('aria-label') : '');
    });
  });

  el.copy.addEventListener('click', async () => {
    const c = state.response && state.response.candidates && state.response.candidates[0];
    if (!c) return;
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no async clipboard');
      await navigator.clipboard.writeText(c.character);
      say('Copied ' + c.character + ' to the clipboard.', 'ok');
    } catch (e) {
      if (copyFallback(c.character)) say('Copied ' + c.character + ' to the clipboard.', 'ok');
      else {
        const range = document.createRange();
        range.selectNodeContents(el.bestChar);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        say('Copying is blocked here: the character is selected, press Ctrl+C to copy it.', 'error');
      }
    }
  });

  function copyFallback(t) {
    const ta = document.createElement('textarea');
    ta.value = t;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    ta.remove();
    el.copy.focus();
    return ok;
  }

  el.downloadSvg.addEventListener('click', (e) => {
    if (el.downloadSvg.getAttribute('aria-disabled') === 'true') e.preventDefault();
  });

  checkHealth();
})();
