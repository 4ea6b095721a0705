// The panels beside the 3D view: findings, BOM, downloads, settings.

export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function yen(n) {
  return n === null || n === undefined ? '—' : `¥${Number(n).toLocaleString('en')}`;
}

export function findingKey(f) {
  return `${f.severity}|${f.code}|${f.message}`;
}

// --- findings ------------------------------------------------------------------------------------

export function renderFindings(list, summary, checks, selectedKey, onSelect) {
  if (!checks || checks.status !== 'ready') {
    const msg = checks && checks.status === 'failed' ? `the checks could not run: ${checks.message}` : 'running the design checks…';
    list.replaceChildren(h('li', { class: 'muted placeholder' }, msg));
    return;
  }
  const report = checks.report;
  const s = report.summary;
  summary.replaceChildren(
    h('span', { class: 'error' }, `${s.error} error${s.error === 1 ? '' : 's'}`),
    h('span', { class: 'warning' }, `${s.warning} warning${s.warning === 1 ? '' : 's'}`),
    h('span', { class: 'info' }, `${s.info} info`));
  if (!report.findings.length) {
    list.replaceChildren(h('li', { class: 'muted placeholder' }, 'No findings: nothing collides, every stack and screw fits.'));
    return;
  }
  list.replaceChildren(...report.findings.map((f) => findingItem(f, selectedKey, onSelect)));
}

function findingItem(f, selectedKey, onSelect) {
  const key = findingKey(f);
  const n = f.targets ? f.targets.scene.length : 0;
  const plates = f.targets ? Object.keys(f.targets.plates).length : 0;
  const measured = f.value === null || f.value === undefined ? '' :
    ` (${f.value} ${f.unit || ''}${f.limit !== null && f.limit !== undefined ? `, limit ${f.limit}` : ''})`;
  return h('li', {
    class: `finding${key === selectedKey ? ' selected' : ''}`, dataset: { severity: f.severity, code: f.code, key },
    tabindex: 0, onclick: () => onSelect(f), onkeydown: (e) => { if (e.key === 'Enter') onSelect(f); },
  },
  h('div', { class: 'head' }, h('span', { class: 'sev' }, f.severity), h('span', { class: 'code' }, f.code),
    f.count > 1 ? h('span', { class: 'count' }, `×${f.count}`) : null),
  h('div', { class: 'msg' }, f.message + measured),
  f.fix ? h('div', { class: 'fix' }, f.fix) : null,
  h('div', { class: 'targets' }, n ? `${n} part${n === 1 ? '' : 's'} in 3D${plates ? `, on ${plates} plate${plates === 1 ? '' : 's'}` : ''}` : 'names no single part'));
}

// --- BOM ------------------------------------------------------------------------------------------

export function renderBom(table, totalEl, acrylicEl, bom) {
  if (!bom) return;
  const head = h('thead', {}, h('tr', {}, h('th', {}, 'part'), h('th', { class: 'num' }, 'need'),
    h('th', { class: 'num' }, 'buy'), h('th', { class: 'num' }, 'pack'), h('th', { class: 'num' }, 'amount')));
  const body = h('tbody');
  const groups = [];
  for (const ln of bom.lines) if (!groups.includes(ln.group)) groups.push(ln.group);
  for (const g of groups) {
    const sub = (bom.subtotals[g] || {})[bom.currency];
    body.append(h('tr', { class: 'group' }, h('td', { colspan: 4 }, g), h('td', { class: 'num' }, yen(sub))));
    for (const ln of bom.lines.filter((l) => l.group === g)) body.append(bomRow(ln));
  }
  const foot = h('tfoot', {}, h('tr', {}, h('td', { colspan: 4 }, 'total'), h('td', { class: 'num' }, yen(bom.total))));
  table.replaceChildren(head, body, foot);
  totalEl.textContent = yen(bom.total);
  const a = bom.acrylic;
  acrylicEl.textContent = a ? `Acrylic: ${a.parts.length} parts, ${a.area_cm2} cm², ${a.cut_m} m of cut; ` +
    `${a.quote ? `your quote ${yen(a.quote.amount)}` : `estimate ${yen(a.estimate && a.estimate.amount)}`} (${a.fabricator}).` : '';
}

function bomRow(ln) {
  const name = ln.name_ja && ln.name_ja !== ln.name ? [ln.name_ja, h('span', { class: 'en' }, ln.name)] : [ln.name];
  const notes = [ln.owned ? `${ln.owned} owned` : '', ln.included ? `${ln.included} in the box` : ''].filter(Boolean).join(', ');
  const free = !ln.amount || !ln.amount.amount;
  return h('tr', { class: free ? 'free' : '' },
    h('td', {}, ...name, notes ? h('span', { class: 'en' }, notes) : null),
    h('td', { class: 'num' }, String(ln.needed)),
    h('td', { class: 'num' }, String(ln.buy)),
    h('td', { class: 'num' }, ln.pack_size > 1 ? `${ln.packs} × ${ln.pack_size}` : ''),
    h('td', { class: 'num amount' }, ln.amount ? yen(ln.amount.amount) : '—'));
}

