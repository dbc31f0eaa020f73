import type { BenchResult, MeasureOptions } from './workloads.ts';

/** One peer's training setup for one workload and batch size, built by its page and stepped by `measure`. */
export interface StepTrainer {
  /** Issues one training step (forward, backward, Adam) on the next batch, without reading anything back. */
  step(): void | Promise<void>;
  /** Issues k steps as one call, where the peer's API trains on several batches at once (tfjs `model.fit`). */
  steps?(k: number): Promise<void>;
  /** Resolves once every issued step has finished on the device (a readback or queue fence). */
  sync(): Promise<void>;
  /** The loss the last step computed (a readback; never inside a timed group). */
  loss(): Promise<number>;
  dispose(): void;
}

export type Measurement = Pick<
  BenchResult,
  'msPerStep' | 'meanMsPerStep' | 'samplesPerSec' | 'steps' | 'stepsPerGroup' | 'capped' | 'warmupMs' | 'lossFirst' | 'lossLast'
>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Times training the way it runs for real: steps are issued back to back and the device is synced
 * only at the end of each group of k steps, so the GPU work is inside the wall time but no
 * per-step readback is. ms/step is the median over groups of (group time / k).
 */
export async function measure(trainer: StepTrainer, batch: number, options: MeasureOptions): Promise<Measurement> {
  const issue = async (k: number) => {
    if (trainer.steps) return trainer.steps(k);
    for (let j = 0; j < k; j++) await trainer.step();
  };
  const warmupMs: number[] = [];
  let lossFirst = NaN;
  for (let i = 0; i < Math.max(1, options.warmup); i++) {
    const start = performance.now();
    await issue(1);
    await trainer.sync();
    warmupMs.push(performance.now() - start);
    if (i === 0) lossFirst = await trainer.loss();
  }

  // The last warm-up step estimates the cost; a slow peer gets fewer timed steps (at least 3).
  const estimate = warmupMs[warmupMs.length - 1]!;
  const affordable = Math.max(3, Math.floor((options.budgetS * 1000) / Math.max(estimate, 1e-3)));
  const wanted = Math.min(options.steps, affordable);
  const perGroup = Math.max(1, Math.floor(wanted / 5));
  const groups = Math.max(1, Math.floor(wanted / perGroup));

  const groupMs: number[] = [];
  for (let g = 0; g < groups; g++) {
    const start = performance.now();
    await issue(perGroup);
    await trainer.sync();
    groupMs.push((performance.now() - start) / perGroup);
  }
  const msPerStep = median(groupMs);
  const steps = groups * perGroup;
  return {
    msPerStep,
    meanMsPerStep: groupMs.reduce((a, b) => a + b, 0) / groups,
    samplesPerSec: (batch * 1000) / msPerStep,
    steps,
    stepsPerGroup: perGroup,
    capped: steps < options.steps,
    warmupMs,
    lossFirst,
    lossLast: await trainer.loss(),
  };
}
