/** Every op family's ladder of kernels, rung 0 first: what the kernel view lists and the ceilings cap. */
import type { OpFamily, Rung } from '../gpu/target.ts';
import { CONV2D_RUNGS } from './conv2d-policy.ts';
import { DENSE_RUNGS } from './dense-policy.ts';

export const LADDERS: Readonly<Record<OpFamily, readonly Rung[]>> = Object.freeze({ dense: DENSE_RUNGS, conv2d: CONV2D_RUNGS });
