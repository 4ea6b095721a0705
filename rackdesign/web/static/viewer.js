// The 3D view: the rack's glTF (exported from the CadQuery assembly) in three.js, with orbit /
// pan / zoom, a name for every part on hover and click, and highlighting by scene node name.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { mergeGeometries } from 'three/addons/utils/BufferGeometryUtils.js';

const BACKGROUND = 0xeef2f5;
const MARK = new THREE.Color(0xf59e0b);
const EDGE = 0x33414f;
const GHOST_OPACITY = 0.1;

// A browser without a GPU draws WebGL on the CPU (SwiftShader, llvmpipe): there, multisampling
// costs more than it shows.
function softwareGL() {
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
  const name = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : '';
  gl?.getExtension('WEBGL_lose_context')?.loseContext();
  return /SwiftShader|llvmpipe|softpipe|Software/i.test(name);
}

export class Viewer {
  constructor(container, { onHover, onPick } = {}) {
    this.container = container;
    this.onHover = onHover || (() => {});
    this.onPick = onPick || (() => {});
    this.renderer = new THREE.WebGLRenderer({ antialias: !softwareGL(), preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setClearColor(BACKGROUND, 1);
    container.prepend(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(32, 1, 1, 20000);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.addEventListener('change', () => this.render());
    this.addLights();
    this.model = null;
    this.parts = new Map(); // part name -> Object3D (the glTF node of one solid)
    this.highlighted = new Set();
    this.xray = false;
    this.fitted = false;
    this.listen();
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  addLights() {
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8a9aa8, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 2.0);
    sun.position.set(250, 400, 300);
    this.scene.add(sun);
    const fill = new THREE.DirectionalLight(0xffffff, 0.6);
    fill.position.set(-300, 150, -200);
    this.scene.add(fill);
  }

  resize() {
    const { clientWidth: w, clientHeight: h } = this.container;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  render() {
    this.renderer.render(this.scene, this.camera);
  }

  // Load a GLB; the first model sets the view, later ones (edits) keep the camera where it is.
  async load(url) {
    const gltf = await new GLTFLoader().loadAsync(url);
    const root = gltf.scene;
    this.parts = new Map();
    root.traverse((obj) => {
      if (obj.userData && obj.userData.part) this.parts.set(obj.userData.part, obj);
    });
    for (const obj of this.parts.values()) this.prepare(obj);
    if (this.model) this.scene.remove(this.model);
    this.disposeOld();
    this.model = root;
    this.scene.add(root);
    this.placeGround(root);
    if (!this.fitted) this.resetView();
    this.applyLook();
    return this.parts.size;
  }

  // One mesh per part: the glTF has a primitive per B-rep face (680 for the default rack), and
  // every one is a draw call; merged, a part is one (software WebGL draws them 5x faster).
  merge(obj) {
    const meshes = [];
    obj.traverse((m) => { if (m.isMesh) meshes.push(m); });
    if (meshes.length < 2) return;
    obj.updateWorldMatrix(true, true);
    const inv = obj.matrixWorld.clone().invert();
    const geoms = meshes.map((m) => m.geometry.clone().applyMatrix4(inv.clone().multiply(m.matrixWorld)));
    const merged = mergeGeometries(geoms, false);
    if (!merged) return;
    for (const m of meshes) {
      m.removeFromParent();
      m.geometry.dispose();
    }
    const one = new THREE.Mesh(merged, meshes[0].material);
    obj.add(one);
  }

  // Own materials per part (so one part can glow), acrylic see-through, edges drawn.
  prepare(obj) {
    const kind = obj.userData.kind;
    this.merge(obj);
    obj.traverse((m) => {
      if (!m.isMesh) return;
      m.material = m.material.clone();
      const mat = m.material;
      if (kind === 'plate' || kind === 'support') {
        mat.transparent = true;
        mat.opacity = 0.42;
        mat.depthWrite = false;
        mat.roughness = 0.15;
        mat.metalness = 0.0;
      } else {
        mat.roughness = kind === 'spacer' || kind === 'screw' || kind === 'nut' ? 0.35 : 0.7;
        mat.metalness = kind === 'spacer' || kind === 'screw' || kind === 'nut' ? 0.55 : 0.05;
      }
      m.userData.base = { color: mat.color.clone(), opacity: mat.opacity, transparent: mat.transparent, depthWrite: mat.depthWrite };
      if (kind === 'plate' || kind === 'support' || kind === 'board' || kind === 'hat' || kind === 'switch' || kind === 'drive') {
        const edges = new THREE.LineSegments(new THREE.EdgesGeometry(m.geometry, 30),
          new THREE.LineBasicMaterial({ color: kind === 'plate' || kind === 'support' ? 0x2b8aa3 : EDGE, transparent: true, opacity: 0.55 }));
        edges.raycast = () => {};
        m.add(edges);
      }
    });
  }

  disposeOld() {
    // geometries and materials of the previous model are garbage once removed; the GPU copies
    // go with renderer.dispose of each (three.js keeps them until told)
    if (!this.model) return;
    this.model.traverse((m) => {
      if (m.geometry) m.geometry.dispose();
      if (m.material) m.material.dispose();
    });
  }

  placeGround(root) {
    if (this.ground) this.scene.remove(this.ground);
    const box = new THREE.Box3().setFromObject(root);
    const size = box.getSize(new THREE.Vector3());
    const span = Math.ceil((Math.max(size.x, size.z) * 1.6) / 20) * 20;
    const grid = new THREE.GridHelper(span, span / 10, 0xb9c6d1, 0xd5dee5);
    const c = box.getCenter(new THREE.Vector3());
    grid.position.set(c.x, box.min.y - 0.05, c.z);
    grid.raycast = () => {};
    this.ground = grid;
    this.scene.add(grid);
  }

  resetView() {
    if (!this.model) return;
    const box = new THREE.Box3().setFromObject(this.model);
    const centre = box.getCenter(new THREE.Vector3());
    const radius = box.getBoundingSphere(new THREE.Sphere()).radius;
    const dist = radius / Math.sin(THREE.MathUtils.degToRad(this.camera.fov / 2)) * 0.95;
    const dir = new THREE.Vector3(-0.8, 0.62, 1.45).normalize(); // front-left, from above: the switch stands right
    this.camera.position.copy(centre).addScaledVector(dir, dist);
    this.camera.near = dist / 50;
    this.camera.far = dist * 20;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(centre);
    this.controls.update();
    this.fitted = true;
    this.render();
  }

  // names: scene node names to light up (the rest fades); empty: everything normal.
  highlight(names) {
    this.highlighted = new Set((names || []).filter((n) => this.parts.has(n)));
    this.applyLook();
    return [...this.highlighted];
  }

  setXray(on) {
    this.xray = on;
    this.applyLook();
  }

  applyLook() {
    const any = this.highlighted.size > 0;
    for (const [name, obj] of this.parts) {
      const lit = this.highlighted.has(name);
      const kind = obj.userData.kind;
      obj.traverse((m) => {
        if (!m.isMesh) return;
        const base = m.userData.base;
        const mat = m.material;
        mat.color.copy(base.color);
        mat.emissive.setRGB(0, 0, 0);
        mat.opacity = base.opacity;
        mat.transparent = base.transparent;
        mat.depthWrite = base.depthWrite;
        if (lit) {
          mat.color.lerp(MARK, 0.65);
          mat.emissive.copy(MARK).multiplyScalar(0.35);
          mat.opacity = 1;
          mat.transparent = false;
          mat.depthWrite = true;
        } else if (any || (this.xray && kind !== 'spacer' && kind !== 'screw' && kind !== 'nut')) {
          mat.transparent = true;
          mat.opacity = Math.min(base.opacity, any ? GHOST_OPACITY : 0.22);
          mat.depthWrite = false;
        }
        mat.needsUpdate = true;
      });
    }
    this.render();
  }

  partCount() {
    return this.parts.size;
  }

  partAt(event) {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1,
      -((event.clientY - rect.top) / rect.height) * 2 + 1);
    const ray = new THREE.Raycaster();
    ray.setFromCamera(ndc, this.camera);
    if (!this.model) return null;
    for (const hit of ray.intersectObject(this.model, true)) {
      let o = hit.object;
      while (o && !(o.userData && o.userData.part)) o = o.parent;
      if (!o) continue;
      // look through see-through acrylic to what is behind it, unless the plate is all there is
      if ((o.userData.kind === 'plate' || o.userData.kind === 'support') && !this.highlighted.has(o.userData.part)) {
        if (!this._plateBehind) this._plateBehind = o;
        continue;
      }
      return this.describe(o);
    }
    const plate = this._plateBehind;
    this._plateBehind = null;
    return plate ? this.describe(plate) : null;
  }

  describe(o) {
    this._plateBehind = null;
    return { name: o.userData.part, kind: o.userData.kind, node: o.userData.node, label: o.userData.label };
  }

  listen() {
    const el = this.renderer.domElement;
    let down = null;
    let pending = null;
    el.addEventListener('pointermove', (e) => {
      pending = e;
      requestAnimationFrame(() => {
        if (!pending) return;
        const ev = pending;
        pending = null;
        this.onHover(this.partAt(ev), ev);
      });
    });
    el.addEventListener('pointerleave', () => this.onHover(null, null));
    el.addEventListener('pointerdown', (e) => { down = { x: e.clientX, y: e.clientY }; });
    el.addEventListener('pointerup', (e) => {
      if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4 || e.button !== 0) return;
      this.onPick(this.partAt(e));
    });
  }
}
