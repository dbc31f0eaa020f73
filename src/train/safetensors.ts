/**
 * The safetensors file format (huggingface/safetensors), F32 only, no node: imports (the demo uses it):
 *
 *   bytes 0–7   N, the header length, u64 little-endian
 *   bytes 8…    N bytes of UTF-8 JSON: { "<name>": { dtype: "F32", shape: [...], data_offsets: [begin, end] },
 *               …, "__metadata__": { "<key>": "<string>" } }, padded with spaces so the data starts
 *               8-byte aligned
 *   then        the tensors' raw little-endian bytes, back to back in name order, offsets relative to here
 *
 * Decoding checks everything the format promises (offsets in order, no holes, no overlap, sizes that
 * match the shapes) and throws a CheckpointError naming the tensor and the numbers.
 */
import { CheckpointError } from '../errors.ts';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface Safetensors {
  tensors: Map<string, NamedTensor>;
  /** `__metadata__`: string values only (structured values are JSON-encoded by the caller). */
  metadata: Record<string, string>;
}

/** A header larger than this is not a model header (safetensors itself refuses > 100 MB). */
const MAX_HEADER = 100_000_000;

export function encodeSafetensors(tensors: Map<string, NamedTensor> | Record<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new CheckpointError(`tensor ${name}: shape [${t.shape.join(', ')}] holds ${count} values, but ${t.data.length} were given`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const headerBytes = new Uint8Array(padded).fill(0x20);
  headerBytes.set(json);
  json = headerBytes;

  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  let at = 8 + padded;
  for (const [, t] of entries) {
    out.set(littleEndianBytes(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, file = 'checkpoint'): Safetensors {
  const fail = (why: string): never => {
    throw new CheckpointError(`${file}: ${why}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file (an 8-byte header length, then a JSON header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength < 2 || headerLength > MAX_HEADER) fail(`header length ${headerLength} is not that of a safetensors file (expected 2 to ${MAX_HEADER} bytes of JSON)`);
  if (8 + headerLength > bytes.length) fail(`truncated: the header says ${headerLength} bytes of JSON but the file has only ${bytes.length - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    fail(`the header is not JSON (${(error as Error).message}): not a safetensors file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object: not a safetensors file');
  const { __metadata__: rawMetadata, ...rest } = header as Record<string, unknown>;
  const metadata = readMetadata(rawMetadata, fail);

  const dataStart = 8 + headerLength;
  const dataBytes = bytes.length - dataStart;
  const entries = Object.entries(rest).map(([name, info]) => ({ name, ...readEntry(name, info, fail) }));
  entries.sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) fail(`tensor ${e.name}: data starts at byte ${e.begin}, expected ${expected} (tensors must be contiguous, without holes or overlaps)`);
    expected = e.end;
  }
  if (expected > dataBytes) fail(`truncated: the tensors need ${expected} data bytes but the file has ${dataBytes}`);
  if (expected < dataBytes) fail(`${dataBytes - expected} bytes after the last tensor: the file is not what its header describes`);

  const tensors = new Map<string, NamedTensor>();
  for (const e of entries) {
    const raw = bytes.slice(dataStart + e.begin, dataStart + e.end);
    tensors.set(e.name, { shape: e.shape, data: fromLittleEndian(raw) });
  }
  return { tensors, metadata };
}

function readMetadata(raw: unknown, fail: (why: string) => never): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object of strings');
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'string') fail(`__metadata__.${key} is a ${typeof value}, the format allows only strings`);
    metadata[key] = value as string;
  }
  return metadata;
}

function readEntry(name: string, info: unknown, fail: (why: string) => never): { shape: number[]; begin: number; end: number } {
  const e = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof info !== 'object' || info === null) fail(`tensor ${name}: header entry is not an object`);
  if (e.dtype !== 'F32') fail(`tensor ${name}: dtype ${JSON.stringify(e.dtype)} is not supported (only F32)`);
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`tensor ${name}: data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
  const [begin, end] = offsets as [number, number];
  const needed = (shape as number[]).reduce((a, b) => a * b, 1) * 4;
  if (end - begin !== needed) fail(`tensor ${name}: shape [${(shape as number[]).join(', ')}] needs ${needed} bytes of F32 but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  return { shape: shape as number[], begin, end };
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function fromLittleEndian(raw: Uint8Array): Float32Array {
  if (littleEndian) return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