// --- downloads --------------------------------------------------------------------------------------

export function renderDownloads(box, statusEl, zip, button, exp) {
  button.disabled = exp.status === 'pending';
  zip.hidden = exp.status !== 'ready' || !exp.files.length;
  if (exp.status === 'idle') {
    statusEl.textContent = 'cut files, plans, model and BOM as `rack export all` writes them';
    box.replaceChildren();
    return;
  }
  if (exp.status === 'pending') {
    statusEl.textContent = 'rendering every export file…';
    box.replaceChildren(h('p', { class: 'muted placeholder' }, 'The CAD worker is rendering PDF, SVG, DXF, PNG, STEP, STL and the BOM.'));
    return;
  }
  if (exp.status === 'failed' || (exp.refused && exp.refused.length)) {
    statusEl.textContent = exp.status === 'failed' ? `failed: ${exp.message}` : 'refused: a laser service would reject these plates';
    box.replaceChildren(h('ul', {}, ...(exp.refused || []).map((r) => h('li', {}, r))));
    return;
  }
  statusEl.textContent = `${exp.files.length} files`;
  const folders = new Map();
  for (const f of exp.files) {
    const dir = f.path.includes('/') ? f.path.split('/')[0] : '.';
    if (!folders.has(dir)) folders.set(dir, []);
    folders.get(dir).push(f);
  }
  box.replaceChildren(...[...folders].map(([dir, files]) => h('div', {}, h('h3', {}, `${dir}/`),
    h('ul', {}, ...files.map(downloadItem)))));
}

// the whole name (the cut files differ only at the end: sheet, number, PDF | SVG | DXF); the path on hover
function downloadItem(f) {
  return h('li', {}, h('a', { href: `/exports/${f.path}`, download: '', title: f.path }, f.path.split('/').pop()),
    h('span', {}, `${(f.size / 1024).toFixed(1)} KiB`));
}

// --- settings ------------------------------------------------------------------------------------------

export class SettingsForm {
  constructor(form, onWritten) {
    this.form = form;
    this.onWritten = onWritten;
    this.values = null;
    this.base = null;
    this.choices = null;
    this.editable = false;
    this.pressed = false; // a pointer is down in the form
    this.rowsPending = false; // rows to rebuild once the pointer is still elsewhere
    this.typing = null;
    this.written = null; // the file just written, until the page shows it
    form.addEventListener('input', () => form.classList.add('dirty'));
    form.addEventListener('submit', (e) => { e.preventDefault(); this.write(); });
    form.querySelector('#settings-reset').addEventListener('click', () => this.fill(true));
    for (const b of form.querySelectorAll('.stepper button')) {
      b.addEventListener('click', () => {
        const input = form.elements.nodes;
        const n = Number(input.value || input.min) + Number(b.dataset.step);
        input.value = Math.max(Number(input.min), Math.min(Number(input.max), n));
        form.classList.add('dirty');
        this.nodeRows(Number(input.value));
      });
    }
    // The rows follow the count as it is typed (debounced), so the layout settles before the person
    // reaches for Write; and they are never rebuilt under the pointer on the buttons, or while it is
    // pressed: clicking Write blurs the field (a change event), and rows rebuilt then would move the
    // button between mousedown and mouseup, so the click would land elsewhere and write nothing.
    const nodes = form.elements.nodes;
    this.actions = form.querySelector('.actions');
    nodes.addEventListener('input', () => {
      clearTimeout(this.typing);
      this.typing = setTimeout(() => this.rowsWhenStill(), 300);
    });
    nodes.addEventListener('change', () => this.rowsWhenStill());
    form.addEventListener('pointerdown', () => { this.pressed = true; });
    for (const type of ['pointerup', 'pointercancel']) {
      window.addEventListener(type, () => { this.pressed = false; this.settle(); });
    }
    this.actions.addEventListener('pointerleave', () => this.settle());
  }

  still() {
    return !this.pressed && !this.actions.matches(':hover');
  }

  rowsWhenStill() {
    if (this.still()) this.syncRows();
    else this.rowsPending = true;
  }

  settle() {
    if (!this.rowsPending || !this.still()) return;
    this.rowsPending = false;
    setTimeout(() => this.syncRows(), 0); // after the click a release makes
  }

  // Rows for the count the field shows; a count outside the limits keeps the rows (the browser
  // refuses to submit it and says why).
  syncRows() {
    const input = this.form.elements.nodes;
    const n = Number(input.value);
    if (!Number.isInteger(n) || n < Number(input.min) || n > Number(input.max)) return;
    if (this.form.querySelectorAll('#set-node-parts .node').length !== n) this.nodeRows(n);
  }

