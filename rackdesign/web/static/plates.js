// Plates: each plate's cut geometry (the SVG its cut file is drawn from), with pan and zoom,
// a 10 mm grid, and marks for the parts a finding (or a click in 3D) names.
const SVG_NS = 'http://www.w3.org/2000/svg';
const MARGIN = 6; // mm around a plate

function parseSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  return document.importNode(doc.documentElement, true);
}

async function fetchSvg(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return parseSvg(await res.text());
}

// every plate's SVG in one request (a browser opens only a few connections to one server)
async function fetchPlates(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  const body = await res.json();
  return new Map(body.plates.map((p) => [p.name, parseSvg(p.svg)]));
}

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function fmt(mm) {
  return (Math.round(mm * 10) / 10).toLocaleString('en');
}

// Make an SVG ready to look at: a margin, the grid and the acrylic beneath, a layer for marks.
function dress(svg, plate, grid = true) {
  const W = plate.width;
  const H = plate.height;
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.setAttribute('viewBox', `${-MARGIN} ${-MARGIN} ${W + 2 * MARGIN} ${H + 2 * MARGIN}`);
  const under = el('g', { class: 'under' });
  svg.insertBefore(under, svg.firstChild);
  if (grid) {
    for (let x = 0; x <= W + 0.01; x += 10) el('line', { class: 'grid-line', x1: x, y1: -MARGIN / 2, x2: x, y2: H + MARGIN / 2 }, under);
    for (let y = 0; y <= H + 0.01; y += 10) el('line', { class: 'grid-line', x1: -MARGIN / 2, y1: H - y, x2: W + MARGIN / 2, y2: H - y }, under);
  }
  el('g', { class: 'marks' }, svg);
  return svg;
}

// The plate's outline (the longest cut path) filled like acrylic, under everything.
function tintOutline(svg) {
  let best = null;
  let bestArea = 0;
  for (const p of svg.querySelectorAll('path, circle')) {
    if (p.closest('.under') || p.closest('.marks')) continue;
    const b = p.getBBox();
    if (b.width * b.height > bestArea) { best = p; bestArea = b.width * b.height; }
  }
  if (!best) return;
  const copy = best.cloneNode();
  copy.setAttribute('class', 'acrylic');
  for (const a of ['stroke', 'stroke-width', 'fill']) copy.removeAttribute(a);
  svg.querySelector('.under').appendChild(copy);
}

function panZoom(svg) {
  if (!window.svgPanZoom) return null;
  return window.svgPanZoom(svg, {
    zoomScaleSensitivity: 0.35, dblClickZoomEnabled: false, minZoom: 0.5, maxZoom: 60, fit: true, center: true,
    controlIconsEnabled: false,
  });
}

export class Plates {
  constructor(container, counter) {
    this.container = container;
    this.counter = counter;
    this.cards = new Map(); // plate name -> {card, svg, plate, zoom}
    this.marks = {};
  }

  count() {
    return this.cards.size;
  }

  async render(plates, url) {
    const svgs = await fetchPlates(url);
    const grid = document.createDocumentFragment();
    const cards = new Map();
    for (const plate of plates) cards.set(plate.name, this.card(plate, svgs.get(plate.name), grid));
    for (const old of this.cards.values()) if (old.zoom) old.zoom.destroy();
    this.container.replaceChildren(grid);
    for (const c of cards.values()) {
      tintOutline(c.svg);
      c.zoom = panZoom(c.svg);
      c.svg.addEventListener('dblclick', () => { if (c.zoom) { c.zoom.fit(); c.zoom.center(); } });
    }
    this.cards = cards;
    const n = plates.length;
    this.counter.textContent = `${n} plate${n === 1 ? '' : 's'} · drag to pan, wheel to zoom, double-click to fit`;
    this.mark(this.marks);
  }

  card(plate, svg, parent) {
    const card = document.createElement('article');
    card.className = 'plate-card';
    card.dataset.plate = plate.name;
    const head = document.createElement('header');
    const name = document.createElement('b');
    name.textContent = plate.name;
    head.append(name);
    const role = document.createElement('span');
    role.className = 'chip';
    role.textContent = plate.role + (plate.node ? ` · ${plate.node}` : '');
    head.append(role);
    const dims = document.createElement('span');
    dims.className = 'dims';
    dims.textContent = `${fmt(plate.width)} × ${fmt(plate.height)} mm`;
    head.append(dims);
    const view = document.createElement('div');
    view.className = 'plate-view';
    view.append(dress(svg, plate));
    const foot = document.createElement('footer');
    const holes = plate.holes.length;
    foot.textContent = `${holes} hole${holes === 1 ? '' : 's'} and cut-outs · ${fmt(plate.thickness)} mm` +
      (plate.z !== null && plate.z !== undefined ? ` · bottom at ${fmt(plate.z)} mm` : '') +
      (plate.bend ? ' · bent on its bend line after cutting' : '');
    card.append(head, view, foot);
    parent.appendChild(card);
    return { card, svg, plate, zoom: null };
  }

  // marks: {plate name: {outline, boxes: [[x0, y0, x1, y1]], holes: [index]}} in plate millimetres
  mark(marks) {
    this.marks = marks || {};
    for (const [name, c] of this.cards) {
      const layer = c.svg.querySelector('.marks');
      if (!layer) continue;
      layer.replaceChildren();
      const m = this.marks[name];
      c.card.classList.toggle('marked', !!m);
      if (!m) continue;
      const H = c.plate.height;
      if (m.outline) el('rect', { class: 'mark-outline', x: 0, y: 0, width: c.plate.width, height: H, rx: 3 }, layer);
      for (const [x0, y0, x1, y1] of m.boxes || []) {
        el('rect', { class: 'mark-box', x: x0, y: H - y1, width: x1 - x0, height: y1 - y0 }, layer);
      }
      for (const i of m.holes || []) {
        const [x0, y0, x1, y1] = c.plate.holes[i].box;
        const r = Math.max(x1 - x0, y1 - y0) / 2 + 1.2;
        el('circle', { class: 'mark-hole', cx: (x0 + x1) / 2, cy: H - (y0 + y1) / 2, r }, layer);
      }
    }
  }

  markedNames() {
    return Object.keys(this.marks).filter((n) => this.cards.has(n));
  }
}

export async function showDrawing(container, url) {
  const svg = await fetchSvg(url);
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  const old = container.querySelector('svg');
  if (old && old._zoom) old._zoom.destroy();
  container.replaceChildren(svg);
  svg._zoom = panZoom(svg);
}
