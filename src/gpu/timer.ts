import type { Gpu } from './gpu.ts';
import { encode, type Dispatch } from './kernel.ts';

/** GPU time of one label (a kernel): how many passes carried it and their summed duration. */
export interface KernelTime {
  count: number;
  totalMs: number;
}

/**
 * Per-kernel GPU time from timestamp queries, after webgpu-samples' TimestampQueryManager: each
 * timed dispatch gets a compute pass of its own whose begin and end timestamps land in one query
 * set, and one resolve plus one readback serve every pass encoded since the last `read()`.
 *
 *   const timer = new GpuTimer(gpu, maxPasses);
 *   timer.encodeTimed(encoder, dispatches); gpu.device.queue.submit([encoder.finish()]);
 *   const perKernel = await timer.read(); // { 'dense.forward': { count, totalMs }, … }
 *
 * Without `timestamp-query` (`available: false`) the dispatches are still encoded, untimed, and
 * `read()` returns {}: time one kernel with `GpuTimer.wallClock` instead.
 */
export class GpuTimer {
  /** Whether the device has `timestamp-query`; false means no per-pass times. */
  readonly available: boolean;
  /** Two timestamps (begin, end of pass) per timed pass; null without `timestamp-query`. */
  private readonly querySet: GPUQuerySet | null = null;
  /** Where the query set resolves to: 64-bit nanosecond ticks, 16 bytes per pass. */
  private readonly resolveBuffer: GPUBuffer | null = null;
  /** Mappable copy of `resolveBuffer`, the one readback per `read()`. */
  private readonly readBuffer: GPUBuffer | null = null;
  /** Label of each pass encoded since the last `read()`, in query order. */
  private labels: string[] = [];

  constructor(
    private readonly gpu: Gpu,
    /** Most passes between two `read()` calls (the query set holds 2 timestamps each). */
    readonly maxPasses: number,
  ) {
    this.available = gpu.hasTimestamps;
    if (!this.available) return;
    const bytes = maxPasses * 2 * 8;
    this.querySet = gpu.device.createQuerySet({ label: 'gpu-timer', type: 'timestamp', count: maxPasses * 2 });
    this.resolveBuffer = gpu.buffers.create('gpu-timer.resolve', bytes, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
    this.readBuffer = gpu.buffers.create('gpu-timer.read', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  /** Encodes each dispatch in its own compute pass with begin/end timestamps (untimed, one pass, when unavailable). */
  encodeTimed(encoder: GPUCommandEncoder, dispatches: readonly Dispatch[]): void {
    if (!this.querySet) {
      const pass = encoder.beginComputePass({ label: 'untimed' });
      encode(pass, dispatches);
      pass.end();
      return;
    }
    if (this.labels.length + dispatches.length > this.maxPasses) {
      throw new Error(`GpuTimer holds ${this.maxPasses} passes; read() before encoding ${dispatches.length} more`);
    }
    for (const dispatch of dispatches) {
      const first = this.labels.length * 2;
      const pass = encoder.beginComputePass({
        label: dispatch.label,
        timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: first, endOfPassWriteIndex: first + 1 },
      });
      encode(pass, [dispatch]);
      pass.end();
      this.labels.push(dispatch.label);
    }
  }

  /** Resolves and reads back every timestamp since the last call (after the timed work was submitted), summed per label. */
  async read(): Promise<Record<string, KernelTime>> {
    const labels = this.labels;
    this.labels = [];
    if (!this.querySet || !this.resolveBuffer || !this.readBuffer || labels.length === 0) return {};
    const bytes = labels.length * 16;
    const encoder = this.gpu.device.createCommandEncoder({ label: 'gpu-timer.resolve' });
    encoder.resolveQuerySet(this.querySet, 0, labels.length * 2, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readBuffer, 0, bytes);
    this.gpu.device.queue.submit([encoder.finish()]);
    await this.readBuffer.mapAsync(GPUMapMode.READ, 0, bytes);
    const ticks = new BigUint64Array(this.readBuffer.getMappedRange(0, bytes).slice(0));
    this.readBuffer.unmap();

    const times: Record<string, KernelTime> = {};
    labels.forEach((label, i) => {
      // Implementations may clamp or reorder timestamps across passes: never count negative time.
      const ns = ticks[2 * i + 1]! > ticks[2 * i]! ? Number(ticks[2 * i + 1]! - ticks[2 * i]!) : 0;
      const time = (times[label] ??= { count: 0, totalMs: 0 });
      time.count += 1;
      time.totalMs += ns / 1e6;
    });
    return times;
  }

  /**
   * The fallback without timestamps: `repeats` back-to-back dispatches of one kernel in one pass,
   * timed from submit to `onSubmittedWorkDone` after one untimed warm-up submission. The figure
   * includes per-dispatch overhead, so use enough work per dispatch for it not to dominate.
   */
  static async wallClock(gpu: Gpu, dispatch: Dispatch, repeats: number): Promise<KernelTime> {
    const submit = (count: number) => {
      const encoder = gpu.device.createCommandEncoder({ label: `wall-clock ${dispatch.label}` });
      const pass = encoder.beginComputePass();
      encode(pass, Array<Dispatch>(count).fill(dispatch));
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
    this.labels = [];
  }
}
