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
  /** With `--rounds N`: every round's ms/step in the order run (NaN where a round failed); the rest is the median round's. */
  roundsMs?: number[];
}

/** Roof of the device as our WebGPU sees it. */
export interface RoofResult {
  adapter: string;
  /** How the headline figures were timed, e.g. "fma by timestamps, copy by wall clock". */
  timing: string;
  fmaGflops: number;
  copyGBs: number;
  dispatchUs: number;
  details: string[];
}
