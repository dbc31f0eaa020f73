/** The machine-readable result of a run: `npm run train` writes it, the demo exports it. Fields are stable. */
import type { AdapterFacts } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { KernelChoice, OpFamily, Target } from '../gpu/target.ts';
import type { Mnist } from '../data/mnist.ts';
import { classCounts } from '../data/split.ts';
import { testReport, type TestReport } from '../metrics/report.ts';
import { firstConvFilters } from '../layers/conv2d.ts';
import type { TrainConfig } from './config.ts';
import type { LoopEnd } from './loop.ts';
import type { Run } from './run.ts';

export interface EpochRecord {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number | null;
  valAcc: number | null;
  ms: number;
}

/**
 * Training speed as a user would time it by hand, set-up apart: the first chunk of steps a run submits
 * waits for its pipelines to compile (seconds on SwiftShader), which no later step does.
 */
export interface Throughput {
  /** Wall-clock ms per training step after the run's first chunk of steps (validation and test not included). */
  stepMs: number;
  /** Training samples per second at that pace. */
  samplesPerSecond: number;
  /** Steps those two are measured over; 0 when the run had none after its first chunk (both are 0 then). */
  measuredSteps: number;
  /** From the start of the run to the end of its first chunk of steps: buffers, pipelines and their compilation, those steps. */
  setupMs: number;
  /** Of setupMs: waiting for the first chunk's pipelines, all made at once (the "ready in" figure). */
  compileMs: number;
  /** Optimizer steps 1 … quickSteps trained on rung 0 while the target's kernels compiled (src/train/quick-start.ts); 0 for none. Not in stepMs. */
  quickSteps: number;
  /** From the start of the run until the target's own training pipelines were made in the background; null without a quick start or before then. */
  fastReadyMs: number | null;
}

/** Which kernels a run ran: what it asked for (`--kernels`, the demo's `?kernels=`) and what that resolved to on its adapter. */
export interface KernelsRan {
  choice: KernelChoice;
  /** The shapes the kernels took: a CPU adapter's or a GPU's. */
  shape: 'cpu' | 'gpu';
  subgroups: boolean;
  /** The highest rung each op family was allowed (absent: no ceiling). */
  rungCeiling: Partial<Record<OpFamily, number>>;
  /** The rungs of each ladder that ran (indices, ascending). */
  rungs: Partial<Record<OpFamily, number[]>>;
}

/** What `target` and the recorded `dispatches` say about the kernels of a run. */
export function kernelsRan(target: Target, dispatches: Iterable<Dispatch>): KernelsRan {
  const rungs: Partial<Record<OpFamily, number[]>> = {};
  for (const { rung } of dispatches) {
    if (!rung) continue;
    const seen = (rungs[rung.op] ??= []);
    if (!seen.includes(rung.index)) seen.push(rung.index);
  }
  for (const list of Object.values(rungs)) list.sort((a, b) => a - b);
  return { choice: target.choice, shape: target.shape, subgroups: target.subgroups, rungCeiling: { ...target.rungCeiling }, rungs };
}

export interface RunResult {
  preset: string;
  config: TrainConfig;
  adapter: AdapterFacts;
  kernels: KernelsRan;
  data: {
    train: number;
    val: number;
    test: number;
    classCounts: { train: number[]; val: number[]; test: number[] };
  };
  epochs: EpochRecord[];
  stoppedEarly: boolean;
  bestEpoch: number;
  test: TestReport;
  throughput: Throughput;
  /** The layers with their output shapes (one sample) and parameter counts. */
  model: Array<{ index: number; kind: string; describe: string; outputShape: number[]; params: number }>;
  /** The first conv layer's learned kernels [out][in][k][k], for drawing; null without a conv layer or when the device was lost. */
  filters: number[][][][] | null;
  /** Set when the run was cut short (device lost, NaN loss, stopped by the user): the reason. */
  interrupted?: string;
}

/** What `npm run evaluate` writes: a checkpoint's test report, in the same shape as a run's `test`. */
export interface EvaluationResult {
  preset: string;
  config: TrainConfig;
  adapter: RunResult['adapter'];
  kernels: KernelsRan;
  data: { test: number; classCounts: { test: number[] } };
  test: TestReport;
}

/** Full test-set evaluation with the model's current weights: the report and the softmax probabilities. */
export async function evaluateTestSet(run: Run, mnist: Mnist): Promise<{ test: TestReport; testProbs: Float32Array }> {
  const { totals, probs, confusion } = await run.program.evaluateTest();
  return { test: await testReport(confusion, totals.lossSum, probs, mnist.test.labels), testProbs: probs };
}

/**
 * A run's result once its loop and test have ended: `end.test` is emptyReport() when it never got to test;
 * `evaluated` (weights worth reading) adds the first conv layer's filters.
 */
export async function runResult(run: Run, mnist: Mnist, end: LoopEnd & { test: TestReport }, evaluated: boolean): Promise<RunResult> {
  const { config: c, splits, loop } = run;
  return {
    preset: c.preset,
    config: c,
    adapter: run.gpu.adapter,
    kernels: kernelsRan(run.gpu.target, run.program.dispatches()),
    data: {
      train: splits.train.length,
      val: splits.val.length,
      test: run.data.test.count,
      classCounts: { train: splits.classCounts.train, val: splits.classCounts.val, test: testClassCounts(mnist) },
    },
    epochs: loop.history,
    stoppedEarly: end.stoppedEarly,
    bestEpoch: loop.bestEpoch,
    test: end.test,
    model: run.model.summary(),
    filters: evaluated ? await firstConvFilters(run.model) : null,
    throughput: run.program.throughput(),
    ...(end.interrupted ? { interrupted: end.interrupted } : {}),
  };
}

/** A checkpoint's test report with the kernels and data it ran on. */
export function evaluationResult(run: Run, mnist: Mnist, test: TestReport): EvaluationResult {
  const c = run.config;
  return { preset: c.preset, config: c, adapter: run.gpu.adapter, kernels: kernelsRan(run.gpu.target, run.program.dispatches()), data: { test: run.data.test.count, classCounts: { test: testClassCounts(mnist) } }, test };
}

export function emptyReport(): TestReport {
  const zero = { precision: 0, recall: 0, f1: 0 };
  return { loss: NaN, accuracy: 0, confusion: [], perClass: [], macro: zero, weighted: zero, rocAuc: [], roc: [] };
}

function testClassCounts(mnist: Mnist): number[] {
  return classCounts(mnist.test.labels, Uint32Array.from({ length: mnist.test.count }, (_, i) => i));
}
