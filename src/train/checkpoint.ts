/**
 * Checkpoints: a model as a `.safetensors` file that PyTorch can read (`safetensors.torch.load_file`),
 * every parameter and running statistic under Sequential's names (`0.weight`, `1.running_mean`), with
 * the architecture and the training config in `__metadata__` (JSON-encoded strings). A checkpoint
 * written during training also carries what a resumed run needs: the optimizer's moments
 * (`optimizer.exp_avg.0.weight` …, PyTorch's state names), the best epoch's weights (`best.0.weight` …)
 * and the loop's counters in `__metadata__.training`.
 *
 * Loading validates everything — format, architecture, every tensor's presence and shape — before
 * writing anything, so a refused file leaves the model as it was. No node: imports (the demo uses it).
 */
import { check, CheckpointError, ConfigError } from '../errors.ts';
import type { Sequential } from '../graph/sequential.ts';
import type { LayerSpec } from '../graph/spec.ts';
import { buildLayers } from '../layers/build.ts';
import type { TrainConfig } from './config.ts';
import type { EpochRecord } from './result.ts';
import type { Run } from './run.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.ts';
import { validateConfig } from './validate.ts';

export { decodeSafetensors, encodeSafetensors, type NamedTensor, type Safetensors } from './safetensors.ts';

export const CHECKPOINT_FORMAT = 'wgsl-nn/1';

/** PyTorch's names for the optimizer state in each moment arena. */
const MOMENT_NAMES = { adam: ['exp_avg', 'exp_avg_sq'], sgd: ['momentum_buffer'] } as const;

/** What the training loop had reached when a checkpoint was written: enough to continue bit for bit. */
export interface TrainingState {
  /** Epochs finished (the next one to run is epoch + 1). */
  epoch: number;
  /** Optimizer steps taken (Adam's t; the dropout seed of step t is derived from it). */
  optimizerStep: number;
  history: EpochRecord[];
  bestEpoch: number;
  /** Early stopping's best monitored score (lower is better); null before the first epoch. */
  bestScore: number | null;
  sinceBest: number;
  trainMs: number;
  trainSamples: number;
}

/** The architecture as stored: enough to rebuild the model without the rest of the config. */
export interface Architecture {
  inputShape: number[];
  layers: LayerSpec[];
}

export interface Checkpoint {
  config: TrainConfig;
  architecture: Architecture;
  /** Model tensors only (parameters and running statistics). */
  tensors: Map<string, NamedTensor>;
  /** Present in checkpoints written during training (`--checkpoint-every`). */
  training: TrainingState | null;
  /** Optimizer moments (`optimizer.*`) and best weights (`best.*`), when `training` is present. */
  trainingTensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

/** Prefixes of tensors that are not the model's own. */
const TRAINING_PREFIXES = ['optimizer.', 'best.'];

/** Encodes a model (already read back) and its config; `training` adds the resume state. */
export function encodeCheckpoint(
  model: Map<string, NamedTensor>,
  config: TrainConfig,
  training?: { state: TrainingState; tensors: Map<string, NamedTensor> },
  extra: Record<string, string> = {},
): Uint8Array {
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    preset: config.preset,
    architecture: JSON.stringify({ inputShape: config.inputShape, layers: config.layers } satisfies Architecture),
    config: JSON.stringify(config),
    ...extra,
  };
  const tensors = new Map(model);
  if (training) {
    metadata.training = JSON.stringify(training.state);
    for (const [name, t] of training.tensors) tensors.set(name, t);
  }
  return encodeSafetensors(tensors, metadata);
}

/** Reads the model's arenas back and encodes them (no training state): what `--save` and the demo write. */
export async function saveCheckpoint(model: Sequential, config: TrainConfig, extra: Record<string, string> = {}): Promise<Uint8Array> {
  return encodeCheckpoint(await model.exportTensors(), config, undefined, extra);
}

