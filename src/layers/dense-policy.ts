/**
 * Which kernel of dense's ladder runs each product of a layer, and how it is dispatched: pure functions of
 * the shapes and the target (src/gpu/target.ts), so tests check every choice in Node without a GPU.
 *
 *   x [rows × in]   W [out × in]   b [out]   y, dy [rows × out]   dx [rows × in]   dW [out × in]
 *
 * The policy takes the highest rung that applies to the shapes, suits the target's kind of adapter and is
 * within its ceiling for dense. docs/perf/dense.md has what each rung buys, measured.
 */
import type { Defines } from '../gpu/shaders.ts';
import { rungAllowed, type Rung, type Target } from '../gpu/target.ts';
import type { TensorFormat } from '../graph/tensor.ts';

export const DENSE_RUNGS: readonly Rung[] = Object.freeze([
  { op: 'dense', index: 0, name: 'textbook', file: 'dense', suits: 'any' },
  { op: 'dense', index: 1, name: 'workgroup tiles', file: 'dense_1_tiles', suits: 'any' },
  { op: 'dense', index: 2, name: 'register blocks', file: 'dense_2_blocks', suits: 'any' },
  { op: 'dense', index: 3, name: 'quad-shared loads', file: 'dense_3_quads', suits: 'any' },
  { op: 'dense', index: 4, name: 'wide CPU blocks', file: 'dense_4_wide', suits: 'cpu' },
] as const satisfies readonly Rung[]);

const TEXTBOOK = 0;
const TILES = 1;
const BLOCKS = 2;
const QUADS = 3;
const WIDE = 4;

export interface DenseShape {
  rows: number;
  inFeatures: number;
  outFeatures: number;
}

/** One product's kernel: its rung, entry point, defines (activation and LEN_* aside) and grid. */
export interface DensePlan {
  readonly rung: Rung;
  readonly shader: string;
  readonly entry: string;
  readonly defines: Defines;
  readonly workgroups: readonly [number, number, number];
  /** Slices of the summed dimension (1: whole); above 1, a reduce_splits dispatch of `reduce` adds them. */
  readonly splits: number;
  readonly reduce: { readonly entry: string; readonly workgroups: readonly [number, number] } | null;
}

/** Rungs 0 and 1 take x as f32 of any `in`; the register-blocked rungs load x, W and dx as vec4 along `in`. */
function blocksApply(inFeatures: number): boolean {
  return inFeatures % 4 === 0;
}

function suits(target: Target, index: number): boolean {
  const rung = DENSE_RUNGS[index]!;
  return rung.suits === 'any' || rung.suits === target.shape;
}

/** Quad-shared loads need subgroups (not under `plain`) and every quad of lanes laid out as the kernels plan (the probe). */
function quadsApply(target: Target): boolean {
  return target.subgroups && target.device.quadsAligned;
}

/**
 * The rung every product of a layer with `inFeatures` inputs takes at least, and whose kind decides what
 * the layer as a whole does: 0 (textbook) under `plain`, 1 (tiles) when `in` is no multiple of 4 or the
 * ceiling stops there, 2 (register blocks) otherwise. Quads and wide blocks refine it per product.
 */
function denseBaseRung(inFeatures: number, target: Target): number {
  if (!rungAllowed(target, 'dense', TILES)) return TEXTBOOK;
  return blocksApply(inFeatures) && rungAllowed(target, 'dense', BLOCKS) ? BLOCKS : TILES;
}

/** Whether the layer's forward applies the next layer's activation and its dx the input's f' (rung 1 does not). */
export function denseFusesActivations(inFeatures: number, target: Target): boolean {
  return denseBaseRung(inFeatures, target) !== TILES;
}

/** Whether the layer, first in a model, can read its input batch as bytes (the register-blocked rungs, 4 inputs a load). */
export function denseTakesBytes(inFeatures: number, target: Target): boolean {
  return denseBaseRung(inFeatures, target) >= BLOCKS;
}

/** The rung of a blocked product: quads where they apply, wide blocks where the tile is square and the target a CPU's. */
function blockedRung(target: Target, square: boolean): number {
  if (!quadsApply(target) || !rungAllowed(target, 'dense', QUADS)) return BLOCKS;
  return square && suits(target, WIDE) && rungAllowed(target, 'dense', WIDE) ? WIDE : QUADS;
}

/** A blocked product's workgroup tile and grid. */
interface Tiling {
  /** TILE_X: blocks across a workgroup's tile */
  across: number;
  /** INVOCATIONS: per workgroup, TILE_X across × INVOCATIONS / TILE_X down */
  invocations: number;
  workgroups: [number, number];
}

function shapeOf(columns: number, rows: number): { narrow: boolean; flat: boolean; square: boolean } {
  const narrow = columns <= 16;
  const flat = !narrow && rows <= 16;
  return { narrow, flat, square: !narrow && !flat };
}

