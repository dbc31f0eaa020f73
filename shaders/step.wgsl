// The per-step uniform (`#include step`), packed by src/engine/step.ts, which says what each field holds:
// the batch's offset in the order buffer, the 1-based optimizer step t, the step's RNG seed and the
// learning rate. One recorded dispatch reads it and so serves every step.
struct Step { batchStart: u32, t: u32, seed: u32, lr: f32 }
