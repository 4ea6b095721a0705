// rack serve: follow the server's state (server-sent events) and keep every panel current.
// The model and the plates are reloaded only when their revision changes; a file that fails
// to load shows its error above the last good design.
import { Viewer } from './viewer.js';
import { Plates, showDrawing } from './plates.js';
import { SettingsForm, findingKey, h, renderBom, renderDownloads, renderFindings } from './panels.js';

const $ = (id) => document.getElementById(id);

const shown = { modelRev: null, platesRev: null, frontVersion: null, version: null };
const timings = {}; // ms from a state's arrival to its model / plates on screen (the bench reads them)
let state = null;
let selected = null; // {kind: 'finding', key} | {kind: 'part', name}
let applying = Promise.resolve();

const tooltip = $('tooltip');
const viewer = new Viewer($('viewer'), { onHover: hover, onPick: pick });
const plates = new Plates($('plates'), $('plate-count'));
const settings = new SettingsForm($('settings'), () => setLive('building', 'writing the file…'));

// For people poking at the page, and for the browser tests.
window.pirack = { viewer, plates, get state() { return state; }, shown, timings, select: selectFinding };

for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener('click', () => showTab(tab.id));
}

function showTab(id) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const on = tab.id === id;
    tab.setAttribute('aria-selected', String(on));
    $(tab.getAttribute('aria-controls')).hidden = !on;
  }
}

$('reset-view').addEventListener('click', () => viewer.resetView());
$('xray').addEventListener('click', (e) => {
  const on = e.currentTarget.getAttribute('aria-pressed') !== 'true';
  e.currentTarget.setAttribute('aria-pressed', String(on));
  viewer.setXray(on);
});
$('render-exports').addEventListener('click', async () => {
  await fetch('/api/exports', { method: 'POST' });
});

function setLive(status, text) {
  $('live').dataset.status = status;
  $('live-text').textContent = text;
  document.body.dataset.status = status;
}

function connect() {
  const source = new EventSource('/api/events');
  source.addEventListener('state', (e) => {
    const next = JSON.parse(e.data);
    applying = applying.then(() => apply(next)).catch((err) => console.error(err));
  });
  source.onerror = () => setLive('offline', 'reconnecting to rack serve…'); // EventSource retries by itself
}

async function apply(next) {
  state = next;
  $('file').textContent = next.file;
  showError(next.error, !!next.design);
  const d = next.design;
  if (!d) {
    setLive(next.status, next.status === 'error' ? 'the file does not load' : 'building the first design…');
    return;
  }
  $('cluster-name').textContent = d.name;
  document.title = `pirack · ${d.name}`;
  const work = [];
  const t0 = performance.now();
  const took = (what) => () => { timings[what] = Math.round(performance.now() - t0); };
  if (d.model.rev !== shown.modelRev) work.push(loadModel(d).then(took('model')));
  if (d.plates_rev !== shown.platesRev) {
    work.push(plates.render(d.plates, d.plates_url).then(() => { shown.platesRev = d.plates_rev; }).then(took('plates')));
    renderLegend($('legend'), d.legend);
  }
  await Promise.all(work);
  renderChecks(d);
  renderFront(d).catch(() => { shown.frontVersion = null; }); // superseded meanwhile: the next state retries
  renderBom($('bom'), $('bom-total'), $('bom-acrylic'), d.bom);
  renderDownloads($('downloads'), $('exports-status'), $('download-zip'), $('render-exports'), d.exports);
  settings.update(d.settings, next.editable, next.file);
  reselect(d);
  shown.version = d.version;
  document.body.dataset.version = String(d.version);
  if (next.status === 'error') setLive('error', 'the file does not load: showing the last good design');
  else if (next.status === 'building') setLive('building', 'updating…');
  else if (d.version === 1) setLive('ready', next.editable ? 'live · watching the file' : 'the built-in default: no file to watch');
  else setLive('ready', `live · updated ${d.update_seconds.toFixed(2)} s after the change`);
}

// What the plates' colours mean: the fabricator's pens, named as the cut files' order note names them.
function renderLegend(box, legend) {
  const entries = legend.map((e) => [h('i', { class: e.purpose, style: `border-color: ${e.colour}`, title: e.meaning }),
    h('span', { title: `${e.meaning} (${e.colour}, layer ${e.layer})` }, e.label), ' ']);
  box.replaceChildren(...entries.flat(), h('i', { class: 'mark' }), 'selected');
}

