/** Reference of shaders/dropout.wgsl: the same counter-based mask, computed on the CPU. */
import { dropoutThreshold } from '../layers/dropout.ts';

/** Wellons' lowbias32, as in the shader. */
export function hash(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** 1 where element i is kept for this step seed and layer salt, else 0. */
export function dropoutMask(count: number, rate: number, seed: number, salt: number): Uint8Array {
  const key = hash(seed ^ hash(salt));
  const threshold = dropoutThreshold(rate);
  const mask = new Uint8Array(count);
  for (let i = 0; i < count; i++) mask[i] = (hash(hash(i) ^ key) >>> 0) >= threshold ? 1 : 0;
  return mask;
}

/** y = x · mask / (1 − rate); the same formula gives dx from dy. */
export function applyMask(values: ArrayLike<number>, mask: Uint8Array, rate: number): Float64Array {
  return Float64Array.from(mask, (keep, i) => (keep ? values[i]! / (1 - rate) : 0));
}
