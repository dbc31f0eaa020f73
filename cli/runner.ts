/**
 * The browser half of the headless commands: loads MNIST and the GPU once per page, then trains
 * whatever config Node hands it, reporting progress through functions Node exposes on `window`.
 */
import { Gpu } from '../src/gpu/gpu.ts';
import { fetchFromServer, loadMnist, type Mnist } from '../src/data/mnist.ts';
import { uploadMnist, type DeviceData } from '../src/train/device-data.ts';
import { train, type Progress } from '../src/train/trainer.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { EpochRecord, RunResult } from '../src/train/result.ts';
import { WgslNnError } from '../src/errors.ts';

declare global {
  interface Window {
    wgslnn: { train(config: TrainConfig): Promise<RunResult | { error: string; kind: string }> };
    wgslnnProgress?(progress: Progress): void;
    wgslnnEpoch?(record: EpochRecord): void;
  }
}

let ready: Promise<{ gpu: Gpu; mnist: Mnist; data: DeviceData }> | null = null;

async function setup() {
  const gpu = await Gpu.create();
  const mnist = await loadMnist(fetchFromServer('/mnist/'));
  return { gpu, mnist, data: uploadMnist(gpu, mnist) };
}

window.wgslnn = {
  async train(config) {
    try {
      ready ??= setup();
      const { gpu, mnist, data } = await ready;
      const outcome = await train(gpu, data, mnist, config, {
        onProgress: (p) => window.wgslnnProgress?.(p),
        onEpoch: (e) => window.wgslnnEpoch?.(e),
      });
      outcome.release();
      return outcome.result;
    } catch (error) {
      const e = error as Error;
      return { error: e.message, kind: error instanceof WgslNnError ? e.name : 'Error' };
    }
  },
};
