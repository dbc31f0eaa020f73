/**
 * What the benchmark trains and what it reports, shared by the Node runner and the browser pages.
 * Every peer trains the same two networks on the same real MNIST batches with Adam (lr 1e-3) and
 * softmax cross-entropy, so ms/step compares like with like.
 */

export type Workload = 'mlp' | 'cnn';

/** The entries of the peer table, ours first. */
export const PEER_NAMES = ['ours', 'jax', 'tfjs-webgpu', 'tfjs-wasm'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

export const BATCHES = [64, 1000] as const;
export const LEARNING_RATE = 1e-3;

/**
 * The epoch every engine is timed on: MNIST's 60,000 training images split as our trainer splits
 * them by default (seed 1, 20% held out: 48,000 train, 12,000 validation), the training part
 * reshuffled each epoch, full batches only.
 */
export const EPOCH = { seed: 1, valFraction: 0.2 } as const;

/** The networks in words, for the table headings. */
export const WORKLOAD_TITLES: Record<Workload, string> = {
  mlp: 'MLP 784-128-64-10 (ReLU)',
  cnn: 'CNN arch 1: conv 1→16 k5 s2, ReLU, conv 16→8 k3, ReLU, dense 800→10',
};

/** How a measurement is taken (chosen by the runner, applied in the page). */
export interface MeasureOptions {
  /** Synced steps before timing: the first compiles pipelines, the next settle caches. */
  warmup: number;
  /** Timed steps wanted. */
  steps: number;
  /** Seconds the timed steps may take: slower peers get fewer steps, and the result says so. */
  budgetS: number;
  /** Seconds a whole epoch may take by its projection for one to be run and timed as well (0: never). */
  epochBudgetS: number;
  /** Seconds the timed validation pass may take: beyond, its first batches are timed and scaled up by images. */
  validationBudgetS: number;
}

/**
 * Seconds per epoch (the 48,000 training images in floor(48,000 / batch) steps, then a validation pass
 * over the 12,000 validation images at the same batch size), as projected and, where cheap enough, as run.
 */
export interface EpochTime {
  stepsPerEpoch: number;
  /**
   * Wall time of one whole validation pass (after a warm-up), its readback included: timed whole, or
   * where that would exceed --validation-budget, timed over its first `validationTimedImages` images
   * and scaled to `validationImages`.
   */
  validationMs: number;
  /** Images the timed validation pass ran: all `validationImages`, or its first batches'. */
  validationTimedImages: number;
  validationImages: number;
  /** Loss and accuracy the timed validation pass read back, over its `validationTimedImages`: proof it ran. */
  validationLoss: number;
  validationAccuracy: number;
  /** stepsPerEpoch × msPerStep (from the timed steps) + validationMs, in seconds. */
  projectedS: number;
  /** A whole shuffled epoch and its validation pass, run and timed end to end; absent when not run. */
  measuredS?: number;
  /** Why no whole epoch was run (its projection exceeded --epoch-budget). */
  notRun?: string;
}

/** How TensorFlow.js's wasm backend ran: the threads it was given and got, and why it has no threads if so. */
export interface WasmThreads {
  crossOriginIsolated: boolean;
  /** The count passed to setThreadsCount before the backend started. */
  requested: number;
  /** XNNPACK's thread pool size once started (getThreadsCount). */
  threads: number;
  binary: 'threaded-simd' | 'simd' | 'plain';
  /** Why the threaded build did not start; absent when it did. */
  whyNotThreaded?: string;
}

/** One peer × workload × batch, as measured in its page. */
export interface BenchResult {
  peer: PeerName;
  workload: Workload;
  batch: number;
  /** `ok`, or why there is no number: `unsupported` (the peer lacks an op), `pending` (ours, not wired), `error`. */
  status: 'ok' | 'unsupported' | 'pending' | 'error';
  reason?: string;
  /** Median over timed groups of (group wall time / steps in the group), each group ending in a device sync. */
  msPerStep?: number;
  /** Total timed wall time / timed steps. */
  meanMsPerStep?: number;
  samplesPerSec?: number;
  steps?: number;
  stepsPerGroup?: number;
  /** True when the budget cut the timed steps below `steps` asked for. */
  capped?: boolean;
  warmupMs?: number[];
  /** Loss before the first and after the last step: proof the peer really trained. */
  lossFirst?: number;
  lossLast?: number;
  /** Which code path was timed (tfjs: `minimize` loop or `model.fit`), and any side figures. */
  path?: string;
  notes?: string[];
  /** The machine's 1-minute load average when the measurement ended (set by the runner). */
  load1?: number;
  /** Seconds per epoch, projected and (when cheap enough) measured. */
  epoch?: EpochTime;
  /** tfjs-wasm only. */
  wasm?: WasmThreads;
  /** tfjs: the slower timings of the same round (the other path, the other thread count), each whole. */
  alternatives?: BenchResult[];
  /** Which round this was (0-based) and the peer's place in that round's rotated order. */
  round?: number;
  turn?: number;
}

/** A figure over the rounds that measured it: the median, and the least and most any round read. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many rounds measured it. */
  rounds: number;
}

/** One peer × workload × batch over every round: spreads of its figures, and every round kept. */
export interface PeerSummary {
  peer: PeerName;
  workload: Workload;
  batch: number;
  /** `ok` if any round measured; else the first round's status and reason. */
  status: BenchResult['status'];
  reason?: string;
  msPerStep?: Spread;
  samplesPerSec?: Spread;
  /** Projected seconds per epoch. */
  epochProjectedS?: Spread;
  /** Measured seconds per epoch, over the rounds that ran one. */
  epochMeasuredS?: Spread;
  /** True when the time budget cut any round's timed steps short. */
  capped: boolean;
  rounds: BenchResult[];
}

/**
 * What WGSL kernels reach on this adapter at best, to set our kernels against. On SwiftShader that is
 * what its JIT makes of fma() and of a copy on the CPU's cores, not the CPU's own SIMD peak.
 */
export interface RoofResult {
  adapter: string;
  /** How the headline figures were timed, e.g. "fma by timestamps, copy by wall clock". */
  timing: string;
  /** GFLOP/s of bench/roof.wgsl's fma_loop (independent vec4 fma() calls) on this adapter. */
  fmaKernelGflops: number;
  copyGBs: number;
  dispatchUs: number;
  details: string[];
}
