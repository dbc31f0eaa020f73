import { check } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { kernel, strideGrid, uniform, type Binding, type Dispatch } from '../gpu/kernel.ts';

/** torch.optim.Adam (L2 weight decay, not AdamW) or torch.optim.SGD (no dampening, no Nesterov). */
export interface OptimizerSpec {
  kind: 'adam' | 'sgd';
  beta1?: number;
  beta2?: number;
  eps?: number;
  momentum?: number;
  weightDecay?: number;
}

/** PyTorch's defaults. */
export const OPTIMIZER_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, momentum: 0, weightDecay: 0 } as const;

const WORKGROUP = 256;

/** Moment arenas (each the size of the parameter arena, zeroed before step 1): Adam m and v, SGD's velocity when momentum ≠ 0. */
export function momentBuffers(spec: OptimizerSpec): number {
  if (spec.kind === 'adam') return 2;
  return (spec.momentum ?? 0) !== 0 ? 1 : 0;
}

/** The spec with PyTorch's defaults filled in, checked against PyTorch's ranges (ConfigError otherwise). */
function resolve(spec: OptimizerSpec) {
  const d = OPTIMIZER_DEFAULTS;
  const s = {
    beta1: spec.beta1 ?? d.beta1, beta2: spec.beta2 ?? d.beta2, eps: spec.eps ?? d.eps,
    momentum: spec.momentum ?? d.momentum, weightDecay: spec.weightDecay ?? d.weightDecay,
  };
  check(spec.kind === 'adam' || spec.kind === 'sgd', 'optimizer', spec.kind, 'adam or sgd');
  check(s.beta1 >= 0 && s.beta1 < 1, 'beta1', s.beta1, 'a number in [0, 1)');
  check(s.beta2 >= 0 && s.beta2 < 1, 'beta2', s.beta2, 'a number in [0, 1)');
  check(s.eps >= 0 && Number.isFinite(s.eps), 'eps', s.eps, 'a finite number ≥ 0');
  check(s.momentum >= 0 && Number.isFinite(s.momentum), 'momentum', s.momentum, 'a finite number ≥ 0');
  check(s.weightDecay >= 0 && Number.isFinite(s.weightDecay), 'weightDecay', s.weightDecay, 'a finite number ≥ 0');
  return s;
}

/** ln β for the shader's bias correction; β = 0 would be −∞, and e^(−88·t) is already 0 in f32. */
function logBeta(beta: number): number {
  return Math.max(Math.log(beta), -88);
}

/**
 * One optimizer step over a whole flat parameter arena: params -= update(grads), moments updated in
 * place. lr and t (1-based) are read from the Step uniform at run time. `moments` holds
 * momentBuffers(spec) arenas: [m, v] for Adam, [velocity] for SGD with momentum, [] without.
 */
export function optimizerStep(
  gpu: Gpu,
  a: { spec: OptimizerSpec; params: Binding; grads: Binding; moments: Binding[]; count: number; step: GPUBuffer },
): Dispatch {
  const s = resolve(a.spec);
  const needed = momentBuffers(a.spec);
  if (a.moments.length !== needed) throw new Error(`${a.spec.kind} needs ${needed} moment buffers, got ${a.moments.length}`);
  const hyper = uniform(gpu, 'optimizer.hyper', [
    ['u32', a.count], ['f32', s.beta1], ['f32', s.beta2], ['f32', 1 - s.beta1], ['f32', 1 - s.beta2],
    ['f32', logBeta(s.beta1)], ['f32', logBeta(s.beta2)], ['f32', s.eps], ['f32', s.momentum], ['f32', s.weightDecay],
  ]);
  const bind: Record<string, Binding> = { hyper, step: a.step, params: a.params, grads: a.grads };
  if (a.spec.kind === 'adam') Object.assign(bind, { m: a.moments[0]!, v: a.moments[1]! });
  else if (needed === 1) bind.velocity = a.moments[0]!;
  return kernel(gpu, {
    shader: 'optimizer',
    entry: a.spec.kind,
    defines: { MOMENTUM: a.spec.kind === 'sgd' && needed === 1 },
    bind,
    workgroups: strideGrid(a.count, WORKGROUP),
  });
}
