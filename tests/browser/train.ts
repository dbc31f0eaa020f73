/** Browser side of the training tests: MNIST and the device are loaded once per page. */
import { fetchFromServer, loadMnist, type Mnist } from '../../src/data/mnist.ts';
import type { KernelChoice } from '../../src/gpu/target.ts';
import { presetConfig } from '../../src/presets/index.ts';
import type { TrainConfig } from '../../src/train/config.ts';
import { uploadMnist, type DeviceData } from '../../src/engine/device-data.ts';
import type { RunResult } from '../../src/train/result.ts';
import { train } from '../../src/train/trainer.ts';
import { testGpu } from './util.ts';

let data: Promise<{ mnist: Mnist; device: DeviceData }> | null = null;

async function mnistOnGpu() {
  data ??= (async () => {
    const gpu = await testGpu();
    const mnist = await loadMnist(fetchFromServer('/mnist/'));
    return { mnist, device: uploadMnist(gpu, mnist) };
  })();
  return data;
}

/** Trains `preset` with `overrides` under `kernels` and returns the JSON result plus live-buffer counts per epoch. */
export async function trainPreset(preset: string, overrides: Partial<TrainConfig>, kernels: KernelChoice = 'auto'): Promise<RunResult & { liveBuffers: number[] }> {
  const gpu = (await testGpu()).withTarget(kernels);
  const { mnist, device } = await mnistOnGpu();
  const liveBuffers: number[] = [];
  const outcome = await train(gpu, device, mnist, presetConfig(preset, overrides), {
    onEpoch: () => liveBuffers.push(gpu.buffers.stats().buffers),
  });
  outcome.release();
  return { ...outcome.result, liveBuffers };
}
