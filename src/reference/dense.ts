/** Float64 reference of the dense layer, the oracle for shaders/dense.wgsl. Row-major throughout. */

/** y[rows×out] = x[rows×in] · Wᵀ + b */
export function denseForward(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, rows: number, inF: number, outF: number): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let sum = bias[o]!;
      for (let i = 0; i < inF; i++) sum += x[r * inF + i]! * weight[o * inF + i]!;
      y[r * outF + o] = sum;
    }
  return y;
}

/** dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy */
export function denseBackward(dy: ArrayLike<number>, x: ArrayLike<number>, weight: ArrayLike<number>, rows: number, inF: number, outF: number) {
  const dx = new Float64Array(rows * inF);
  const dWeight = new Float64Array(outF * inF);
  const dBias = new Float64Array(outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      const g = dy[r * outF + o]!;
      dBias[o]! += g;
      for (let i = 0; i < inF; i++) {
        dx[r * inF + i]! += g * weight[o * inF + i]!;
        dWeight[o * inF + i]! += g * x[r * inF + i]!;
      }
    }
  return { dx, dWeight, dBias };
}
