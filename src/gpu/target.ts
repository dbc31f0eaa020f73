/**
 * What the kernel policies know of the device: facts measured once when it is created, and which kernels
 * the run asked for. Immutable, and free of WebGPU objects, so each op's policy (shapes, target) → rung,
 * entry point, defines and dispatch size is a pure function that tests run in Node without a GPU.
 */

/** The kernels a run asks for (`--kernels`, the demo's `?kernels=`). */
export type KernelChoice = 'auto' | 'plain' | 'gpu' | 'cpu';

export const KERNEL_CHOICES: readonly KernelChoice[] = ['auto', 'plain', 'gpu', 'cpu'];

/** What each choice means, for `--help` and the demo. */
export const KERNEL_CHOICE_HELP: Readonly<Record<KernelChoice, string>> = {
  auto: 'the kernels this adapter gets by default',
  plain: 'rung 0 (the textbook kernel) of every op',
  gpu: 'the shapes a discrete GPU gets',
  cpu: "a fallback (CPU) adapter's shapes",
};

/** The device as measured in Gpu.create. */
export interface DeviceFacts {
  /** A software adapter (WebGPU's isFallbackAdapter): SwiftShader runs invocations as the SIMD lanes of a few cores. */
  readonly fallback: boolean;
  /** The device has the `subgroups` feature. */
  readonly subgroups: boolean;
  /**
   * In workgroups of 8, 16 and 64 invocations, every quad of subgroup lanes is local invocations 4m … 4m+3 in
   * order (shaders/quad_probe.wgsl); false without subgroups. WGSL does not promise it, so it is asked once.
   */
  readonly quadsAligned: boolean;
  /** Logical cores of the machine (navigator.hardwareConcurrency), which a fallback adapter's threads run on. */
  readonly cores: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupsPerDimension: number;
}

/** Op families whose kernels form a ladder of rungs (rung 0: the textbook kernel). */
export type OpFamily = 'dense' | 'conv2d';

export const OP_FAMILIES: readonly OpFamily[] = ['dense', 'conv2d'];

/** One rung of an op's ladder, as the kernel view and the docs list it. */
export interface Rung {
  readonly op: OpFamily;
  /** 0 for the textbook kernel; each later rung adds one trick. */
  readonly index: number;
  /** A few words: `register blocks`, `quad-shared loads` … */
  readonly name: string;
  /** Its shader, `shaders/<file>.wgsl`. */
  readonly file: string;
  /** Which adapters the policy gives it to when it may choose. */
  readonly suits: 'any' | 'gpu' | 'cpu';
}

/** The one input of every kernel policy. */
export interface Target {
  readonly choice: KernelChoice;
  readonly device: DeviceFacts;
  /** The shapes kernels take: a CPU adapter's (few cores, a cost per workgroup and per barrier) or a GPU's (thousands of threads). */
  readonly shape: 'cpu' | 'gpu';
  /** Subgroup rungs may run: the device has the feature and the choice is not `plain`. */
  readonly subgroups: boolean;
  /** The highest rung each op family may take: 0 everywhere for `plain`, else what `rungCeiling` asked (none: no ceiling). */
  readonly rungCeiling: Readonly<Partial<Record<OpFamily, number>>>;
}

/**
 * The target for `choice` on a device with `facts`. `rungCeiling` caps op families below their best rung
 * (the kernel view's ladder control), on top of the choice.
 */
export function makeTarget(facts: DeviceFacts, choice: KernelChoice = 'auto', rungCeiling: Partial<Record<OpFamily, number>> = {}): Target {
  if (!KERNEL_CHOICES.includes(choice)) throw new Error(`kernels ${String(choice)} is not allowed: one of ${KERNEL_CHOICES.join(', ')}`);
  for (const [op, rung] of Object.entries(rungCeiling)) {
    if (!OP_FAMILIES.includes(op as OpFamily)) throw new Error(`rung ceiling for ${op}: no such op family (${OP_FAMILIES.join(', ')})`);
    if (!Number.isInteger(rung) || rung < 0) throw new Error(`rung ceiling for ${op} is ${rung}: a whole number ≥ 0`);
  }
  const plain = choice === 'plain';
  const ceiling = plain ? Object.fromEntries(OP_FAMILIES.map((op) => [op, 0])) : { ...rungCeiling };
  const shape = choice === 'gpu' ? 'gpu' : choice === 'cpu' ? 'cpu' : facts.fallback ? 'cpu' : 'gpu';
  return Object.freeze({
    choice,
    device: Object.freeze({ ...facts }),
    shape,
    subgroups: facts.subgroups && !plain,
    rungCeiling: Object.freeze(ceiling),
  });
}

/** Whether `op` may take rung `index` under `target`'s ceiling. */
export function rungAllowed(target: Target, op: OpFamily, index: number): boolean {
  return index <= (target.rungCeiling[op] ?? Number.POSITIVE_INFINITY);
}
