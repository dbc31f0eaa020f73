/**
 * Typed errors. Every message names the field, the value and what is allowed, so a person can fix
 * the input without reading code. The CLI prints `err.message` alone and exits 2 for these.
 */
export class WgslNnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An option outside its allowed range (`lr -1 must be > 0`). Thrown before any GPU work. */
export class ConfigError extends WgslNnError {}

/** Layer shapes that do not chain (`conv2d #2: kernel 5 is larger than its 3×3 input`). */
export class ShapeError extends WgslNnError {}

/** A checkpoint or data file that cannot be used (`train-images-idx3-ubyte: magic 0x0000 is not 0x0803`). */
export class CheckpointError extends WgslNnError {}

/** WebGPU missing, the adapter refused, a limit exceeded, or the device lost mid-run. */
export class DeviceError extends WgslNnError {}

/** Range check helper: throws a ConfigError naming the field when `ok` is false. */
export function check(ok: boolean, field: string, value: unknown, allowed: string): void {
  if (!ok) throw new ConfigError(`${field} ${formatValue(value)} is not allowed: ${allowed}`);
}

function formatValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
