/**
 * `npm run train -- [options]`: trains one network on MNIST in headless Chromium (WebGPU), prints a
 * line per epoch and the test report, and writes the result JSON. Bad input exits 2 with one line; a
 * run cut short (device lost, non-finite loss) writes its partial JSON marked `interrupted` and exits 1.
 * `--save FILE` writes the model, `--checkpoint-every N` resumable checkpoints, `--resume FILE` continues one.
 */
import { readFileSync } from 'node:fs';
import { describeKernels, parseTrainArgs, usage, UsageError, runMain } from './args.ts';
import { prepareOutputFile, writeAtomically, writeOrKeep } from './output.ts';
import { runConfig, type FileOptions } from './run-config.ts';
import { classificationReport, formatReport } from '../src/metrics/report.ts';
import { readFromDisk } from '../src/data/mnist-node.ts';
import { MNIST_FILES } from '../src/data/mnist.ts';
import { parseIdxLabels } from '../src/data/idx.ts';
import { planSplits } from '../src/train/trainer.ts';
import { readCheckpoint } from '../src/train/checkpoint.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { Throughput } from '../src/train/result.ts';
import { CheckpointError, ConfigError } from '../src/errors.ts';

/** Test-only: destroy the GPU device after this many training steps (tests/reliability-cli.spec.ts). */
const DESTROY_AFTER = Number(process.env.WGSL_NN_TEST_DESTROY_AFTER_STEPS ?? 0);
/** Test-only: the page stops answering after this many chunks of training steps (tests/cli.spec.ts). */
const STALL_AFTER_CHUNKS = Number(process.env.WGSL_NN_TEST_STALL_AFTER_CHUNKS ?? 0);

async function main(): Promise<number> {
  const command = parseTrainArgs(process.argv.slice(2));
  if (command.help) {
    console.log(usage());
    return 0;
  }
  const files: FileOptions = { checkpointEvery: command.checkpointEvery, save: command.save !== null, kernels: command.kernels };
  let config = command.config;
  if (command.resume) {
    const resume = readResume(command.resume);
    files.resume = { bytes: resume.bytes, file: command.resume };
    config = { ...resume.config, epochs: command.given.includes('epochs') ? command.config.epochs : resume.config.epochs };
    if (command.given.includes('log-every')) config.logEvery = command.config.logEvery;
    if (config.epochs < resume.epoch) throw new UsageError(`--epochs ${config.epochs} is not allowed: ${command.resume} has already trained ${resume.epoch} epochs`);
  }
  // Refuse a batch larger than the training split here, before starting a browser.
  try {
    const labels = await readFromDisk()(MNIST_FILES.trainLabels);
    planSplits(parseIdxLabels(MNIST_FILES.trainLabels, labels), config);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CheckpointError) throw new UsageError(error.message);
    throw error;
  }
  const out = command.out ?? `results/${config.preset}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const checkpointFile = command.checkpoint ?? `${out.replace(/\.json$/, '')}.checkpoint.safetensors`;
  // Every file the run will write, before the browser starts: a result must not be lost to a bad path.
  prepareOutputFile('out', out);
  if (command.save) prepareOutputFile('save', command.save);
  if (command.checkpointEvery > 0) prepareOutputFile('checkpoint', checkpointFile);
  if (command.checkpointEvery > 0) files.onCheckpoint = (bytes, epoch) => {
    writeAtomically(checkpointFile, bytes);
    console.log(`checkpoint after epoch ${epoch}: ${checkpointFile}`);
  };
  if (DESTROY_AFTER > 0) files.destroyDeviceAfterSteps = DESTROY_AFTER;
  if (STALL_AFTER_CHUNKS > 0) files.stallAfterChunks = STALL_AFTER_CHUNKS;

  // Playwright and Vite load only now: a refused option or path exits without waiting for them.
  const { openSession } = await import('./browser.ts');
  const session = await openSession('cli/runner.html');
  try {
    const resumed = files.resume ? ` (resuming ${files.resume.file})` : '';
    const output = config.outputActivation === 'none' ? 'logits' : `${config.outputActivation} output`;
    console.log(`training ${config.preset} (${config.layers.length} layers, ${output}) on ${config.distribution} MNIST, ${config.epochs} epochs, batch ${config.batchSize}${resumed}`);
    const { saved, notSaved, ...result } = await runConfig(session, config, undefined, files);
    let failed = false;
    const written = writeOrKeep(out, JSON.stringify(result, null, 2));
    if (written.failure) {
      console.error(`${written.failure}: the result is in ${written.written}`);
      failed = true;
    }
    if (result.test.perClass.length > 0) {
      console.log(`\ntest: loss ${result.test.loss.toFixed(4)}  accuracy ${(result.test.accuracy * 100).toFixed(2)}%  (best epoch ${result.bestEpoch}${result.stoppedEarly ? ', stopped early' : ''})`);
      console.log(formatReport(classificationReport(result.test.confusion)));
    }
    console.log(`${speedLine(result.throughput, `${result.adapter.vendor} ${result.adapter.architecture}`)}, ${describeKernels(result.kernels)}`);
    if (!written.failure) console.log(`wrote ${out}`);
    if (command.save) {
      if (saved) {
        const model = writeOrKeep(command.save, saved);
        if (model.failure) console.error(`${model.failure}: the model is in ${model.written}`);
        else console.log(`saved the model to ${command.save}`);
        failed ||= model.failure !== undefined;
      } else {
        console.error(`not saved to ${command.save}: ${notSaved ?? 'no model'}`);
      }
    }
    if (result.interrupted) {
      console.error(`interrupted: ${result.interrupted}`);
      return 1;
    }
    return failed ? 1 : 0;
  } finally {
    await session.close();
  }
}

/** `step 9.8 ms, 6,531 samples/s (steady, 16 steps); set-up 3.2 s (…)`: the step without its one-off compilation. */
function speedLine(t: Throughput, adapter: string): string {
  const ready = `ready in ${t.compileMs.toFixed(0)} ms (compiling the first step's kernels)`;
  const quick = t.quickSteps > 0
    ? `; steps 1–${t.quickSteps} on the textbook kernels while the fast ones compiled (${t.fastReadyMs === null ? 'not needed before the end' : `ready after ${(t.fastReadyMs / 1000).toFixed(1)} s`})`
    : '';
  const setup = `set-up ${(t.setupMs / 1000).toFixed(1)} s (building the model, compiling its pipelines, the first steps), ${ready}${quick}`;
  if (t.measuredSteps === 0) return `${setup}; too few steps after it to time a step, on ${adapter}`;
  return `step ${t.stepMs.toFixed(1)} ms, ${Math.round(t.samplesPerSecond).toLocaleString('en-US')} samples/s (steady, over ${t.measuredSteps} steps); ${setup}, on ${adapter}`;
}

/** The checkpoint to resume, checked in Node (format, config, training state) before a browser starts. */
function readResume(file: string): { bytes: Uint8Array; config: TrainConfig; epoch: number } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UsageError(`--resume ${file}: could not read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const checkpoint = readCheckpoint(bytes, file);
    if (!checkpoint.training) {
      throw new CheckpointError(`${file}: has no training state (it holds a finished model, as --save writes): only a checkpoint written by --checkpoint-every can be resumed`);
    }
    return { bytes, config: checkpoint.config, epoch: checkpoint.training.epoch };
  } catch (error) {
    if (error instanceof CheckpointError) throw new UsageError(error.message);
    throw error;
  }
}

runMain(main);
