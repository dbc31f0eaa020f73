import { DeviceError } from '../errors.ts';
import { BufferPool } from './buffers.ts';
import { encode, kernel } from './kernel.ts';
import { PipelineCache, type PipelineName } from './pipelines.ts';
import type { Defines } from './shaders.ts';
import { makeTarget, type DeviceFacts, type KernelChoice, type OpFamily, type Target } from './target.ts';

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
 * What every view of one device shares (Gpu.withTarget): the device, its buffers, its caches and its
 * error state.
 */
interface Shared {
  readonly device: GPUDevice;
  readonly adapter: AdapterFacts;
  readonly buffers: BufferPool;
  readonly lost: Promise<string>;
  /** Set as soon as the device is lost. */
  lostReason: string | null;
  readonly errors: string[];
  readonly pipelines: PipelineCache;
  /**
   * Idle MAP_READ staging buffers of up to READBACK_KEEP_BYTES, by size: the small reads that repeat
   * (loss/accuracy totals every epoch or every --log-every steps) reuse them instead of allocating.
   */
  readonly idleStaging: Map<number, GPUBuffer[]>;
}

function share(device: GPUDevice, adapter: AdapterFacts): Shared {
  const errors: string[] = [];
  const shared: Shared = {
    device, adapter, buffers: new BufferPool(device), lostReason: null, errors,
    pipelines: new PipelineCache(device, errors), idleStaging: new Map(),
    lost: device.lost.then((info) => {
      shared.lostReason = `${info.reason === 'destroyed' ? 'device destroyed' : 'device lost'}: ${info.message || info.reason}`;
      return shared.lostReason;
    }),
  };
  device.addEventListener('uncapturederror', (event) => {
    const message = (event as GPUUncapturedErrorEvent).error.message;
    shared.errors.push(message);
    console.error(`WebGPU error: ${message}`);
  });
  return shared;
}

/** Gpu.create's options. */
export interface GpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for timestamps inside passes (Gpu.hasTimestampsInPasses), for a device that profiles. */
  timestampsInPasses?: boolean;
  /** The kernels to run (`--kernels`): gpu.target's choice; `auto` by default. */
  kernels?: KernelChoice;
  /** The highest rung each op family may take (the kernel view's ladder control); none by default. */
  rungCeiling?: Partial<Record<OpFamily, number>>;
}

/**
 * The device, its limits, and caches keyed by what makes a pipeline unique. One `Gpu` owns every
 * buffer and pipeline of a run; `destroy()` releases them all. Which kernels run is `target`, fixed when
 * the Gpu is made; `withTarget` gives a view of the same device with another.
 */
export class Gpu {
  readonly device: GPUDevice;
  readonly adapter: AdapterFacts;
  readonly buffers: BufferPool;
  /** Resolves with the reason once the device is lost (destroyed, driver reset, out of memory). */
  readonly lost: Promise<string>;
  /** Uncaptured validation / out-of-memory errors, kept so a run can stop and report them. */
  readonly errors: string[];
  readonly hasTimestamps: boolean;
  /**
   * Timestamps may also be written between the dispatches of one pass (Chromium's
   * `chromium-experimental-timestamp-query-inside-passes`, where `create` was asked for it and the adapter
   * offers it): GpuTimer then times a whole step in one pass, without the cost of a pass per kernel.
   */
  readonly hasTimestampsInPasses: boolean;
  /** The device has the `subgroups` feature (requested whenever the adapter offers it). */
  readonly hasSubgroups: boolean;

  private constructor(
    private readonly shared: Shared,
    /** What the device is, measured once in `create` (the quad probe included). */
    readonly facts: DeviceFacts,
    /** Which kernels run: every op's policy reads it when a plan is recorded. */
    readonly target: Target,
  ) {
    ({ device: this.device, adapter: this.adapter, buffers: this.buffers, lost: this.lost, errors: this.errors } = shared);
    this.hasTimestamps = this.device.features.has('timestamp-query');
    this.hasTimestampsInPasses = this.hasTimestamps && this.device.features.has(TIMESTAMPS_IN_PASSES);
    this.hasSubgroups = this.device.features.has('subgroups');
  }

