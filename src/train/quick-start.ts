/**
 * Quick start: where compiling is slow (a CPU adapter, whose fast rungs are large unrolled code), a run's
 * first optimizer steps train on rung 0 of every op (the textbook kernels, which compile in milliseconds)
 * while the target's own kernels compile in the background; from optimizer step `switchStep` + 1 on, the
 * target's kernels train the same weights. The step is a pure function of the two plans, never of when
 * compiling ends, so a rerun with the same seed switches at the same step and is bit-identical: if the
 * fast pipelines are late, the run waits for them there. docs/perf/cold-start.md has the measurements.
 */
import type { Rung, Target } from '../gpu/target.ts';

/**
 * Compile milliseconds per pipeline assumed for each op's rung on a CPU adapter (the wide CPU blocks
 * unroll most). Only their ratio to QUICK_FLOPS_PER_MS matters, and only to pick the switch step.
 */
const COMPILE_MS: Readonly<Record<string, readonly number[]>> = { dense: [30, 100, 700, 400, 3000], conv2d: [40, 60, 400, 400] };
/** Kernels without a ladder (gather, loss, optimizer …) are small. */
const OTHER_COMPILE_MS = 50;
/** Useful FLOPs per millisecond of a rung-0 step on a CPU adapter. */
const QUICK_FLOPS_PER_MS = 70_000;
/** Never more quick steps than this: rung 0 is several times slower than the fast rungs. */
const MAX_QUICK_STEPS = 50;

/** What the policy reads of a recorded dispatch. */
export interface PlannedKernel {
  readonly rung: Rung | null;
  readonly flops: number;
  readonly shader: string;
  readonly entry: string;
  readonly defines: unknown;
}

/** Whether a run on `target` starts on rung 0: where its own kernels are not rung 0 already and take a CPU adapter's shapes. */
export function quickStartApplies(target: Target): boolean {
  return target.choice !== 'plain' && target.shape === 'cpu';
}

/**
 * The last optimizer step that trains on rung 0: about as many rung-0 steps (`quick`, one step's
 * dispatches) as it takes to compile the distinct pipelines of `fast` on `cores` threads, at least 1 and
 * at most MAX_QUICK_STEPS; 0 when no kernel of `fast` is above rung 0 (nothing to wait for).
 */
export function switchStep(fast: readonly PlannedKernel[], quick: readonly PlannedKernel[], cores: number): number {
  const distinct = new Map<string, PlannedKernel>();
  for (const d of fast) distinct.set(`${d.shader}|${d.entry}|${JSON.stringify(d.defines)}`, d);
  if (![...distinct.values()].some((d) => d.rung && d.rung.index > 0)) return 0;
  let compileMs = 0;
  for (const d of distinct.values()) compileMs += d.rung ? (COMPILE_MS[d.rung.op]?.[d.rung.index] ?? OTHER_COMPILE_MS) : OTHER_COMPILE_MS;
  const quickStepMs = Math.max(1, quick.reduce((sum, d) => sum + d.flops, 0) / QUICK_FLOPS_PER_MS);
  return Math.min(MAX_QUICK_STEPS, Math.max(1, Math.ceil(compileMs / Math.max(1, cores) / quickStepMs)));
}
