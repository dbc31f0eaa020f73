import { denseForward } from '../../src/layers/dense.ts';
import { GpuTimer, type KernelTime } from '../../src/gpu/timer.ts';
import { empty, randomArray, storage, testGpu } from './util.ts';

export interface TimerCheck {
  available: boolean;
  inPasses: boolean;
  /** Per label, over two read() rounds. */
  rounds: Array<Record<string, KernelTime>>;
}

/**
 * Times a big dense forward (1000×784→128), a small one (8 rows) and the big one again, read back twice
 * with the same timer, in one pass with timestamps between dispatches (`inPasses`, where the device can)
 * or a pass each.
 */
export async function timeTwoKernels(inPasses: boolean): Promise<TimerCheck> {
  const gpu = await testGpu();
  const inF = 784;
  const outF = 128;
  const shared = { inFeatures: inF, outFeatures: outF, weight: storage(gpu, 'w', randomArray(outF * inF, 2)), bias: storage(gpu, 'b', randomArray(outF, 3)) };
  const buffers = [shared.weight, shared.bias];
  const forward = (rows: number, label: string) => {
    const x = storage(gpu, 'x', randomArray(rows * inF, 1));
    const y = empty(gpu, 'y', rows * outF);
    buffers.push(x, y);
    // The product itself: on a GPU a second dispatch may follow to add split sums (shaders/dense_splits.wgsl).
    return { ...denseForward(gpu, { ...shared, rows, x, y })[0]!, label };
  };
  const dispatches = [forward(1000, 'big'), forward(8, 'small'), forward(1000, 'big')];
  const timer = new GpuTimer(gpu, dispatches.length, { inPasses });
  const rounds: Array<Record<string, KernelTime>> = [];
  try {
    for (let round = 0; round < 2; round++) {
      const encoder = gpu.device.createCommandEncoder();
      timer.encodeTimed(encoder, dispatches);
      gpu.device.queue.submit([encoder.finish()]);
      rounds.push(await timer.read());
    }
    return { available: timer.available, inPasses: timer.inPasses, rounds };
  } finally {
    timer.destroy();
    for (const buffer of buffers) gpu.buffers.release(buffer);
  }
}