  // New state from the server: refill unless the person is in the middle of a change.
  update(settings, editable, file) {
    const changedOnDisk = this.base !== settings.base;
    this.values = settings.values;
    this.choices = settings.choices;
    limit(this.form.elements.nodes, settings.limits.nodes);
    limit(this.form.elements.margin_mm, settings.limits.margin_mm);
    this.base = settings.base;
    this.editable = editable;
    const note = this.form.querySelector('#settings-note');
    note.hidden = editable;
    note.textContent = editable ? '' : 'This is the built-in default cluster: there is no file to write. ' +
      'Run `rack init` and `rack serve cluster.toml` to edit your own.';
    for (const e of this.form.elements) e.disabled = !editable;
    if (changedOnDisk || !this.form.classList.contains('dirty')) this.fill(changedOnDisk);
    if (changedOnDisk && this.written) {
      this.form.querySelector('#settings-result').textContent = `written to ${this.written}: the page shows it`;
      this.written = null;
    }
  }

  fill(clean) {
    const v = this.values;
    const f = this.form.elements;
    if (!v) return;
    if (clean) this.form.classList.remove('dirty');
    f.nodes.value = v.nodes;
    options(f.switch, this.choices.switch, v.switch, 'no switch');
    f.switch_orientation.value = v.switch_orientation;
    options(f.drive, this.choices.drive, v.drive, v.has_storage ? null : 'no [storage] in the file');
    f.drive.disabled = !this.editable || !v.has_storage;
    f.drive_placement.value = v.drive_placement;
    options(f.sheet, this.choices.sheet, v.sheet);
    f.margin_mm.value = v.margin_mm === null ? '' : v.margin_mm;
    f.labels.checked = v.labels;
    this.nodeRows(v.nodes, true);
  }

  // one row per node: its board and HAT; rows for nodes still to be added copy the last one. A
  // row keeps what the person chose in it, unless `fromFile` (Undo, or the file changed on disk).
  nodeRows(n, fromFile = false) {
    const box = this.form.querySelector('#set-node-parts');
    const known = this.values.node_parts;
    const rows = [];
    for (let i = 0; i < n; i++) {
      const np = known[i] || { ...known[known.length - 1], name: `new node ${i + 1}` };
      const board = h('select', { name: `board-${i}`, 'aria-label': `board of ${np.name}` });
      const hat = h('select', { name: `hat-${i}`, 'aria-label': `HAT of ${np.name}` });
      const prev = fromFile ? null : box.querySelector(`[name="board-${i}"]`);
      options(board, this.choices.board, prev ? prev.value : np.board);
      const prevHat = fromFile ? null : box.querySelector(`[name="hat-${i}"]`);
      options(hat, this.choices.hat, prevHat ? prevHat.value : np.hat, 'no HAT');
      board.disabled = hat.disabled = !this.editable;
      rows.push(h('div', { class: 'node' }, h('b', { title: np.name }, np.name), board, hat));
    }
    box.replaceChildren(...rows);
  }

  collect() {
    const f = this.form.elements;
    const n = Number(f.nodes.value);
    const parts = [];
    for (let i = 0; i < n; i++) parts.push({ board: f[`board-${i}`].value, hat: f[`hat-${i}`].value });
    const out = {
      nodes: n, node_parts: parts, switch: f.switch.value, switch_orientation: f.switch_orientation.value,
      drive_placement: f.drive_placement.value, sheet: f.sheet.value, margin_mm: f.margin_mm.value, labels: f.labels.checked,
    };
    if (this.values.has_storage) out.drive = f.drive.value;
    return out;
  }

  async write() {
    const result = this.form.querySelector('#settings-result');
    clearTimeout(this.typing);
    this.syncRows(); // a count typed a moment ago: its rows, as they will show
    const res = await fetch('/api/settings', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ base: this.base, settings: this.collect() }),
    });
    const body = await res.json();
    result.hidden = false;
    if (res.ok) {
      result.className = 'result ok';
      result.textContent = body.written ? `written to ${body.file}: updating…` : 'nothing changed';
      this.written = body.written ? body.file : null; // update() says when the page shows it
      this.form.classList.remove('dirty');
      this.onWritten();
      return;
    }
    const e = body.error || {};
    result.className = 'result bad';
    result.replaceChildren(...[e.key ? h('code', {}, e.key) : null, ` ${e.message || res.statusText}`,
      ' — nothing was written.'].filter(Boolean));
  }
}

// the schema's limits (the server sends them): the form offers nothing the file would refuse
function limit(input, [lo, hi]) {
  input.min = String(lo);
  input.max = String(hi);
}

function options(select, list, value, none = null) {
  const opts = [];
  if (none !== null) opts.push(h('option', { value: '' }, `— ${none} —`));
  for (const c of list || []) opts.push(h('option', { value: c.id }, c.name && c.name !== c.id ? `${c.name}` : c.id));
  if (value && !(list || []).some((c) => c.id === value)) opts.push(h('option', { value }, `${value} (not in the catalog)`));
  select.replaceChildren(...opts);
  select.value = value || '';
}
