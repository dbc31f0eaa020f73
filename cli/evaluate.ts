/**
 * `npm run evaluate -- --load FILE [--out FILE]`: evaluates a saved model (`npm run train -- --save`,
 * a training checkpoint, or the demo's Save) on the 10,000 test images in headless Chromium, prints the
 * classification report and writes JSON whose `test` has the same fields as `npm run train`'s.
 */
import { readFileSync } from 'node:fs';
import { describeKernels, HELP_OPTION, kernelsOption, optionsHelp, parseKernels, readOptions, UsageError, runMain } from './args.ts';
import { prepareOutputFile, writeOrKeep } from './output.ts';
import { evaluateInPage } from './run-config.ts';
import { classificationReport, formatReport } from '../src/metrics/report.ts';
import { readCheckpoint } from '../src/train/checkpoint.ts';
import { CheckpointError } from '../src/errors.ts';

const OPTIONS = {
  load: { kind: 'string' as const, help: 'the .safetensors model to evaluate (required)' },
  out: { kind: 'string' as const, help: 'result JSON file (default results/eval-<preset>-<time>.json)' },
  kernels: kernelsOption(),
  help: HELP_OPTION,
};

function usage(): string {
  return optionsHelp('usage: npm run evaluate -- --load FILE [--out FILE] [--kernels auto|plain|gpu|cpu]', OPTIONS, 26);
}

async function main(): Promise<number> {
  const o = readOptions(process.argv.slice(2), OPTIONS);
  if (o.has('help')) {
    console.log(usage());
    return 0;
  }
  const kernels = parseKernels(o.get('kernels'));
  const file = o.get('load');
  if (!file) throw new UsageError('--load FILE is required: the .safetensors model to evaluate');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UsageError(`--load ${file}: could not read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let preset: string;
  try {
    preset = readCheckpoint(bytes, file).config.preset;
  } catch (error) {
    if (error instanceof CheckpointError) throw new UsageError(error.message);
    throw error;
  }
  const out = o.get('out') ?? `results/eval-${preset}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  prepareOutputFile('out', out);
  // Playwright and Vite load only now: a refused option or file exits without waiting for them.
  const { openSession } = await import('./browser.ts');
  const session = await openSession('cli/runner.html');
  try {
    const result = await evaluateInPage(session, bytes, file, kernels);
    const written = writeOrKeep(out, JSON.stringify({ ...result, checkpoint: file }, null, 2));
    console.log(`test: loss ${result.test.loss.toFixed(4)}  accuracy ${(result.test.accuracy * 100).toFixed(2)}%  (${file}, ${result.preset}, ${describeKernels(result.kernels)})`);
    console.log(formatReport(classificationReport(result.test.confusion)));
    if (written.failure) {
      console.error(`${written.failure}: the result is in ${written.written}`);
      return 1;
    }
    console.log(`wrote ${out}`);
    return 0;
  } finally {
    await session.close();
  }
}

runMain(main);
