import type { Gpu } from './gpu.ts';
import { encode, type Dispatch } from './kernel.ts';

/** GPU time of one label (a kernel): how many passes carried it and their summed duration. */
export interface KernelTime {
  count: number;
  totalMs: number;
}

/**
 * Per-kernel GPU time from timestamp queries, after webgpu-samples' TimestampQueryManager. Where the
 * device can write timestamps inside a pass (Gpu.hasTimestampsInPasses) the dispatches share one pass
 * with a timestamp before the first and after each, so a kernel's time is the gap before its
 * timestamp and the step is encoded as it runs for real; otherwise each gets a pass of its own, timed
 * by its begin and end, which adds each pass's own cost to its kernel. One resolve and one readback
 * serve everything encoded since `read()`.
 *
 *   const timer = new GpuTimer(gpu, maxDispatches);
 *   timer.encodeTimed(encoder, dispatches); gpu.device.queue.submit([encoder.finish()]);
 *   const perKernel = await timer.read(); // { 'dense.forward': { count, totalMs }, … }
 *
 * Without `timestamp-query` (`available: false`) the dispatches are still encoded, untimed, and
 * `read()` returns {}: time one kernel with `GpuTimer.wallClock` instead.
 */
export class GpuTimer {
  /** Whether the device has `timestamp-query`; false means no per-kernel times. */
  readonly available: boolean;
  /** Whether dispatches share one pass with timestamps between them (else a pass each). */
  readonly inPasses: boolean;
  /** Two timestamps per timed dispatch at most; null without `timestamp-query`. */
  private readonly querySet: GPUQuerySet | null = null;
  /** Where the query set resolves to: 64-bit nanosecond ticks. */
  private readonly resolveBuffer: GPUBuffer | null = null;
  /** Mappable copy of `resolveBuffer`, the one readback per `read()`. */
  private readonly readBuffer: GPUBuffer | null = null;
  /** Each dispatch timed since the last `read()`: its label and the query indices of its start and end. */
  private timed: Array<{ label: string; begin: number; end: number }> = [];
  /** Queries written since the last `read()`. */
  private queries = 0;

  constructor(
    private readonly gpu: Gpu,
    /** Most dispatches timed between two `read()` calls (the query set holds 2 timestamps each). */
    readonly maxDispatches: number,
    /** `inPasses: false` gives each dispatch its own pass even where timestamps inside passes work (tests check both). */
    options: { inPasses?: boolean } = {},
  ) {
    this.available = gpu.hasTimestamps;
    this.inPasses = this.available && gpu.hasTimestampsInPasses && options.inPasses !== false;
    if (!this.available) return;
    const bytes = maxDispatches * 2 * 8;
    this.querySet = gpu.device.createQuerySet({ label: 'gpu-timer', type: 'timestamp', count: maxDispatches * 2 });
    this.resolveBuffer = gpu.buffers.create('gpu-timer.resolve', bytes, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
    this.readBuffer = gpu.buffers.create('gpu-timer.read', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  /**
   * Encodes the dispatches timed: in one pass with a timestamp between each where the device can,
   * else each in its own pass with begin/end timestamps (untimed, one pass, without timestamps).
   */
  encodeTimed(encoder: GPUCommandEncoder, dispatches: readonly Dispatch[]): void {
    const querySet = this.querySet;
    if (!querySet) {
      const pass = encoder.beginComputePass({ label: 'untimed' });
      encode(pass, dispatches);
      pass.end();
      return;
    }
    if (this.timed.length + dispatches.length > this.maxDispatches) {
      throw new Error(`GpuTimer holds ${this.maxDispatches} dispatches; read() before encoding ${dispatches.length} more`);
    }
    if (this.inPasses) {
      // Not in @webgpu/types: the method that chromium-experimental-timestamp-query-inside-passes adds.
      const pass = encoder.beginComputePass({ label: 'timed' }) as GPUComputePassEncoder & { writeTimestamp(set: GPUQuerySet, index: number): void };
      pass.writeTimestamp(querySet, this.queries);
      for (const dispatch of dispatches) {
        encode(pass, [dispatch]);
        this.timed.push({ label: dispatch.label, begin: this.queries, end: this.queries + 1 });
        pass.writeTimestamp(querySet, ++this.queries);
      }
      this.queries++;
      pass.end();
      return;
    }
    for (const dispatch of dispatches) {
      const begin = this.queries;
      const pass = encoder.beginComputePass({
        label: dispatch.label,
        timestampWrites: { querySet, beginningOfPassWriteIndex: begin, endOfPassWriteIndex: begin + 1 },
      });
      encode(pass, [dispatch]);
      pass.end();
      this.timed.push({ label: dispatch.label, begin, end: begin + 1 });
      this.queries += 2;
    }
  }

  /** Resolves and reads back every timestamp since the last call (after the timed work was submitted), summed per label. */
  async read(): Promise<Record<string, KernelTime>> {
    const { timed, queries } = this;
    this.timed = [];
    this.queries = 0;
    if (!this.querySet || !this.resolveBuffer || !this.readBuffer || timed.length === 0) return {};
    const bytes = queries * 8;
    const encoder = this.gpu.device.createCommandEncoder({ label: 'gpu-timer.resolve' });
    encoder.resolveQuerySet(this.querySet, 0, queries, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readBuffer, 0, bytes);
    this.gpu.device.queue.submit([encoder.finish()]);
    await this.readBuffer.mapAsync(GPUMapMode.READ, 0, bytes);
    const ticks = new BigUint64Array(this.readBuffer.getMappedRange(0, bytes).slice(0));
    this.readBuffer.unmap();

    const times: Record<string, KernelTime> = {};
    timed.forEach(({ label, begin, end }) => {
      // Implementations may clamp or reorder timestamps across passes: never count negative time.
      const ns = ticks[end]! > ticks[begin]! ? Number(ticks[end]! - ticks[begin]!) : 0;
      const time = (times[label] ??= { count: 0, totalMs: 0 });
      time.count += 1;
      time.totalMs += ns / 1e6;
    });
    return times;
  }

  /**
   * The fallback without timestamps: `repeats` back-to-back runs of one kernel (or of a step's dispatches)
   * in one pass, timed from submit to `onSubmittedWorkDone` after one untimed warm-up run. The figure
   * includes per-dispatch overhead, so use enough work per dispatch for it not to dominate.
   */
  static async wallClock(gpu: Gpu, work: Dispatch | readonly Dispatch[], repeats: number): Promise<KernelTime> {
    const dispatches = Array.isArray(work) ? work : [work as Dispatch];
    const submit = (count: number) => {
      const encoder = gpu.device.createCommandEncoder({ label: `wall-clock ${dispatches[0]?.label}` });
      const pass = encoder.beginComputePass();
      for (let r = 0; r < count; r++) encode(pass, dispatches);
      pass.end();
      gpu.device.queue.submit([encoder.finish()]);
      return gpu.device.queue.onSubmittedWorkDone();
    };
    await submit(1);
    const start = performance.now();
    await submit(repeats);
    return { count: repeats, totalMs: performance.now() - start };
  }

  /** Frees the query set and releases both buffers from the pool. */
  destroy(): void {
    this.querySet?.destroy();
    if (this.resolveBuffer) this.gpu.buffers.release(this.resolveBuffer);
    if (this.readBuffer) this.gpu.buffers.release(this.readBuffer);
    this.timed = [];
    this.queries = 0;
  }
}
