/**
 * A drawing pad (mouse, pen or touch through pointer events) whose digit both trained networks
 * classify as it is drawn. The drawing is prepared the way MNIST's digits were: cropped to its ink,
 * scaled so the longer side is 20 pixels, placed in a 28×28 field by its centre of mass.
 */
import { h } from './dom.ts';
import { canvasPng, download } from './export.ts';
import type { Predictor } from './predict.ts';

interface Reader {
  name: string;
  accent: string;
  predictor: Predictor | null;
  column: HTMLElement;
  guess: HTMLElement;
  rows: { fill: HTMLElement; value: HTMLElement; row: HTMLElement }[];
  note: HTMLElement;
}

const PAD = 280;

export class DrawPad {
  private readonly ink = h('canvas', { class: 'ink', width: PAD, height: PAD, dataset: { role: 'draw' } });
  private readonly seen = h('canvas', { width: 28, height: 28 });
  private readonly readers: Reader[] = [];
  private last: { x: number; y: number } | null = null;
  private scheduled = false;
  private pixels: Float32Array | null = null;

  constructor(root: HTMLElement, networks: { name: string; accent: string }[]) {
    const ctx = this.ink.getContext('2d', { willReadFrequently: true })!;
    this.seen.getContext('2d', { willReadFrequently: true });
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 20;
    const clear = h('button', { onclick: () => this.clear() }, 'Clear');
    // On the pad's own dark background: the ink is white on transparent.
    const png = h('button', { dataset: { export: 'drawing' }, onclick: async () => download('wgsl-nn-drawing.png', await canvasPng(this.ink, getComputedStyle(this.ink).backgroundColor)) }, 'PNG');
    const pad = h('div', { class: 'pad' }, this.ink,
      h('div', { class: 'seen' }, this.seen, h('span', {}, 'what the networks see (28×28)'), clear, png));
    const grid = h('div', { class: 'draw-grid' }, pad);
    for (const net of networks) {
      const reader = this.reader(net.name, net.accent);
      this.readers.push(reader);
      grid.append(reader.column);
    }
    root.append(h('p', { class: 'muted', style: 'margin:-6px 0 12px' }, 'Draw a digit with the mouse, a pen or a finger; each trained network answers as you draw.'), grid);
    this.ink.addEventListener('pointerdown', (e) => this.down(e));
    this.ink.addEventListener('pointermove', (e) => this.move(e));
    this.ink.addEventListener('pointerup', () => (this.last = null));
    this.ink.addEventListener('pointercancel', () => (this.last = null));
  }

  /** Connects (or, with null, disconnects) a trained network's predictor. */
  setPredictor(name: string, predictor: Predictor | null, note = ''): void {
    const reader = this.readers.find((r) => r.name === name)!;
    reader.predictor = predictor;
    reader.note.textContent = predictor ? note : `Train the ${name} to see what it reads.`;
    reader.column.dataset.ready = predictor ? 'true' : 'false';
    if (!predictor) this.showProbs(reader, null);
    else if (this.pixels) void this.classify(reader, this.pixels);
  }

