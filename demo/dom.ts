/** The few DOM helpers the demo needs: build elements, format numbers, draw digits. */

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, unknown> & { class?: string; dataset?: Record<string, string>; style?: string };

/** `h('div', { class: 'card' }, child, …)`: an element with properties (or attributes) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') el.setAttribute('style', String(value));
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (key in el) (el as unknown as Record<string, unknown>)[key] = value;
    else el.setAttribute(key, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** A card with a title row (title on the left, tool buttons on the right). */
export function card(title: string, tools: Child[] = [], ...body: Child[]): HTMLElement {
  return h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h4', {}, title), h('div', { class: 'tools' }, ...tools)), ...body);
}

export const fmt = {
  pct: (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`),
  num: (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits)),
  int: (x: number) => Math.round(x).toLocaleString('en-US'),
  rate: (x: number) => (x >= 10000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)),
};

/** A canvas whose backing store matches the device pixel ratio for a CSS size. */
export function hiDpiCanvas(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssWidth * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

/** Draws 28×28 grey pixels (0–255 or 0–1) as an image at (x, y) of a context, one canvas pixel each. */
export function putDigit(ctx: CanvasRenderingContext2D, pixels: ArrayLike<number>, x: number, y: number, scale255 = true): void {
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = scale255 ? pixels[i]! : Math.round(pixels[i]! * 255);
    image.data[i * 4] = v;
    image.data[i * 4 + 1] = v;
    image.data[i * 4 + 2] = v;
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, x, y);
}

/** A 28×28 canvas showing one digit (CSS scales it up, pixelated). */
export function digitCanvas(pixels: ArrayLike<number>, scale255 = true): HTMLCanvasElement {
  const canvas = h('canvas', { width: 28, height: 28 });
  putDigit(canvas.getContext('2d')!, pixels, 0, 0, scale255);
  return canvas;
}
