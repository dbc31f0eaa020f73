/**
 * `npm run train -- [options]`: trains one network on MNIST in headless Chromium (WebGPU), prints a
 * line per epoch and the test report, and writes the result JSON. Bad input exits 2 with one line; a
 * run cut short (device lost, non-finite loss) writes its partial JSON marked `interrupted` and exits 1.
 * `--save FILE` writes the model, `--checkpoint-every N` resumable checkpoints, `--resume FILE` continues one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeKernels, parseTrainArgs, usage, UsageError, runMain } from './args.ts';
import { openSession } from './browser.ts';
import { runConfig, type FileOptions } from './run-config.ts';
import { classificationReport, formatReport } from '../src/metrics/report.ts';
import { readFromDisk } from '../src/data/mnist-node.ts';
import { MNIST_FILES } from '../src/data/mnist.ts';
import { parseIdxLabels } from '../src/data/idx.ts';
import { planSplits } from '../src/train/trainer.ts';
import { readCheckpoint } from '../src/train/checkpoint.ts';
import type { TrainConfig } from '../src/train/config.ts';
import { CheckpointError, ConfigError } from '../src/errors.ts';

/** Test-only: destroy the GPU device after this many training steps (tests/reliability-cli.spec.ts). */
const DESTROY_AFTER = Number(process.env.WGSL_NN_TEST_DESTROY_AFTER_STEPS ?? 0);

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
  if (command.checkpointEvery > 0) files.onCheckpoint = (bytes, epoch) => {
    writeAtomically(checkpointFile, bytes);
    console.log(`checkpoint after epoch ${epoch}: ${checkpointFile}`);
  };
  if (DESTROY_AFTER > 0) files.destroyDeviceAfterSteps = DESTROY_AFTER;

  const session = await openSession('cli/runner.html');
  try {
    const resumed = files.resume ? ` (resuming ${files.resume.file})` : '';
    const output = config.outputActivation === 'none' ? 'logits' : `${config.outputActivation} output`;
    console.log(`training ${config.preset} (${config.layers.length} layers, ${output}) on ${config.distribution} MNIST, ${config.epochs} epochs, batch ${config.batchSize}${resumed}`);
    const { saved, notSaved, ...result } = await runConfig(session, config, undefined, files);
    writeAtomically(out, JSON.stringify(result, null, 2));
    if (result.test.perClass.length > 0) {
      console.log(`\ntest: loss ${result.test.loss.toFixed(4)}  accuracy ${(result.test.accuracy * 100).toFixed(2)}%  (best epoch ${result.bestEpoch}${result.stoppedEarly ? ', stopped early' : ''})`);
      console.log(formatReport(classificationReport(result.test.confusion)));
    }
    console.log(`${result.throughput.msPerStep.toFixed(1)} ms/step, ${Math.round(result.throughput.trainSamplesPerSecond)} samples/s on ${result.adapter.vendor} ${result.adapter.architecture}, ${describeKernels(result.kernels)}`);
    console.log(`wrote ${out}`);
    if (command.save) {
      if (saved) {
        writeAtomically(command.save, saved);
        console.log(`saved the model to ${command.save}`);
      } else {
        console.error(`not saved to ${command.save}: ${notSaved ?? 'no model'}`);
      }
    }
    if (result.interrupted) {
      console.error(`interrupted: ${result.interrupted}`);
      return 1;
    }
    return 0;
  } finally {
    await session.close();
  }
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

/** Writes to FILE.tmp then renames, so an interrupted write never leaves half a file behind. */
function writeAtomically(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
}

runMain(main);
