/**
 * The per-step uniform every kernel that varies between steps reads (WGSL side, shaders/step.wgsl,
 * included by each shader that needs it):
 *
 *   struct Step { batchStart: u32, t: u32, seed: u32, lr: f32 }
 *
 * - batchStart: offset of this batch's first sample in the order buffer (gather, eval probabilities)
 * - t:          optimizer step, 1-based (Adam's bias correction)
 * - seed:       per-step RNG seed (dropout masks), derived from the run seed and t
 * - lr:         learning rate for this step (StepLR changes it per epoch)
 *
 * A whole epoch of these is written to a table once; before each step the encoder copies entry i
 * into the bound uniform (copyBufferToBuffer between compute passes), so many steps go into one
 * command buffer with no CPU round trip and no dynamic offsets.
 */
export interface StepParams {
  batchStart: number;
  t: number;
  seed: number;
  lr: number;
}

/** Bytes per table entry: 16 would do, 256 keeps every entry aligned for any future binding use. */
export const STEP_STRIDE = 256;
export const STEP_BYTES = 16;

export function packSteps(steps: readonly StepParams[]): ArrayBuffer {
  const data = new ArrayBuffer(Math.max(1, steps.length) * STEP_STRIDE);
  const view = new DataView(data);
  steps.forEach((s, i) => {
    const at = i * STEP_STRIDE;
    view.setUint32(at, s.batchStart, true);
    view.setUint32(at + 4, s.t, true);
    view.setUint32(at + 8, s.seed, true);
    view.setFloat32(at + 12, s.lr, true);
  });
  return data;
}

/** Mixes run seed and step into the 32-bit per-step dropout seed (a murmur3 finaliser). */
export function stepSeed(runSeed: number, t: number): number {
  let h = (runSeed ^ Math.imul(t, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
