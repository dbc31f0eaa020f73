/** Float64 reference of conv2d, the oracle for every rung of conv2d (shaders/conv2d*.wgsl): direct loops, NCHW, zero padding. */
import { convOutputSize, type ConvSizes } from '../layers/conv2d.ts';

/** Calls `visit(xIndex, weightIndex, yIndex)` for every product term of the convolution. */
function eachTerm(g: ConvSizes, visit: (xi: number, wi: number, yi: number) => void): void {
  const OH = convOutputSize(g.height, g.kernel, g.stride, g.padding);
  const OW = convOutputSize(g.width, g.kernel, g.stride, g.padding);
  const k = g.kernel;
  for (let n = 0; n < g.rows; n++)
    for (let co = 0; co < g.outChannels; co++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const yi = ((n * g.outChannels + co) * OH + oh) * OW + ow;
          for (let ci = 0; ci < g.inChannels; ci++)
            for (let kh = 0; kh < k; kh++) {
              const ih = oh * g.stride - g.padding + kh;
              if (ih < 0 || ih >= g.height) continue;
              for (let kw = 0; kw < k; kw++) {
                const iw = ow * g.stride - g.padding + kw;
                if (iw < 0 || iw >= g.width) continue;
                visit(((n * g.inChannels + ci) * g.height + ih) * g.width + iw, ((co * g.inChannels + ci) * k + kh) * k + kw, yi);
              }
            }
        }
}

function outputSize(g: ConvSizes): number {
  return g.rows * g.outChannels * convOutputSize(g.height, g.kernel, g.stride, g.padding) * convOutputSize(g.width, g.kernel, g.stride, g.padding);
}

/** y[n, co, oh, ow] = Σ weight[co, ci, kh, kw] · x[n, ci, oh·s − p + kh, ow·s − p + kw] + bias[co] */
export function conv2dForward(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, g: ConvSizes): Float64Array {
  const y = new Float64Array(outputSize(g));
  const outHW = y.length / (g.rows * g.outChannels);
  for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / outHW) % g.outChannels]!;
  eachTerm(g, (xi, wi, yi) => (y[yi]! += weight[wi]! * x[xi]!));
  return y;
}

/** dx, dWeight, dBias of conv2dForward for the output gradient dy. */
export function conv2dBackward(dy: ArrayLike<number>, x: ArrayLike<number>, weight: ArrayLike<number>, g: ConvSizes) {
  const dx = new Float64Array(g.rows * g.inChannels * g.height * g.width);
  const dWeight = new Float64Array(g.outChannels * g.inChannels * g.kernel ** 2);
  const dBias = new Float64Array(g.outChannels);
  const outHW = outputSize(g) / (g.rows * g.outChannels);
  for (let i = 0; i < dy.length; i++) dBias[Math.floor(i / outHW) % g.outChannels]! += dy[i]!;
  eachTerm(g, (xi, wi, yi) => {
    dx[xi]! += weight[wi]! * dy[yi]!;
    dWeight[wi]! += x[xi]! * dy[yi]!;
  });
  return { dx, dWeight, dBias };
}