/**
 * The workgroup tile of the blocked rungs (64 invocations × 8×8 outputs each) for a product of `columns` ×
 * `rows` outputs: TILE_X blocks across, 64 / TILE_X down; narrow for products at most 16 columns wide (a
 * 10-class layer's forward), flat for those at most 16 rows tall (its dW), square otherwise, so that a
 * 10-class layer does not compute 3 blocks past its last output for every one it needs. A narrow product at
 * most 64 rows tall takes 16 invocations (16×64 outputs), a flat one at most 64 columns wide likewise 64×16,
 * rather than leave most of one workgroup past the edge. Wide blocks (`wideBlock`, columns × rows) take
 * 8 invocations per WIDE_TILE × WIDE_TILE outputs, the same grid as the 8×8 blocks'.
 */
function tiling(columns: number, rows: number, wideBlock: readonly [columns: number, rows: number] | null): Tiling {
  if (wideBlock) {
    const across = WIDE_TILE / wideBlock[0];
    return { across, invocations: across * (WIDE_TILE / wideBlock[1]), workgroups: [Math.ceil(columns / WIDE_TILE), Math.ceil(rows / WIDE_TILE)] };
  }
  const { narrow, flat } = shapeOf(columns, rows);
  const across = narrow ? 2 : flat && columns > 64 ? 32 : 8;
  const invocations = (narrow && rows <= 64) || (flat && columns <= 64) ? 16 : 64;
  return { across, invocations, workgroups: [Math.ceil(columns / (across * 8)), Math.ceil(rows / ((invocations / across) * 8))] };
}

/**
 * Outputs across and down a wide workgroup. SwiftShader hands a dispatch's workgroups to its worker threads
 * round-robin and an edge workgroup costs as much as a full one, so tiles this size keep the shares even on
 * MNIST's shapes (docs/perf/dense.md, wide CPU blocks).
 */
const WIDE_TILE = 64;

/**
 * Slices of the summed dimension for a product of `outputs` values whose sums run over `terms`, with
 * `tile`'s grid. On a GPU one invocation per 8×8 block walking a whole sum leaves most of the device idle
 * when the blocks are few (a 10-class layer, dW's sum over the batch): slices are added until about
 * SPLIT_INVOCATIONS run, each at least MIN_SLICE terms long, and no more than the copies of the output fit
 * a storage binding. A CPU adapter splits only a product of one workgroup: it gives each core whole
 * workgroups, so the other cores would idle; its sum goes to one slice per core, each at least
 * MIN_CPU_SLICE terms long. Otherwise its few cores are busy anyway, and the copies would cost a pass.
 */
function splitsOf(target: Target, tile: Tiling, terms: number, outputs: number): number {
  const workgroups = tile.workgroups[0] * tile.workgroups[1];
  const fit = Math.floor(target.device.maxStorageBufferBindingSize / (outputs * 4));
  if (target.shape === 'cpu') {
    const cores = Math.max(2, target.device.cores);
    return workgroups > 1 ? 1 : Math.max(1, Math.min(cores, Math.floor(terms / MIN_CPU_SLICE), fit));
  }
  const invocations = workgroups * tile.invocations;
  return Math.max(1, Math.min(Math.round(SPLIT_INVOCATIONS / invocations), Math.floor(terms / MIN_SLICE), MAX_SPLITS, fit));
}

const SPLIT_INVOCATIONS = 32_768;
const MIN_SLICE = 64;
const MIN_CPU_SLICE = 256;
const MAX_SPLITS = 64;

/**
 * The bias gradient's workgroup: outputs × slices of the rows. A CPU adapter walks all rows in one
 * invocation per output, with no workgroup memory or barrier; a GPU splits them 16 ways, so that no
 * invocation walks a whole batch alone.
 */
function biasShape(target: Target): Defines {
  return target.shape === 'cpu' ? { BIAS_OUTS: 64, BIAS_SLICES: 1, BIAS_SLICED: false } : { BIAS_OUTS: 16, BIAS_SLICES: 16, BIAS_SLICED: true };
}

/** Invocations per workgroup of rung 0 (one per output) and its bias gradient. */
const TEXTBOOK_INVOCATIONS = 64;
/** Rung 1's tile: 32×32 outputs per workgroup (64 invocations × 4×4), the sum in steps of 16. */
const TILES_DEFINES = { TILE_M: 32, TILE_N: 32, TILE_K: 16 } as const;

type Product = 'forward' | 'backward_data' | 'backward_weights';

/**
 * The plan of one product: `columns` × `rows` outputs (forward: out × rows, dx: in × rows, dW: in × out),
 * sums over `terms`; `wideBlock` the wide rung's block for it; `splittable` whether its sums may be split
 * (forward and dW; dx's sum over `out` is short). `xFormat`: how x is stored (u8x4 needs a blocked rung).
 */