/** Decodes and checks a checkpoint file on its own (format, metadata, config); no model involved. */
export function readCheckpoint(bytes: Uint8Array, file = 'checkpoint'): Checkpoint {
  const { tensors: all, metadata } = decodeSafetensors(bytes, file);
  const fail = (why: string): never => {
    throw new CheckpointError(`${file}: ${why}`);
  };
  if (metadata.format !== CHECKPOINT_FORMAT) fail(`__metadata__.format is ${JSON.stringify(metadata.format)}, not ${JSON.stringify(CHECKPOINT_FORMAT)}: not a wgsl-nn checkpoint (it needs the architecture and config)`);
  const config = parseJson<TrainConfig>(metadata.config, '__metadata__.config', fail);
  try {
    validateConfig(config);
  } catch (error) {
    fail(`__metadata__.config is not a valid training config: ${(error as Error).message}`);
  }
  const architecture = parseJson<Architecture>(metadata.architecture, '__metadata__.architecture', fail);
  if (JSON.stringify(architecture.layers) !== JSON.stringify(config.layers) || JSON.stringify(architecture.inputShape) !== JSON.stringify(config.inputShape)) {
    fail('__metadata__.architecture does not match the layers of __metadata__.config');
  }
  const training = metadata.training === undefined ? null : parseJson<TrainingState>(metadata.training, '__metadata__.training', fail);
  if (training && !(Number.isInteger(training.epoch) && training.epoch >= 0 && Array.isArray(training.history) && training.history.length === training.epoch)) {
    fail(`__metadata__.training is inconsistent (epoch ${training.epoch}, ${training.history?.length} history records)`);
  }
  const tensors = new Map<string, NamedTensor>();
  const trainingTensors = new Map<string, NamedTensor>();
  for (const [name, t] of all) (TRAINING_PREFIXES.some((p) => name.startsWith(p)) ? trainingTensors : tensors).set(name, t);
  return { config, architecture, tensors, training, trainingTensors, metadata };
}

/**
 * Loads a checkpoint into `model`: the architecture must be the model's (layer by layer), and every
 * tensor the model has must be in the file with the same shape (and no other model tensor). Nothing
 * is written unless everything checks out. Returns what was read, for a resumed run.
 */
export function loadCheckpoint(model: Sequential, bytes: Uint8Array, file = 'checkpoint'): Checkpoint {
  const checkpoint = readCheckpoint(bytes, file);
  checkCheckpoint(model, checkpoint, file);
  applyCheckpoint(model, checkpoint);
  return checkpoint;
}

/** The checks of loadCheckpoint without the writes (a resumed run checks its own tensors too before writing). */
export function checkCheckpoint(model: Sequential, checkpoint: Checkpoint, file = 'checkpoint'): void {
  checkArchitecture(model, checkpoint.architecture, file);
  checkTensors(expectedTensors(model), checkpoint.tensors, file, 'model');
}

/** Writes a checked checkpoint's model tensors into the model's arenas. */
export function applyCheckpoint(model: Sequential, checkpoint: Checkpoint): void {
  model.importTensors(new Map([...checkpoint.tensors].map(([name, t]) => [name, t.data])));
}

/** Every tensor name and shape the model holds, in arena order. */
export function expectedTensors(model: Sequential): Map<string, number[]> {
  return new Map([...model.paramEntries, ...model.stateEntries].map((e) => [e.name, [...e.spec.shape]]));
}

