/**
 * Our engine's entry in the peer table. HOOK for the trainer (issue "Performance"): until it is
 * wired, `benchOurs` throws and the table shows "pending".
 *
 * To wire it, build our training step for `workload` at `batch` (same network, Adam lr 1e-3,
 * softmax cross-entropy, real MNIST from `mnistBatches`), wrap it as a `StepTrainer` (step =
 * encode + submit one step, no readback; sync = `queue.onSubmittedWorkDone()`; loss = read the
 * loss buffer), and return `measure(trainer, batch, options)` so ours is timed exactly like the peers.
 */
import type { Measurement } from './measure.ts';
import type { MeasureOptions, Workload } from './workloads.ts';

/** The message the runner reads as "pending" rather than as a failure. */
export const OURS_PENDING = 'our engine step not wired yet';

/** Times our training step; `options.steps` is the number of timed steps (after `options.warmup`). */
export async function benchOurs(workload: Workload, batch: number, options: MeasureOptions): Promise<Measurement> {
  void workload;
  void batch;
  void options;
  throw new Error(OURS_PENDING);
}
