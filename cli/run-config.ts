import type { BrowserSession } from './browser.ts';
import { ProgressPrinter } from './progress.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { RunResult } from '../src/train/result.ts';
import { UsageError } from './args.ts';

let bound = false;

/** Trains `config` in the session's page, printing progress; rejects with the page's error message. */
export async function runConfig(session: BrowserSession, config: TrainConfig, printer = new ProgressPrinter()): Promise<RunResult> {
  const { page } = session;
  if (!bound) {
    bound = true;
    await page.exposeFunction('wgslnnProgress', (p: Parameters<ProgressPrinter['progress']>[0]) => current?.progress(p));
    await page.exposeFunction('wgslnnEpoch', (e: Parameters<ProgressPrinter['epoch']>[0]) => current?.epoch(e, currentEpochs));
  }
  current = printer;
  currentEpochs = config.epochs;
  const result = await page.evaluate((c) => window.wgslnn.train(c), config);
  current = null;
  if ('error' in result) {
    // Config and shape errors are the user's to fix (exit 2); anything else is a failure of the run.
    if (result.kind === 'ConfigError' || result.kind === 'ShapeError') throw new UsageError(result.error);
    throw new Error(result.error);
  }
  return result;
}

let current: ProgressPrinter | null = null;
let currentEpochs = 0;