  private reader(name: string, accent: string): Reader {
    const guess = h('span', { class: 'guess' }, '–');
    const rows = Array.from({ length: 10 }, (_, digit) => {
      const fill = h('div', { class: 'fill' });
      const value = h('span', { class: 'num faint' }, '');
      const row = h('div', { class: 'prob-row', dataset: { digit: String(digit) } }, h('b', {}, String(digit)), h('div', { class: 'track' }, fill), value);
      return { fill, value, row };
    });
    const note = h('div', { class: 'faint' }, `Train the ${name} to see what it reads.`);
    const column = h('div', { class: 'probs card', style: `--accent:${accent}`, dataset: { net: name.toLowerCase(), ready: 'false' } },
      h('div', { class: 'head' }, guess, h('div', {}, h('h3', {}, name), note)), ...rows.map((r) => r.row));
    return { name, accent, predictor: null, column, guess, rows, note };
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const rect = this.ink.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) / rect.width) * PAD, y: ((e.clientY - rect.top) / rect.height) * PAD };
  }

  private down(e: PointerEvent): void {
    this.ink.setPointerCapture(e.pointerId);
    this.last = this.point(e);
    this.stroke(this.last, this.last);
  }

  private move(e: PointerEvent): void {
    if (!this.last) return;
    const events = typeof e.getCoalescedEvents === 'function' && e.getCoalescedEvents().length > 0 ? e.getCoalescedEvents() : [e];
    for (const ev of events) {
      const p = this.point(ev);
      this.stroke(this.last, p);
      this.last = p;
    }
  }

  private stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const ctx = this.ink.getContext('2d')!;
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    this.schedule();
  }

  /** One classification per frame at most, however fast the pointer moves. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.pixels = this.prepare();
      for (const reader of this.readers) if (reader.predictor && this.pixels) void this.classify(reader, this.pixels);
    });
  }

  private clear(): void {
    this.ink.getContext('2d')!.clearRect(0, 0, PAD, PAD);
    this.seen.getContext('2d')!.clearRect(0, 0, 28, 28);
    this.pixels = null;
    for (const reader of this.readers) this.showProbs(reader, null);
  }

  /** The drawing as MNIST would have it: 784 values in [0, 1], or null when nothing is drawn. */
  private prepare(): Float32Array | null {
    const alpha = this.ink.getContext('2d')!.getImageData(0, 0, PAD, PAD).data;
    let [x0, y0, x1, y1] = [PAD, PAD, -1, -1];
    for (let y = 0; y < PAD; y++) {
      for (let x = 0; x < PAD; x++) {
        if (alpha[(y * PAD + x) * 4 + 3]! > 20) {
          x0 = Math.min(x0, x); x1 = Math.max(x1, x);
          y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    const [w, hgt] = [x1 - x0 + 1, y1 - y0 + 1];
    const scale = 20 / Math.max(w, hgt);
    // Scale into a 20×20 box, then shift so the centre of mass sits at the centre, as MNIST did.
    const box = document.createElement('canvas');
    box.width = 28;
    box.height = 28;
    const bctx = box.getContext('2d', { willReadFrequently: true })!;
    bctx.imageSmoothingQuality = 'high';
    bctx.drawImage(this.ink, x0, y0, w, hgt, (28 - w * scale) / 2, (28 - hgt * scale) / 2, w * scale, hgt * scale);
    const boxed = bctx.getImageData(0, 0, 28, 28).data;
    let [mass, cx, cy] = [0, 0, 0];
    for (let i = 0; i < 784; i++) {
      const v = boxed[i * 4 + 3]! / 255;
      mass += v; cx += v * (i % 28); cy += v * Math.floor(i / 28);
    }
    const [dx, dy] = mass > 0 ? [Math.round(13.5 - cx / mass), Math.round(13.5 - cy / mass)] : [0, 0];
    const sctx = this.seen.getContext('2d')!;
    sctx.clearRect(0, 0, 28, 28);
    sctx.drawImage(box, dx, dy);
    const shifted = sctx.getImageData(0, 0, 28, 28).data;
    const pixels = new Float32Array(784);
    for (let i = 0; i < 784; i++) pixels[i] = shifted[i * 4 + 3]! / 255;
    return pixels;
  }

  private async classify(reader: Reader, pixels: Float32Array): Promise<void> {
    try {
      const probs = await reader.predictor?.latest(pixels);
      if (probs) this.showProbs(reader, probs);
    } catch (error) {
      reader.note.textContent = `Cannot classify: ${(error as Error).message}`;
    }
  }

  private showProbs(reader: Reader, probs: Float32Array | null): void {
    const top = probs ? probs.indexOf(Math.max(...probs)) : -1;
    reader.guess.textContent = probs ? String(top) : '–';
    reader.rows.forEach(({ fill, value, row }, digit) => {
      const p = probs ? probs[digit]! : 0;
      fill.style.width = `${(p * 100).toFixed(1)}%`;
      value.textContent = probs ? `${(p * 100).toFixed(1)}%` : '';
      row.dataset.prob = probs ? String(p) : '';
      row.classList.toggle('top', digit === top);
    });
    reader.column.dataset.probs = probs ? JSON.stringify(Array.from(probs)) : '';
  }
}
