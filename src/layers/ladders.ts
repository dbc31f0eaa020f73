/** Every op family's ladder of kernels, rung 0 first: what the kernel view lists and the ceilings cap. */
import type { OpFamily, Rung } from '../gpu/target.ts';
import { DENSE_RUNGS } from './dense-policy.ts';

/** conv2d's kernels today, one file (src/layers/conv2d-policy.ts's CONV2D_RUNGS replaces this). */
const CONV2D_TODAY: readonly Rung[] = Object.freeze([{ op: 'conv2d', index: 0, name: 'register blocks', file: 'conv2d', suits: 'any' }]);

export const LADDERS: Readonly<Record<OpFamily, readonly Rung[]>> = Object.freeze({ dense: DENSE_RUNGS, conv2d: CONV2D_TODAY });
