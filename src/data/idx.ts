/**
 * IDX files (the format MNIST ships in): a big-endian header — magic, then one u32 per dimension —
 * followed by the raw u8 data. Every error names the file, so a bad download is obvious.
 */
import { CheckpointError } from '../errors.ts';

/** Magic numbers: 0x08 = unsigned bytes, last byte = number of dimensions. */
const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols pixels, 0–255, row-major; a view into the file's bytes (no copy). */
  pixels: Uint8Array;
}

/** Parses an images file (count × rows × cols). `expectedCount` refuses a file of another size. */
export function parseIdxImages(name: string, bytes: Uint8Array, expectedCount?: number): IdxImages {
  const [count, rows, cols] = readHeader(name, bytes, IMAGES_MAGIC, 'images', 3);
  checkCount(name, count, expectedCount);
  if (rows === 0 || cols === 0) throw new CheckpointError(`${name}: image size ${rows}×${cols} is empty`);
  const pixels = body(name, bytes, 16, count * rows * cols, `${count}×${rows}×${cols}`);
  return { count, rows, cols, pixels };
}

/** Parses a labels file; every label must be a digit 0–9. Returns a view into the file's bytes. */
export function parseIdxLabels(name: string, bytes: Uint8Array, expectedCount?: number): Uint8Array {
  const [count] = readHeader(name, bytes, LABELS_MAGIC, 'labels', 1);
  checkCount(name, count, expectedCount);
  const labels = body(name, bytes, 8, count, `${count}`);
  const bad = labels.findIndex((label) => label > 9);
  if (bad >= 0) throw new CheckpointError(`${name}: label ${labels[bad]} at index ${bad} is not a digit 0–9`);
  return labels;
}

function readHeader(name: string, bytes: Uint8Array, magic: number, kind: string, dims: number): number[] {
  const headerBytes = 4 + 4 * dims;
  if (bytes.length < headerBytes) {
    throw new CheckpointError(`${name}: ${bytes.length} bytes is shorter than the ${headerBytes}-byte ${kind} header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const found = view.getUint32(0);
  if (found !== magic) throw new CheckpointError(`${name}: magic ${hex(found)} is not ${hex(magic)} (${kind})`);
  return Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
}

function checkCount(name: string, count: number, expected: number | undefined): void {
  if (expected !== undefined && count !== expected) {
    throw new CheckpointError(`${name}: count ${count} is not the expected ${expected}`);
  }
}

/** The data after the header, which must be exactly as long as the header says (longer means a wrong file too). */
function body(name: string, bytes: Uint8Array, start: number, length: number, shape: string): Uint8Array {
  const found = bytes.length - start;
  if (found !== length) {
    throw new CheckpointError(`${name}: ${found} data bytes, but the header's ${shape} needs ${length}`);
  }
  return bytes.subarray(start);
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
