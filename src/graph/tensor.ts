/** A view of `size` f32 values at byte `offset` of a GPU buffer, with the shape of ONE sample or of a parameter. */
export interface Tensor {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
  readonly shape: readonly number[];
}

export function binding(tensor: Tensor): GPUBufferBinding {
  return { buffer: tensor.buffer, offset: tensor.offset, size: tensor.size * 4 };
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly number[]): string {
  return shape.join('×');
}
