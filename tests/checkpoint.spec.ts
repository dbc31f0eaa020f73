/** The safetensors format and checkpoint metadata, in Node (no GPU): byte layout, round trip, refusals. */
import { expect, test } from '@playwright/test';
import { CheckpointError } from '../src/errors.ts';
import { presetConfig } from '../src/presets/index.ts';
import { decodeSafetensors, encodeCheckpoint, encodeSafetensors, readCheckpoint } from '../src/train/checkpoint.ts';

const tensors = () =>
  new Map([
    ['1.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['0.bias', { shape: [2], data: Float32Array.from([-0.5, 0.25]) }],
  ]);

/** A file as the reference implementation writes it: u64 length, JSON, raw data. */
function handMade(header: object, data: number[], pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length * 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  data.forEach((v, i) => view.setFloat32(8 + json.length + i * 4, v, true));
  return out;
}

test('encode: u64 little-endian header length, JSON header padded to 8 bytes, F32 data in name order', () => {
  const bytes = encodeSafetensors(tensors(), { note: 'x' });
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const n = Number(view.getBigUint64(0, true));
  expect(n % 8).toBe(0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  expect(header).toEqual({
    __metadata__: { note: 'x' },
    '0.bias': { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    '1.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [8, 32] },
  });
  expect(bytes.length).toBe(8 + n + 32);
  const data = Array.from({ length: 8 }, (_, i) => view.getFloat32(8 + n + i * 4, true));
  expect(data).toEqual([-0.5, 0.25, 1, 2, 3, 4, 5, 6]);
});

test('decode reads its own files and hand-made ones (no metadata, no padding)', () => {
  const round = decodeSafetensors(encodeSafetensors(tensors(), { a: 'b' }));
  expect(round.metadata).toEqual({ a: 'b' });
  expect([...round.tensors.keys()].sort()).toEqual(['0.bias', '1.weight']);
  expect(Array.from(round.tensors.get('1.weight')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
  const hand = decodeSafetensors(handMade({ w: { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] } }, [7, 8]));
  expect(hand.metadata).toEqual({});
  expect(hand.tensors.get('w')).toEqual({ shape: [1, 2], data: Float32Array.from([7, 8]) });
});

test('decode refuses damaged and foreign files with a CheckpointError naming the file, the tensor and the numbers', () => {
  const good = encodeSafetensors(tensors());
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(3), /^f: 3 bytes is too short for a safetensors file/],
    [new TextEncoder().encode('{"this": "is json, not safetensors"}'), /^f: header length \d+ is not that of a safetensors file/],
    [good.subarray(0, 20), /^f: truncated: the header says \d+ bytes of JSON but the file has only 12/],
    [good.subarray(0, good.length - 4), /^f: truncated: the tensors need 32 data bytes but the file has 28/],
    [handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [1, 2, 3]), /^f: 4 bytes after the last tensor/],
    [handMade({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, [1]), /^f: tensor w: dtype "F16" is not supported \(only F32\)/],
    [handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [1, 2]), /^f: tensor w: shape \[3\] needs 12 bytes of F32 but data_offsets \[0, 8\] hold 8/],
    [handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, [1, 2]), /^f: tensor b: data starts at byte 4, expected 8/],
    [handMade({ __metadata__: { n: 1 } }, []), /^f: __metadata__\.n is a number, the format allows only strings/],
    [handMade([1, 2] as unknown as object, []), /^f: the header is not a JSON object/],
  ];
  for (const [bytes, message] of cases) {
    expect(() => decodeSafetensors(bytes, 'f'), String(message)).toThrow(CheckpointError);
    expect(() => decodeSafetensors(bytes, 'f')).toThrow(message);
  }
});

test('a checkpoint carries architecture, preset and config as JSON strings; readCheckpoint refuses other safetensors', () => {
  const config = presetConfig('mlp-128-64', { epochs: 3 });
  const bytes = encodeCheckpoint(tensors(), config);
  const { metadata } = decodeSafetensors(bytes);
  expect(metadata.format).toBe('wgsl-nn/1');
  expect(metadata.preset).toBe('mlp-128-64');
  expect(JSON.parse(metadata.config!)).toEqual(config);
  expect(JSON.parse(metadata.architecture!)).toEqual({ inputShape: [1, 28, 28], layers: config.layers });
  const read = readCheckpoint(bytes, 'm.safetensors');
  expect(read.config).toEqual(config);
  expect(read.training).toBeNull();

  expect(() => readCheckpoint(encodeSafetensors(tensors()), 'plain.safetensors')).toThrow(/^plain\.safetensors: __metadata__\.format is undefined, not "wgsl-nn\/1": not a wgsl-nn checkpoint/);
  const badConfig = encodeSafetensors(tensors(), { ...metadata, config: JSON.stringify({ ...config, lr: -1 }) });
  expect(() => readCheckpoint(badConfig, 'bad.safetensors')).toThrow(/^bad\.safetensors: __metadata__\.config is not a valid training config: lr -1 is not allowed: a number > 0/);
  const notJson = encodeSafetensors(tensors(), { ...metadata, config: '{oops' });
  expect(() => readCheckpoint(notJson, 'bad.safetensors')).toThrow(/^bad\.safetensors: __metadata__\.config is not JSON/);
});
