/** The machine-readable result of a run: `npm run train` writes it, the demo exports it. Fields are stable. */
import type { AdapterFacts } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { KernelChoice, OpFamily, Target } from '../gpu/target.ts';
import type { TestReport } from '../metrics/report.ts';
import type { TrainConfig } from './config.ts';

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
