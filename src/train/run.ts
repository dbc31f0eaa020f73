import type { Gpu } from '../gpu/gpu.ts';
import type { Splits } from '../data/split.ts';
import type { Layer } from '../graph/layer.ts';
import { Sequential } from '../graph/sequential.ts';
import type { DeviceData } from '../engine/device-data.ts';
import type { TrainingState } from './checkpoint.ts';
import type { TrainConfig } from './config.ts';
import { StepProgram } from './step-program.ts';

/**
 * What one run is made of: the model, its step program, the best epoch's weights and where the loop
 * stands. The loop (loop.ts), the checkpoint module and the result module each read the part they need.
 */
export class Run {
  readonly model: Sequential;
  readonly program: StepProgram;
  /** The best epoch's parameters and running statistics, kept on the GPU (loop.ts copies them). */
  readonly best: { params: GPUBuffer; state: GPUBuffer };
  /**
   * Where the loop stands: all a checkpoint needs besides the tensors. Shuffles and dropout seeds are
   * functions of (seed, epoch) and (seed, t), so the epoch counter and t are the RNG's position.
   */
  readonly loop: TrainingState = { epoch: 0, optimizerStep: 0, history: [], bestEpoch: 0, bestScore: null, sinceBest: 0, trainMs: 0, trainSamples: 0 };
  /** Every buffer this run created (model, plans' uniforms, scratch), freed by release(). */
  private readonly owned: GPUBuffer[];

  constructor(
    readonly gpu: Gpu,
    readonly data: DeviceData,
    readonly config: TrainConfig,
    readonly splits: Splits,
    layers: readonly Layer[],
    purpose: 'train' | 'evaluate',
  ) {
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    // Everything is allocated before training (plans by record), so the buffer count stays flat while training.
    const stopRecording = gpu.buffers.record();
    // The data set is bytes (images / 255): the gather writes them as they are where the first layer reads bytes.
    this.model = new Sequential(gpu, config.inputShape, layers, config.batchSize, config.seed, { inputFormat: 'u8x4' });
    this.program = new StepProgram(gpu, data, config, splits, this.model, purpose);
    this.best = {
      params: gpu.buffers.create('best.params', this.model.paramFloats * 4, storage),
      state: gpu.buffers.create('best.state', this.model.state.size, storage),
    };
    this.owned = stopRecording();
  }

  /** Records the step program's plans (see StepProgram.record). */
  record(purpose: 'train' | 'evaluate'): Promise<void> {
    return this.program.record(purpose, this.owned);
  }

  release(): void {
    for (const buffer of this.owned) this.gpu.buffers.release(buffer);
  }
}
