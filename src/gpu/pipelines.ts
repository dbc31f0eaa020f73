/**
 * The pipeline and shader-module caches every view of a device shares, keyed by what makes a pipeline
 * unique (shader, defines, entry point). `get` makes a missing pipeline synchronously; `compile` makes
 * many at once with createComputePipelineAsync, which a driver compiles in parallel and off the page's
 * main thread: a CPU adapter (SwiftShader) compiles an unrolled kernel for seconds (docs/perf/cold-start.md).
 */
import { DeviceError } from '../errors.ts';
import { specialise, type Defines } from './shaders.ts';

/** What names a pipeline: a dispatch has all three. */
export interface PipelineName {
  readonly shader: string;
  readonly entry: string;
  readonly defines: Readonly<Defines>;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Pipelines createComputePipelineAsync is still making, by the same key. */
  private readonly pending = new Map<string, Promise<GPUComputePipeline>>();
  private readonly modules = new Map<string, GPUShaderModule>();

  constructor(
    private readonly device: GPUDevice,
    /** Where a pipeline that failed to compile is reported too (the device's error list). */
    private readonly errors: string[],
  ) {}

  /** The pipeline, made here and now when neither `compile` nor an earlier call made it. */
  get(name: PipelineName): GPUComputePipeline {
    const key = pipelineKey(name);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline(this.descriptor(name));
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * Makes the pipelines of `names` that are not made yet, all at once, and resolves with how many it
   * waited for once every one is ready. A pipeline another call is making already is waited for, not
   * asked for twice. One that fails rejects with its message, which `errors` keeps as well.
   */
  async compile(names: Iterable<PipelineName>): Promise<number> {
    const waits = new Map<string, Promise<GPUComputePipeline>>();
    for (const name of names) {
      const key = pipelineKey(name);
      if (waits.has(key) || this.pipelines.has(key)) continue;
      waits.set(key, this.pending.get(key) ?? this.startCompile(key, name));
    }
    await Promise.all(waits.values());
    return waits.size;
  }

  clear(): void {
    this.pipelines.clear();
    this.pending.clear();
    this.modules.clear();
  }

  private startCompile(key: string, name: PipelineName): Promise<GPUComputePipeline> {
    const made = this.device.createComputePipelineAsync(this.descriptor(name)).then(
      (pipeline) => {
        // A synchronous `get` meanwhile made one already: keep that, so every dispatch binds the same.
        if (!this.pipelines.has(key)) this.pipelines.set(key, pipeline);
        this.pending.delete(key);
        return this.pipelines.get(key)!;
      },
      (error: Error) => {
        this.pending.delete(key);
        const message = `creating pipeline ${name.shader}.${name.entry}: ${error.message}`;
        this.errors.push(message);
        throw new DeviceError(message);
      },
    );
    this.pending.set(key, made);
    return made;
  }

  private descriptor({ shader, entry, defines }: PipelineName): GPUComputePipelineDescriptor {
    const moduleKey = `${shader}|${JSON.stringify(defines)}`;
    let module = this.modules.get(moduleKey);
    if (!module) {
      module = this.device.createShaderModule({ label: shader, code: specialise(shader, defines) });
      this.modules.set(moduleKey, module);
    }
    return { label: `${shader}.${entry}`, layout: 'auto', compute: { module, entryPoint: entry } };
  }
}

function pipelineKey({ shader, entry, defines }: PipelineName): string {
  return `${shader}|${JSON.stringify(defines)}|${entry}`;
}