/** Missing, unexpected and wrong-shaped tensors, each named with both shapes; throws before any write. */
function checkTensors(expected: Map<string, number[]>, found: Map<string, NamedTensor>, file: string, what: string): void {
  for (const [name, shape] of expected) {
    const t = found.get(name);
    if (!t) throw new CheckpointError(`${file}: tensor ${name} is missing (the ${what} needs shape [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(`${file}: tensor ${name} has shape [${t.shape.join(', ')}] but the ${what} needs [${shape.join(', ')}]`);
    }
  }
  for (const [name, t] of found) {
    if (!expected.has(name)) throw new CheckpointError(`${file}: tensor ${name} [${t.shape.join(', ')}] is not in the ${what} (its tensors: ${[...expected.keys()].join(', ')})`);
  }
}

function checkArchitecture(model: Sequential, architecture: Architecture, file: string): void {
  const mismatch = (why: string): never => {
    throw new CheckpointError(`${file}: architecture does not match: ${why}`);
  };
  if (architecture.inputShape.join('×') !== model.inputShape.join('×')) mismatch(`the file's input is ${architecture.inputShape.join('×')}, the model's ${model.inputShape.join('×')}`);
  const fileLayers = buildLayers(architecture.layers).map((layer) => layer.describe());
  const modelLayers = model.layers.map((layer) => layer.describe());
  const at = fileLayers.findIndex((d, i) => d !== modelLayers[i]);
  if (at >= 0 || fileLayers.length !== modelLayers.length) {
    const i = at >= 0 ? at : Math.min(fileLayers.length, modelLayers.length);
    mismatch(`layer ${i} is ${fileLayers[i] ?? '(none)'} in the file and ${modelLayers[i] ?? '(none)'} in the model (file: ${fileLayers.join(' → ')}; model: ${modelLayers.join(' → ')})`);
  }
}

function parseJson<T>(text: string | undefined, field: string, fail: (why: string) => never): T {
  if (text === undefined) fail(`${field} is missing`);
  try {
    return JSON.parse(text!) as T;
  } catch (error) {
    return fail(`${field} is not JSON (${(error as Error).message})`);
  }
}

/** Splits a flat arena read back from the GPU into named tensors (`prefix` + entry name). */
function arenaTensors(arena: Float32Array, entries: Sequential['paramEntries'], prefix: string): Map<string, NamedTensor> {
  return new Map(entries.map((e) => [prefix + e.name, { shape: [...e.spec.shape], data: arena.slice(e.offset, e.offset + e.size) }]));
}

/** The inverse of arenaTensors: a flat arena (padding zero) from named tensors already checked. */
function tensorsArena(tensors: Map<string, NamedTensor>, entries: Sequential['paramEntries'], prefix: string, floats: number): Float32Array<ArrayBuffer> {
  const arena = new Float32Array(Math.max(1, floats));
  for (const e of entries) arena.set(tensors.get(prefix + e.name)!.data, e.offset);
  return arena;
}

/** A resumed run is the same run: every config field but epochs (to extend it) and logEvery must match. */
export function checkResumeConfig(checkpoint: Checkpoint, config: TrainConfig, file: string): void {
  if (!checkpoint.training) {
    throw new CheckpointError(`${file}: has no training state (it holds a finished model, as --save writes): only a checkpoint written during training (--checkpoint-every) can be resumed; evaluate this one instead`);
  }
  const saved = checkpoint.config as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (key === 'epochs' || key === 'logEvery') continue;
    if (JSON.stringify(value) !== JSON.stringify(saved[key])) {
      throw new ConfigError(`${key} ${JSON.stringify(value)} is not allowed when resuming ${file}: a resumed run keeps the checkpoint's ${JSON.stringify(saved[key])} (only epochs may change)`);
    }
  }
  check(config.epochs >= checkpoint.training.epoch, 'epochs', config.epochs, `at least the ${checkpoint.training.epoch} epochs ${file} has already trained`);
}

/** Continues a checkpointed run: weights, optimizer moments, best weights and the loop's counters; all checked before any write. */
export function resumeRun(run: Run, checkpoint: Checkpoint, file: string): void {
  const { model } = run;
  checkCheckpoint(model, checkpoint, file);
  const moments = run.program.buffers.moments;
  const names = MOMENT_NAMES[run.config.optimizer].slice(0, moments.length);
  const expected = new Map<string, number[]>();
  for (const name of names) for (const e of model.paramEntries) expected.set(`optimizer.${name}.${e.name}`, [...e.spec.shape]);
  for (const e of [...model.paramEntries, ...model.stateEntries]) expected.set(`best.${e.name}`, [...e.spec.shape]);
  checkTensors(expected, checkpoint.trainingTensors, file, 'resumed run');

  applyCheckpoint(model, checkpoint);
  const queue = run.gpu.device.queue;
  names.forEach((name, i) => queue.writeBuffer(moments[i]!, 0, tensorsArena(checkpoint.trainingTensors, model.paramEntries, `optimizer.${name}.`, model.paramFloats)));
  queue.writeBuffer(run.best.params, 0, tensorsArena(checkpoint.trainingTensors, model.paramEntries, 'best.', model.paramFloats));
  if (model.stateFloats > 0) queue.writeBuffer(run.best.state, 0, tensorsArena(checkpoint.trainingTensors, model.stateEntries, 'best.', model.stateFloats));
  Object.assign(run.loop, structuredClone(checkpoint.training!));
}

/** The run as a resumable checkpoint: the model, the optimizer's moments, the best weights and the loop's counters. */
export async function exportRun(run: Run): Promise<Uint8Array> {
  const { model } = run;
  const tensors = new Map<string, NamedTensor>();
  const add = (more: Map<string, NamedTensor>) => more.forEach((t, name) => tensors.set(name, t));
  const read = async (buffer: GPUBuffer, floats: number) => new Float32Array(await run.gpu.read(buffer, floats * 4));
  const names = MOMENT_NAMES[run.config.optimizer];
  const moments = run.program.buffers.moments;
  for (let i = 0; i < moments.length; i++) add(arenaTensors(await read(moments[i]!, model.paramFloats), model.paramEntries, `optimizer.${names[i]}.`));
  add(arenaTensors(await read(run.best.params, model.paramFloats), model.paramEntries, 'best.'));
  if (model.stateFloats > 0) add(arenaTensors(await read(run.best.state, model.stateFloats), model.stateEntries, 'best.'));
  return encodeCheckpoint(await model.exportTensors(), run.config, { state: structuredClone(run.loop), tensors });
}
