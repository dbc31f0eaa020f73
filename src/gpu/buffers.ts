import { DeviceError } from '../errors.ts';

/**
 * Every GPU buffer of a run is created here, so we can count what is alive (a training loop must
 * not grow it after the first epoch) and free everything in one `destroyAll()`.
 */
export class BufferPool {
  private readonly live = new Map<GPUBuffer, number>();
  /** Set while `collect` runs: every buffer created is also recorded here. */
  private collecting: GPUBuffer[] | null = null;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` (rounded up to 4, the storage-buffer granularity). */
  create(label: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    // Refused here rather than as a driver validation error and an invalid buffer.
    if (size > this.device.limits.maxBufferSize) {
      throw new DeviceError(`buffer ${label} needs ${size} bytes, more than this adapter's maxBufferSize of ${this.device.limits.maxBufferSize} bytes`);
    }
    const buffer = this.device.createBuffer({ label, size, usage });
    this.live.set(buffer, size);
    this.collecting?.push(buffer);
    return buffer;
  }

  /**
   * Starts recording the buffers created from now on; the returned function stops and hands them
   * over, so an owner (a training run) can free exactly what it made.
   */
  record(): () => GPUBuffer[] {
    const outer = this.collecting;
    const created: GPUBuffer[] = [];
    this.collecting = created;
    return () => {
      this.collecting = outer;
      outer?.push(...created);
      return created;
    };
  }

  /** A storage buffer filled with `data` (f32, u32 or raw bytes). */
  upload(label: string, data: ArrayBufferView, usage: GPUBufferUsageFlags = 0): GPUBuffer {
    const buffer = this.create(label, data.byteLength, usage | GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    writeAligned(this.device, buffer, 0, data);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (this.live.delete(buffer)) buffer.destroy();
  }

  destroyAll(): void {
    for (const buffer of this.live.keys()) buffer.destroy();
    this.live.clear();
  }

  /** How many buffers are alive and their total bytes. */
  stats(): { buffers: number; bytes: number } {
    let bytes = 0;
    for (const size of this.live.values()) bytes += size;
    return { buffers: this.live.size, bytes };
  }
}

/** `queue.writeBuffer` needs a byte length that is a multiple of 4: pad the tail (u8 data) when needed. */
export function writeAligned(device: GPUDevice, buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
  const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  const whole = bytes.byteLength & ~3;
  if (whole > 0) device.queue.writeBuffer(buffer, offset, bytes, 0, whole);
  if (whole < bytes.byteLength) {
    const tail = new Uint8Array(4);
    tail.set(bytes.subarray(whole));
    device.queue.writeBuffer(buffer, offset + whole, tail);
  }
}
