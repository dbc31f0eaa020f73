import type { BufferPool } from './buffers.ts';
import { expandIncludes, specialise, type Defines } from './shaders.ts';
import type { Rung } from './target.ts';

/**
 * What kernel() and uniform() need of a device (src/gpu/gpu.ts's Gpu is one): declared here so that this
 * file does not import gpu.ts, which runs its quad probe through kernel().
 */
export interface KernelDevice {
  readonly device: GPUDevice;
  readonly buffers: BufferPool;
  /** The compute pipeline for `shaders/<shader>.wgsl` specialised by `defines`, created once. */
  pipeline(shader: string, entryPoint: string, defines: Defines): GPUComputePipeline;
}

/** One recorded compute dispatch: what a plan replays every step. */
export interface Dispatch {
  /** `shader.entry`, the name the kernel view and GPU timers show. */
  readonly label: string;
  /** The entry point that runs, where a label names several variants (dense's `forward` and `forward_wide`). */
  readonly entry: string;
  /** The shader file (`shaders/<shader>.wgsl`) and every define it was built with, LEN_* included: `specialise(shader, defines)` is the WGSL that compiled. */
  readonly shader: string;
  readonly defines: Readonly<Defines>;
  /** The rung of its op's ladder this kernel is; null for kernels without a ladder. */
  readonly rung: Rung | null;
  /** Made on first use (see kernel()). */
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
  /** Useful floating-point operations of one dispatch (a multiply-add counts 2), for GFLOP/s figures. */
  readonly flops: number;
}

/** A buffer, or a range of one (a tensor inside an arena). */
export type Binding = GPUBuffer | GPUBufferBinding;

export interface KernelSpec {
  shader: string;
  entry?: string;
  defines?: Defines;
  /** Resources by the variable names the WGSL declares (`@binding(1) var<storage> weight`). */
  bind: Record<string, Binding>;
  workgroups: readonly [number, number?, number?];
  /** Shown in timings and the kernel view instead of `shader.entry` (e.g. `dense.backward_weights`). */
  label?: string;
  flops?: number;
  /** The rung of its op's ladder (src/layers/ladders.ts), for kernels that have one. */
  rung?: Rung;
}

const bindingIndexCache = new Map<string, Map<string, number>>();

/** Binding indices of group 0 by variable name, read from the specialised WGSL. */
function bindingIndices(shader: string, defines: Defines): Map<string, number> {
  const key = `${shader}|${JSON.stringify(defines)}`;
  let indices = bindingIndexCache.get(key);
  if (!indices) {
    indices = new Map();
    const declaration = /@group\(0\)\s*@binding\((\d+)\)\s*var(?:<[^>]*>)?\s+(\w+)/g;
    for (const match of specialise(shader, defines).matchAll(declaration)) indices.set(match[2]!, Number(match[1]));
    bindingIndexCache.set(key, indices);
  }
  return indices;
}

/** The arrays of each shader that take a LEN_ define, read from its text (its includes pasted) once. */
const lengthNameCache = new Map<string, string[]>();

/**
 * Fixed array lengths: a shader may declare a storage array as `array<f32, ${LEN_name}>` (`name` the
 * variable), and kernel() defines LEN_name as the number of 4-byte words bound to it (1 where this
 * dispatch binds nothing there; a vec4 array divides by 4). WebGPU bounds-checks every access, and for a
 * run-time-sized array SwiftShader works out arrayLength at each access as (binding size − offset) /
 * stride, an integer division per lane; against a constant it is a clamp (docs/DEVELOPING.md, Performance
 * notes). A layer binds the buffers it was allocated for the batch size, so every plan of a model, a
 * smaller last batch included, shares its pipelines.
 */
function lengthDefines(shader: string, bind: Record<string, Binding>): Defines {
  let names = lengthNameCache.get(shader);
  if (!names) {
    names = [...new Set(Array.from(expandIncludes(shader).matchAll(/\$\{LEN_(\w+)\}/g), (match) => match[1]!))];
    lengthNameCache.set(shader, names);
  }
  const defines: Defines = {};
  for (const name of names) {
    const bound = bind[name];
    const bytes = bound === undefined ? 4 : 'buffer' in bound ? (bound.size ?? bound.buffer.size - (bound.offset ?? 0)) : bound.size;
    defines[`LEN_${name}`] = Math.floor(bytes / 4);
  }
  return defines;
}

/**
 * Builds a dispatch for a plan to replay. Its pipeline and bind group are made when it is first encoded,
 * not here: recording a plan then compiles nothing, and whoever records one can first make all of its
 * pipelines at once and in parallel (Gpu.compile), or only those of the plan it runs first.
 */
export function kernel(gpu: KernelDevice, spec: KernelSpec): Dispatch {
  const entry = spec.entry ?? 'main';
  const defines = { ...lengthDefines(spec.shader, spec.bind), ...spec.defines };
  const indices = bindingIndices(spec.shader, defines);
  const entries: GPUBindGroupEntry[] = Object.entries(spec.bind).map(([name, resource]) => {
    const binding = indices.get(name);
    if (binding === undefined) throw new Error(`shaders/${spec.shader}.wgsl declares no binding named ${name}`);
    return { binding, resource: 'buffer' in resource ? resource : { buffer: resource } };
  });
  const label = spec.label ?? `${spec.shader}.${entry}`;
  // The bind group follows the pipeline's own layout ('auto'), so both are made together.
  let made: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup } | null = null;
  const make = () => {
    if (!made) {
      const pipeline = gpu.pipeline(spec.shader, entry, defines);
      made = { pipeline, bindGroup: gpu.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries }) };
    }
    return made;
  };
  const [x, y = 1, z = 1] = spec.workgroups;
  return {
    label, entry, shader: spec.shader, defines, rung: spec.rung ?? null, workgroups: [x, y, z], flops: spec.flops ?? 0,
    get pipeline() {
      return make().pipeline;
    },
    get bindGroup() {
      return make().bindGroup;
    },
  };
}

export function encode(pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
}

/** Elements each invocation of a grid-stride loop handles at least (until the grid reaches 256 workgroups). */
const ELEMENTS_PER_INVOCATION = 16;

/**
 * Workgroups for an elementwise kernel with a grid-stride loop (`for (i = id.x; i < count; i += groups.x·WG)`):
 * up to 256, enough to fill any GPU, and few enough that each invocation handles many elements, because a
 * CPU adapter (SwiftShader) pays a fixed cost per workgroup and per invocation (docs/perf/swiftshader.md).
 */
export function strideGrid(count: number, workgroupSize: number): [number] {
  return [Math.max(1, Math.min(256, Math.ceil(count / (workgroupSize * ELEMENTS_PER_INVOCATION))))];
}

/** Workgroup counts that cover `count` invocations of `workgroupSize`, folded into y past the 65,535 limit. */
export function grid1d(count: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / workgroupSize));
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

/** A uniform buffer packed from `[type, value]` fields in declaration order (all 4-byte scalars). */
export function uniform(gpu: KernelDevice, label: string, fields: ReadonlyArray<readonly ['u32' | 'f32' | 'i32', number]>): GPUBuffer {
  const data = packFields(fields);
  const buffer = gpu.buffers.create(label, Math.max(16, data.byteLength), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  gpu.device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

export function packFields(fields: ReadonlyArray<readonly ['u32' | 'f32' | 'i32', number]>): ArrayBuffer {
  const data = new ArrayBuffer(Math.ceil(fields.length / 4) * 16);
  const view = new DataView(data);
  fields.forEach(([type, value], i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else view.setUint32(i * 4, value, true);
  });
  return data;
}
