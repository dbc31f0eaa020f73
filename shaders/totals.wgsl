// The epoch's running loss totals (`#include totals`): softmax_xent.wgsl adds each batch in, loss_guard.wgsl
// watches the sum, src/engine/loss.ts reads them back.
struct Totals {
  lossSum: f32,  // Σ per-row cross-entropy
  correct: u32,  // rows whose argmax is the label
}
