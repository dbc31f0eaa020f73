/** Times matmul variants of y = x·Wᵀ at MNIST sizes with timestamp queries: which formulation suits this adapter. */
import { Gpu } from '../src/gpu/gpu.ts';
import { GpuTimer } from '../src/gpu/timer.ts';
import { denseForward } from '../src/layers/dense.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';

function regKernel(BM: number, BN: number, wx: number, wy: number, scalar = false): string {
  const lines: string[] = [];
  for (let r = 0; r < BM; r++) lines.push(`let rr${r} = min(row0 + ${r}u, dims.M - 1u) * K4;`);
  for (let c = 0; c < BN; c++) lines.push(`let cc${c} = min(col0 + ${c}u, dims.N - 1u) * K4;`);
  for (let r = 0; r < BM; r++) for (let g = 0; g < BN / 4; g++) lines.push(`var acc${r}_${g} = vec4f(0.0);`);
  const body: string[] = [];
  const ld = (buf: string, base: string) => (scalar ? `vec4f(${buf}[(${base} + k) * 4u], ${buf}[(${base} + k) * 4u + 1u], ${buf}[(${base} + k) * 4u + 2u], ${buf}[(${base} + k) * 4u + 3u])` : `${buf}[${base} + k]`);
  for (let r = 0; r < BM; r++) body.push(`let a${r} = ${ld('x', `rr${r}`)};`);
  for (let c = 0; c < BN; c++) body.push(`let w${c} = ${ld('w', `cc${c}`)};`);
  for (let r = 0; r < BM; r++) for (let g = 0; g < BN / 4; g++) body.push(`acc${r}_${g} += vec4f(dot(a${r}, w${4 * g}), dot(a${r}, w${4 * g + 1}), dot(a${r}, w${4 * g + 2}), dot(a${r}, w${4 * g + 3}));`);
  const store: string[] = [];
  for (let r = 0; r < BM; r++) for (let g = 0; g < BN / 4; g++) store.push(`store(row0 + ${r}u, col0 + ${4 * g}u, acc${r}_${g});`);
  return `
struct Dims { M: u32, N: u32, K: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<${scalar ? 'f32' : 'vec4f'}>;
@group(0) @binding(2) var<storage, read> w: array<${scalar ? 'f32' : 'vec4f'}>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
fn store(row: u32, col: u32, v: vec4f) {
  if (row >= dims.M) { return; }
  for (var j = 0u; j < 4u; j++) { if (col + j < dims.N) { y[row * dims.N + col + j] = v[j]; } }
}
@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let K4 = dims.K / 4u;
  let col0 = id.x * ${BN}u;
  let row0 = id.y * ${BM}u;
  if (row0 >= dims.M || col0 >= dims.N) { return; }
  ${lines.join('\n  ')}
  for (var k = 0u; k < K4; k++) {
    ${body.join('\n    ')}
  }
  ${store.join('\n  ')}
}`;
}

export async function runLadder([M, N, K]: [number, number, number]): Promise<Record<string, number>> {
  const gpu = await Gpu.create();
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const x = gpu.buffers.create('x', M * K * 4, usage);
  const w = gpu.buffers.create('w', N * K * 4, usage);
  const y = gpu.buffers.create('y', M * N * 4, usage | GPUBufferUsage.COPY_SRC);
  const dims = gpu.buffers.create('dims', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  gpu.device.queue.writeBuffer(dims, 0, new Uint32Array([M, N, K, 0]));
  const variants: Record<string, Dispatch> = {
    tiled: denseForward(gpu.withTarget('auto', { dense: 1 }), { rows: M, inFeatures: K, outFeatures: N, x, weight: w, bias: gpu.buffers.create('b', N * 4, usage), y })[0]!,
  };
  for (const [BM, BN, wx, wy, sc] of [[4, 4, 8, 8, 0], [8, 8, 8, 8, 0], [4, 4, 8, 8, 1], [8, 8, 8, 8, 1], [8, 8, 4, 4, 0], [8, 8, 16, 4, 0]]) {
    const code = regKernel(BM!, BN!, wx!, wy!, sc === 1);
    const module = gpu.device.createShaderModule({ code });
    const pipeline = gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bindGroup = gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [dims, x, w, y].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    variants[`reg${BM}x${BN}${sc ? 's' : ''} wg${wx}x${wy}`] = { label: 'r', entry: 'main', shader: 'bench/ladder.ts (inline WGSL)', defines: {}, rung: null, pipeline, bindGroup, workgroups: [Math.ceil(N / BN! / wx!), Math.ceil(M / BM! / wy!), 1], flops: 0 };
  }
  const out: Record<string, number> = {};
  for (const [name, d] of Object.entries(variants)) {
    const timer = new GpuTimer(gpu, 9);
    const encoder = gpu.device.createCommandEncoder();
    timer.encodeTimed(encoder, [d]);
    timer.encodeTimed(encoder, Array.from({ length: 8 }, (_, i) => ({ ...d, label: `run${i}` })));
    gpu.device.queue.submit([encoder.finish()]);
    const t = await timer.read();
    const best = Math.min(...Array.from({ length: 8 }, (_, i) => t[`run${i}`]!.totalMs));
    out[name] = (2 * M * N * K) / (best * 1e6);
    timer.destroy();
  }
  gpu.destroy();
  return out;
}
