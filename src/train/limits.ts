/**
 * What the adapter can hold, checked before anything is allocated: a buffer over `maxBufferSize`, a
 * storage binding over `maxStorageBufferBindingSize` or a dispatch over `maxComputeWorkgroupsPerDimension`
 * would otherwise surface as a driver validation error in the middle of a run. Each refusal is a
 * DeviceError naming the buffer (or kernel), the sizes and the limit.
 */
import { DeviceError } from '../errors.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { Layer, Shape } from '../graph/layer.ts';
import { inferShapes } from '../graph/sequential.ts';
import { product } from '../graph/tensor.ts';
import { CLASSES } from '../data/mnist.ts';

type Limits = Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize' | 'minStorageBufferOffsetAlignment'>;

export interface RunSizes {
  inputShape: Shape;
  layers: readonly Layer[];
  batchSize: number;
  trainCount: number;
  valCount: number;
  testCount: number;
}

/** Throws a DeviceError for the first buffer of the run that the adapter cannot bind. */
export function checkRunFits(limits: Limits, s: RunSizes): void {
  const bindable = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const limitName = limits.maxStorageBufferBindingSize <= limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  const fits = (what: string, bytes: number, how: string, advice: string) => {
    if (bytes > bindable) {
      throw new DeviceError(`${what} needs ${bytes} bytes (${how}), more than this adapter's ${limitName} of ${bindable} bytes: ${advice}`);
    }
  };
  const B = s.batchSize;
  const shapes = inferShapes(s.inputShape, s.layers);
  fits('the input batch', B * product(s.inputShape) * 4, `${B} × ${product(s.inputShape)} × 4`, 'use a smaller batch size');
  s.layers.forEach((layer, i) => {
    if (layer.isView) return;
    const n = product(shapes[i]!);
    fits(`layer ${i} (${layer.describe()}) activations`, B * n * 4, `${B} × ${n} × 4`, 'use a smaller batch size or layer');
  });
  const align = limits.minStorageBufferOffsetAlignment / 4;
  let paramFloats = 0;
  s.layers.forEach((layer, i) => {
    for (const spec of layer.params(i === 0 ? s.inputShape : shapes[i - 1]!)) paramFloats += Math.ceil(product(spec.shape) / align) * align;
  });
  fits('the parameter arena', paramFloats * 4, `${paramFloats} floats × 4`, 'use smaller layers');
  const evalRows = Math.max(s.valCount, s.testCount);
  fits('the probabilities of the evaluated set', evalRows * CLASSES * 4, `${evalRows} × ${CLASSES} × 4`, 'use a smaller validation set');
}

/** Throws a DeviceError for the first recorded dispatch with more workgroups in a dimension than allowed. */
export function checkDispatches(limit: number, dispatches: Iterable<Pick<Dispatch, 'label' | 'workgroups'>>): void {
  for (const d of dispatches) {
    const axis = d.workgroups.findIndex((n) => n > limit);
    if (axis >= 0) {
      throw new DeviceError(
        `kernel ${d.label} needs ${d.workgroups.join(' × ')} workgroups, more than this adapter's maxComputeWorkgroupsPerDimension of ${limit} in ${'xyz'[axis]}: use a smaller batch size or layer`,
      );
    }
  }
}
