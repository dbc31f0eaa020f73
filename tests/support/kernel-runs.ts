/**
 * The kernel choices the whole-model tests (training, the gradient check through a CNN, bit-identical
 * reruns) run under: the adapter's own (auto), the shapes a discrete GPU gets, and rung 0 of every op.
 * On SwiftShader, where these tests run, auto is the CPU-adapter shapes, so `cpu` would repeat it.
 */
export const KERNEL_RUNS = ['auto', 'gpu', 'plain'] as const;
