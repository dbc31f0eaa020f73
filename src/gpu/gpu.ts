import { DeviceError } from '../errors.ts';
import { BufferPool } from './buffers.ts';
import { encode, kernel } from './kernel.ts';
import { specialise, type Defines } from './shaders.ts';

/** Chromium's feature for timestamps between the dispatches of a pass (Gpu.hasTimestampsInPasses). */
const TIMESTAMPS_IN_PASSES = 'chromium-experimental-timestamp-query-inside-passes' as GPUFeatureName;

/** Staging buffers up to this size are kept for the next read of the same size (see Gpu.read). */
const READBACK_KEEP_BYTES = 64 * 1024;

export interface AdapterFacts {
  vendor: string;
  architecture: string;
  description: string;
  /** A software adapter (WebGPU's isFallbackAdapter): SwiftShader, running invocations as CPU SIMD lanes. */
  fallback: boolean;
}

/**
 * The device, its limits, and caches keyed by what makes a pipeline unique. One `Gpu` owns every
 * buffer and pipeline of a run; `destroy()` releases them all.
 */
export class Gpu {
  readonly buffers: BufferPool;
  /** Resolves with the reason once the device is lost (destroyed, driver reset, out of memory). */
  readonly lost: Promise<string>;
  /** Set as soon as the device is lost; checked by the trainer between submissions. */
  lostReason: string | null = null;
  /** Uncaptured validation / out-of-memory errors, kept so a run can stop and report them. */
  readonly errors: string[] = [];
  readonly hasTimestamps: boolean;
  /**
   * Timestamps may also be written between the dispatches of one pass (Chromium's
   * `chromium-experimental-timestamp-query-inside-passes`, where `create` was asked for it and the adapter
   * offers it): GpuTimer then times a whole step in one pass, without the cost of a pass per kernel.
   */
  readonly hasTimestampsInPasses: boolean;
  /** The device has the `subgroups` feature (requested whenever the adapter offers it). */
  readonly hasSubgroups: boolean;
  /**
   * Whether kernels that have a subgroup variant use it (SUBGROUPS in shaders/dense.wgsl, conv2d.wgsl): hasSubgroups,
   * unless turned off to run the plain kernels (tests check both).
   */
  useSubgroups: boolean;
  /**
   * Whether, in workgroups of 8, 16 and 64 invocations, every quad of subgroup lanes (4q … 4q+3) is complete
   * and is local invocations 4m … 4m+3 in order, as shaders/dense.wgsl's kernels that swap operands within
   * quads need (they are built only then, the plain ones otherwise). WGSL does not promise it, so `create`
   * asks the device once (shaders/quad_probe.wgsl); false without subgroups.
   */
  quadsAligned = false;
  /**
   * Whether kernels take the shapes that suit a CPU adapter (a fallback adapter: SwiftShader runs
   * invocations as the SIMD lanes of a few cores) rather than a GPU's thousands of threads:
   * - dense's forward, dx and dW take 32×16 outputs per invocation wherever the tile is square
   *   (shaders/dense.wgsl, Wide): a spilled accumulator costs a CPU less than the loads it saves; a GPU keeps 8×8,
   *   and splits the sums of products with few outputs into slices (SPLITS), which a CPU does only for a
   *   product of one workgroup (one slice per core);
   * - reductions over the batch (dense's bias gradient, the loss, conv2d's splits of the batch and the
   *   sums of their pieces) use few invocations, each walking many rows: a CPU pays for every barrier
   *   in every SIMD group, a GPU wants many short walks.
   * = adapter.fallback; tests flip it to check both shapes.
   */
  cpuTuned: boolean;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterFacts,
  ) {
    this.buffers = new BufferPool(device);
    this.hasTimestamps = device.features.has('timestamp-query');
    this.hasTimestampsInPasses = this.hasTimestamps && device.features.has(TIMESTAMPS_IN_PASSES);
    this.hasSubgroups = device.features.has('subgroups');
    this.useSubgroups = this.hasSubgroups;
    this.cpuTuned = adapter.fallback;
    this.lost = device.lost.then((info) => {
      this.lostReason = `${info.reason === 'destroyed' ? 'device destroyed' : 'device lost'}: ${info.message || info.reason}`;
      return this.lostReason;
    });
    device.addEventListener('uncapturederror', (event) => {
      const message = (event as GPUUncapturedErrorEvent).error.message;
      this.errors.push(message);
      console.error(`WebGPU error: ${message}`);
    });
  }

  /**
   * Requests the adapter and a device with the adapter's full buffer limits. `timestampsInPasses` asks for
   * timestamps inside passes too, for a device that profiles: a device that trains does without, since the
   * MLP's step at batch 64 measured slower with the feature on (median of 5 alternating runs on SwiftShader
   * 15.8 ms against 14.3; the fastest 12.5 against 10.1).
   */
  static async create(options: { powerPreference?: GPUPowerPreference; timestampsInPasses?: boolean } = {}): Promise<Gpu> {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) {
      throw new DeviceError(
        'WebGPU is not available here (navigator.gpu is missing): use Chrome/Edge 113+ or Chromium with ' +
          '--enable-unsafe-webgpu, on a page served from https:// or http://localhost',
      );
    }
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
    if (!adapter) {
      throw new DeviceError(
        'WebGPU found no adapter: enable hardware acceleration, or start Chromium with ' +
          '--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader for the CPU adapter',
      );
    }
    // The cast: tfjs-core's older @webgpu/types (0.1.38, referenced by tfjs's typings) wins the global
    // GPUFeatureName and predates 'subgroups'.
    const wanted: GPUFeatureName[] = ['timestamp-query', 'subgroups' as GPUFeatureName, ...(options.timestampsInPasses ? [TIMESTAMPS_IN_PASSES] : [])];
    const device = await adapter.requestDevice({
      requiredFeatures: wanted.filter((f) => adapter.features.has(f)),
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    const info = adapter.info;
    const created = new Gpu(device, {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      // Chrome ≥ 125 has it in GPUAdapterInfo; older browsers only on the adapter (since deprecated).
      fallback: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    });
    created.quadsAligned = created.hasSubgroups && (await probeQuads(created));
    return created;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** The compute pipeline for `shaders/<shader>.wgsl` specialised by `defines`, created once. */
  pipeline(shader: string, entryPoint: string, defines: Defines = {}): GPUComputePipeline {
    const moduleKey = `${shader}|${JSON.stringify(defines)}`;
    const key = `${moduleKey}|${entryPoint}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      let module = this.modules.get(moduleKey);
      if (!module) {
        module = this.device.createShaderModule({ label: shader, code: specialise(shader, defines) });
        this.modules.set(moduleKey, module);
      }
      pipeline = this.device.createComputePipeline({
        label: `${shader}.${entryPoint}`,
        layout: 'auto',
        compute: { module, entryPoint },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Throws a DeviceError when the device is gone, so callers stop before encoding more work. */
  assertAlive(): void {
    if (this.lostReason) throw new DeviceError(this.lostReason);
  }

  /**
   * Idle MAP_READ staging buffers of up to READBACK_KEEP_BYTES, by size: the small reads that repeat
   * (loss/accuracy totals every epoch or every --log-every steps) reuse them instead of allocating.
   */
  private readonly idleStaging = new Map<number, GPUBuffer[]>();

  /** Copies `bytes` from a GPU buffer to the CPU through a staging buffer. */
  async read(source: GPUBuffer, bytes = source.size, offset = 0): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const reuse = size <= READBACK_KEEP_BYTES;
    const staging = (reuse ? this.idleStaging.get(size)?.pop() : undefined)
      ?? this.device.createBuffer({ label: 'readback', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(source, offset, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (error) {
      staging.destroy();
      throw new DeviceError(this.lostReason ?? `reading back ${source.label}: ${(error as Error).message}`);
    }
    const copy = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    if (!reuse) staging.destroy();
    else if (this.idleStaging.has(size)) this.idleStaging.get(size)!.push(staging);
    else this.idleStaging.set(size, [staging]);
    return copy;
  }

  destroy(): void {
    for (const idle of this.idleStaging.values()) for (const staging of idle) staging.destroy();
    this.idleStaging.clear();
    this.buffers.destroyAll();
    this.pipelines.clear();
    this.modules.clear();
    this.device.destroy();
  }
}

/**
 * Runs shaders/quad_probe.wgsl in a few workgroups of each of `sizes` invocations (by default those of dense's
 * quad kernels): true if every quad is aligned (Gpu.quadsAligned).
 */
export async function probeQuads(gpu: Gpu, sizes: readonly number[] = [8, 16, 64]): Promise<boolean> {
  const workgroups = 4;
  const aligned = sizes.map((n) => gpu.buffers.create('quad_probe.aligned', workgroups * n * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC));
  const encoder = gpu.device.createCommandEncoder({ label: 'quad_probe' });
  const pass = encoder.beginComputePass();
  encode(pass, sizes.map((n, i) => kernel(gpu, { shader: 'quad_probe', entry: 'probe', defines: { INVOCATIONS: n }, bind: { aligned: aligned[i]! }, workgroups: [workgroups] })));
  pass.end();
  gpu.device.queue.submit([encoder.finish()]);
  const flags = await Promise.all(aligned.map((buffer) => gpu.read(buffer)));
  for (const buffer of aligned) gpu.buffers.release(buffer);
  return flags.every((words) => new Uint32Array(words).every((v) => v === 1));
}
