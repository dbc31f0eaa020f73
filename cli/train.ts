/**
 * `npm run train -- [options]`: trains one network on MNIST in headless Chromium (WebGPU), prints a
 * line per epoch and the test report, and writes the result JSON. Bad input exits 2 with one line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseTrainArgs, usage, UsageError } from './args.ts';
import { openSession } from './browser.ts';
import { runConfig } from './run-config.ts';
import { classificationReport, formatReport } from '../src/metrics/report.ts';
import { readFromDisk } from '../src/data/mnist-node.ts';
import { MNIST_FILES } from '../src/data/mnist.ts';
import { parseIdxLabels } from '../src/data/idx.ts';
import { planSplits } from '../src/train/trainer.ts';
import { ConfigError } from '../src/errors.ts';

async function main(): Promise<number> {
  const command = parseTrainArgs(process.argv.slice(2));
  if (command.help) {
    console.log(usage());
    return 0;
  }
  const { config } = command;
  // Refuse a batch larger than the training split here, before starting a browser.
  try {
    const labels = await readFromDisk()(MNIST_FILES.trainLabels);
    planSplits(parseIdxLabels(MNIST_FILES.trainLabels, labels), config);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  const out = command.out ?? `results/${config.preset}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const session = await openSession('cli/runner.html');
  try {
    console.log(`training ${config.preset} (${config.layers.length} layers) on ${config.distribution} MNIST, ${config.epochs} epochs, batch ${config.batchSize}`);
    const result = await runConfig(session, config);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2));
    if (result.test.perClass.length > 0) {
      console.log(`\ntest: loss ${result.test.loss.toFixed(4)}  accuracy ${(result.test.accuracy * 100).toFixed(2)}%  (best epoch ${result.bestEpoch}${result.stoppedEarly ? ', stopped early' : ''})`);
      console.log(formatReport(classificationReport(result.test.confusion)));
    }
    console.log(`${result.throughput.msPerStep.toFixed(1)} ms/step, ${Math.round(result.throughput.trainSamplesPerSecond)} samples/s on ${result.adapter.vendor} ${result.adapter.architecture}`);
    console.log(`wrote ${out}`);
    if (result.interrupted) {
      console.error(`interrupted: ${result.interrupted}`);
      return 1;
    }
    return 0;
  } finally {
    await session.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(`error: ${error.message}`);
    process.exit(1);
  },
);