async function loadModel(d) {
  const count = await viewer.load(d.model.url);
  shown.modelRev = d.model.rev;
  $('part-count').textContent = `${count} parts · ${d.nodes} node${d.nodes === 1 ? '' : 's'}`;
}

function showError(err, haveDesign) {
  const box = $('error');
  box.hidden = !err;
  if (!err) return;
  const where = [err.file ? h('span', {}, err.file) : null, err.key ? h('code', { class: 'key' }, err.key) : null].filter(Boolean);
  $('error-where').replaceChildren(...where.flatMap((w, i) => (i ? [' · ', w] : [w])));
  if (!where.length) $('error-where').textContent = 'cannot show this design';
  $('error-message').textContent = err.message + (err.fix ? ` — ${err.fix}` : '');
  $('error-more').replaceChildren(...(err.more || []).map((m) => h('li', {}, m)));
  $('error-note').textContent = haveDesign ? 'Below: the last design that loaded. Fix the file and save: the page updates by itself.'
    : 'Fix the file and save: the page updates by itself.';
}

function renderChecks(d) {
  renderFindings($('findings'), $('check-summary'), d.checks, selected && selected.kind === 'finding' ? selected.key : null, selectFinding);
}

async function renderFront(d) {
  const f = d.front;
  $('front-status').textContent = f.status === 'ready' ? 'drag to pan, wheel to zoom' : f.status === 'failed' ? `failed: ${f.message}` : 'drawing (hidden-line removal)…';
  if (f.status !== 'ready' || shown.frontVersion === d.version) return;
  shown.frontVersion = d.version;
  await showDrawing($('front'), f.url);
}

// --- selection: a finding or a part lights up in 3D and on the plates -------------------------------

function selectFinding(f) {
  const key = findingKey(f);
  if (selected && selected.kind === 'finding' && selected.key === key) return clearSelection();
  selected = { kind: 'finding', key };
  showTargets(f.targets, `${f.code}: ${f.message}`);
  renderChecks(state.design);
}

function clearSelection() {
  selected = null;
  viewer.highlight([]);
  plates.mark({});
  $('selection').replaceChildren('Click a part or a finding to light it up in 3D and on the plates.');
  if (state && state.design) renderChecks(state.design);
}

function showTargets(targets, text) {
  const lit = viewer.highlight(targets.scene);
  plates.mark(targets.plates);
  const n = Object.keys(targets.plates).length;
  $('selection').replaceChildren(h('b', {}, text), h('span', { class: 'chip' }, `${lit.length} part${lit.length === 1 ? '' : 's'}`),
    n ? h('span', { class: 'chip' }, `${n} plate${n === 1 ? '' : 's'}`) : '');
}

async function pick(part) {
  if (!part) return clearSelection();
  if (selected && selected.kind === 'part' && selected.name === part.name) return clearSelection();
  selected = { kind: 'part', name: part.name };
  const res = await fetch(`/api/targets?part=${encodeURIComponent(part.name)}`);
  if (!res.ok) return;
  showTargets(await res.json(), part.label);
  $('selection').append(h('span', { class: 'chip' }, part.name));
  renderChecks(state.design);
}

// after an update: keep what was selected lit, if it still exists
function reselect(d) {
  if (!selected) return;
  if (selected.kind === 'finding') {
    const report = d.checks.report;
    const f = report && report.findings.find((x) => findingKey(x) === selected.key);
    if (f) showTargets(f.targets, `${f.code}: ${f.message}`);
    else if (d.checks.status === 'ready') clearSelection();
  } else if (!viewer.parts.has(selected.name)) {
    clearSelection();
  } else {
    viewer.highlight([selected.name]);
  }
}

function hover(part, ev) {
  if (!part || !ev) { tooltip.hidden = true; return; }
  const rect = $('viewer').getBoundingClientRect();
  tooltip.style.left = `${ev.clientX - rect.left}px`;
  tooltip.style.top = `${ev.clientY - rect.top}px`;
  tooltip.replaceChildren(h('b', {}, part.label || part.name), h('span', {}, part.name));
  tooltip.hidden = false;
}

connect();