  /** Set as soon as the device is lost; checked by the trainer between submissions. */
  get lostReason(): string | null {
    return this.shared.lostReason;
  }

  /**
   * Requests the adapter and a device with the adapter's full buffer limits, measures its facts (running
   * the quad probe) and fixes the target. `timestampsInPasses` asks for timestamps inside passes too, for
   * a device that profiles: a device that trains does without, since the feature slows the step
   * (docs/perf/gpu.md).
   */
  static async create(options: GpuOptions = {}): Promise<Gpu> {
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
    const shared = share(device, {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      // Chrome ≥ 125 has it in GPUAdapterInfo; older browsers only on the adapter (since deprecated).
      fallback: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    });
    const subgroups = device.features.has('subgroups');
    const unprobed: DeviceFacts = {
      fallback: shared.adapter.fallback,
      subgroups,
      quadsAligned: false,
      cores: (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 2,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    };
    // The probe is a kernel like any other, so it runs on a provisional view; its pipeline stays cached.
    const quadsAligned = subgroups && (await probeQuads(new Gpu(shared, unprobed, makeTarget(unprobed))));
    const facts: DeviceFacts = Object.freeze({ ...unprobed, quadsAligned });
    return new Gpu(shared, facts, makeTarget(facts, options.kernels, options.rungCeiling));
  }

  /**
   * A view of this device whose kernels follow another choice and rung ceilings: it shares the device,
   * buffer pool, pipeline and module caches, `lost` and `errors`, so `destroy()` on a view destroys the
   * one device every view shares.
   */
  withTarget(kernels: KernelChoice, rungCeiling: Partial<Record<OpFamily, number>> = {}): Gpu {
    return new Gpu(this.shared, this.facts, makeTarget(this.facts, kernels, rungCeiling));
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /**
   * The compute pipeline for `shaders/<shader>.wgsl` specialised by `defines`, created once: from the
   * cache, where `compile` puts it, else made here and now (a dispatch asks for it when first encoded).
   */
  pipeline(shader: string, entry: string, defines: Defines = {}): GPUComputePipeline {
    return this.shared.pipelines.get({ shader, entry, defines });
  }

  /**
   * Makes the pipelines of `dispatches` not made yet, all at once and in parallel
   * (createComputePipelineAsync); resolves with how many it waited for once all are ready, or rejects
   * with a pipeline's compile error (kept in `errors` too).
   */
  compile(dispatches: Iterable<PipelineName>): Promise<number> {
    return this.shared.pipelines.compile(dispatches);
  }

  /** Throws a DeviceError when the device is gone, so callers stop before encoding more work. */
  assertAlive(): void {
    if (this.lostReason) throw new DeviceError(this.lostReason);
  }

  /** Copies `bytes` from a GPU buffer to the CPU through a staging buffer. */
  async read(source: GPUBuffer, bytes = source.size, offset = 0): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const reuse = size <= READBACK_KEEP_BYTES;
    const staging = (reuse ? this.shared.idleStaging.get(size)?.pop() : undefined)
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
    else if (this.shared.idleStaging.has(size)) this.shared.idleStaging.get(size)!.push(staging);
    else this.shared.idleStaging.set(size, [staging]);
    return copy;
  }

  destroy(): void {
    for (const idle of this.shared.idleStaging.values()) for (const staging of idle) staging.destroy();
    this.shared.idleStaging.clear();
    this.buffers.destroyAll();
    this.shared.pipelines.clear();
    this.device.destroy();
  }
}

/**
 * Runs shaders/quad_probe.wgsl in a few workgroups of each of `sizes` invocations (by default those of dense's
 * quad kernels): true if every quad is aligned (DeviceFacts.quadsAligned).
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
