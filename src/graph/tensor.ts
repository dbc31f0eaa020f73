/**
 * How a tensor's elements are stored: `f32`, or `u8x4`, bytes packed four to a u32 word (little-endian),
 * each standing for byte / 255 (ToTensor's scaling of an image): a model's input batch of images.
 */
export type TensorFormat = 'f32' | 'u8x4';

const ELEMENT_BYTES: Readonly<Record<TensorFormat, number>> = { f32: 4, u8x4: 1 };

/** A view of `size` elements in `format` at byte `offset` of a GPU buffer, with the shape of ONE sample or of a parameter. */
export interface Tensor {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
  readonly shape: readonly number[];
  readonly format: TensorFormat;
}

export function binding(tensor: Tensor): GPUBufferBinding {
  return { buffer: tensor.buffer, offset: tensor.offset, size: tensorBytes(tensor.format, tensor.size) };
}

/** Bytes of `elements` values in `format`. */
export function tensorBytes(format: TensorFormat, elements: number): number {
  return elements * ELEMENT_BYTES[format];
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly number[]): string {
  return shape.join('×');
}