function productPlan(
  product: Product, s: DenseShape, target: Target,
  p: { columns: number; rows: number; terms: number; wideBlock: readonly [number, number]; splittable: boolean; xFormat: TensorFormat },
): DensePlan {
  const base = denseBaseRung(s.inFeatures, target);
  if (p.xFormat === 'u8x4' && base < BLOCKS) throw new Error(`dense: x as bytes needs a register-blocked rung (in a multiple of 4, ceiling ≥ ${BLOCKS}), not in ${s.inFeatures} at rung ${base}`);
  if (base === TEXTBOOK) {
    return plan(TEXTBOOK, product, {}, [...grid1d(p.columns * p.rows, TEXTBOOK_INVOCATIONS), 1], 1, null);
  }
  if (base === TILES) return plan(TILES, 'main', { ...TILES_DEFINES, ...tilesLayout(product) }, [Math.ceil(p.columns / TILES_DEFINES.TILE_N), Math.ceil(p.rows / TILES_DEFINES.TILE_M), 1], 1, null);
  const rung = blockedRung(target, shapeOf(p.columns, p.rows).square);
  const tile = tiling(p.columns, p.rows, rung === WIDE ? p.wideBlock : null);
  const splits = rung === WIDE || !p.splittable ? 1 : splitsOf(target, tile, p.terms, p.columns * p.rows);
  const defines: Defines = {
    TILE_X: tile.across, INVOCATIONS: tile.invocations, ...biasShape(target),
    X_BYTES: p.xFormat === 'u8x4', SPLITS: splits, FORWARD_SPLIT: product === 'forward' && splits > 1,
  };
  const entry = rung === WIDE ? `${product}_wide` : product;
  const reduce = splits > 1 ? { entry: 'reduce_splits', workgroups: grid1d(p.columns * p.rows, 256) } : null;
  return plan(rung, entry, defines, [tile.workgroups[0], tile.workgroups[1], splits], splits, reduce);
}

/** Rung 1's operand layouts: the three products are one matmul C = A·B with A or B read transposed. */
function tilesLayout(product: Product): Defines {
  return { A_TRANSPOSED: product === 'backward_weights', B_TRANSPOSED: product === 'forward' };
}

function plan(index: number, entry: string, defines: Defines, workgroups: readonly [number, number, number], splits: number, reduce: DensePlan['reduce']): DensePlan {
  const rung = DENSE_RUNGS[index]!;
  return { rung, shader: rung.file, entry, defines, workgroups, splits, reduce };
}


/** Workgroup counts that cover `count` invocations of `workgroupSize`, folded into y past 65,535 (as kernel.ts's grid1d). */
function grid1d(count: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / workgroupSize));
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

/** y[rows×out] = f(x · Wᵀ + b): out × rows outputs, sums over `in`. */
export function denseForwardPlan(s: DenseShape, target: Target, xFormat: TensorFormat = 'f32'): DensePlan {
  return productPlan('forward', s, target, { columns: s.outFeatures, rows: s.rows, terms: s.inFeatures, wideBlock: [16, 32], splittable: true, xFormat });
}

/** dx[rows×in] = (dy · W)·f'(x): in × rows outputs, sums over `out`, never split. */
export function denseBackwardDataPlan(s: DenseShape, target: Target): DensePlan {
  return productPlan('backward_data', s, target, { columns: s.inFeatures, rows: s.rows, terms: s.outFeatures, wideBlock: [16, 32], splittable: false, xFormat: 'f32' });
}

/** dW[out×in] = dyᵀ · x: in × out outputs, sums over the rows. */
export function denseBackwardWeightsPlan(s: DenseShape, target: Target, xFormat: TensorFormat = 'f32'): DensePlan {
  return productPlan('backward_weights', s, target, { columns: s.inFeatures, rows: s.outFeatures, terms: s.rows, wideBlock: [32, 16], splittable: true, xFormat });
}

/** db[out] = Σ_rows dy: rung 0's one invocation per output, or the blocked rungs' shaped reduction. */
export function denseBiasPlan(s: Pick<DenseShape, 'rows' | 'outFeatures'>, target: Target): DensePlan {
  if (!rungAllowed(target, 'dense', BLOCKS)) return plan(TEXTBOOK, 'bias_grad', {}, [...grid1d(s.outFeatures, TEXTBOOK_INVOCATIONS), 1], 1, null);
  const bias = biasShape(target);
  const defines: Defines = { TILE_X: 8, INVOCATIONS: 64, ...bias, X_BYTES: false, SPLITS: 1, FORWARD_SPLIT: false };
  return plan(BLOCKS, 'bias_grad', defines, [Math.ceil(s.outFeatures / (bias.BIAS_OUTS as number)), 1, 1], 1, null);
}
