import type { Page } from 'playwright-core';
import type { BrowserSession } from './browser.ts';
import { ProgressPrinter } from './progress.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { RunResult } from '../src/train/result.ts';
import type { EvaluationResult } from '../src/train/result.ts';
import type { RunnerOptions, RunnerFailure } from './runner.ts';
import { UsageError } from './args.ts';

/** Pages whose progress callbacks are exposed (once per page: a reopened session needs its own). */
const bound = new WeakSet<object>();

/** What Node adds to a run: checkpoint bytes to keep, and the final model when asked for. */
export interface FileOptions {
  resume?: { bytes: Uint8Array; file: string };
  checkpointEvery?: number;
  /** Called with each checkpoint (awaited before training goes on). */
  onCheckpoint?(bytes: Uint8Array, epoch: number): void;
  save?: boolean;
  destroyDeviceAfterSteps?: number;
  stallAfterChunks?: number;
  /** The kernels the run asks for (`--kernels`); auto when absent. */
  kernels?: KernelChoice;
}

/**
 * How long the page may say nothing (no progress, epoch or checkpoint) before a command gives up on it:
 * room for SwiftShader to compile a CNN's pipelines and to evaluate the test set on a busy machine.
 */
const PAGE_SILENCE_S = Number(process.env.WGSL_NN_PAGE_TIMEOUT_S ?? 180);

/** Rejects when the page crashes or closes, or says nothing for PAGE_SILENCE_S; `heard` restarts the clock. */
class PageWatch {
  readonly failed: Promise<never>;
  private fail!: (error: Error) => void;
  private timer: NodeJS.Timeout | undefined;
  private last = 'nothing yet';
  private readonly onCrash = () => this.fail(new Error('the browser page crashed'));
  private readonly onClose = () => this.fail(new Error('the browser page closed'));

  constructor(private readonly page: Page) {
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    // Nobody may await `failed` once the work is done; its rejection then means nothing.
    this.failed.catch(() => undefined);
    page.on('crash', this.onCrash);
    page.on('close', this.onClose);
    this.heard('nothing yet');
  }

  heard(what: string): void {
    this.last = what;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fail(new Error(`the page stopped answering: nothing from it for ${PAGE_SILENCE_S} s (last heard: ${this.last}); WGSL_NN_PAGE_TIMEOUT_S=SECONDS waits longer`)), PAGE_SILENCE_S * 1000);
  }

  /** `work`'s outcome, or the page's failure if that comes first. */
  async race<T>(work: Promise<T>): Promise<T> {
    // Given up on, `work` rejects when the browser closes: expected, not an unhandled rejection.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, this.failed]);
    } finally {
      clearTimeout(this.timer);
      this.page.off('crash', this.onCrash);
      this.page.off('close', this.onClose);
    }
  }
}

/** A run's result, with the final model's safetensors bytes when `save` was asked (or why not). */
export type ConfigRun = RunResult & { saved?: Uint8Array; notSaved?: string };

/** Trains `config` in the session's page, printing progress; rejects with the page's error message. */
export async function runConfig(session: BrowserSession, config: TrainConfig, printer = new ProgressPrinter(), files: FileOptions = {}): Promise<ConfigRun> {
  const { page } = session;
  if (!bound.has(page)) {
    bound.add(page);
    await page.exposeFunction('wgslnnProgress', (p: Parameters<ProgressPrinter['progress']>[0]) => {
      currentWatch?.heard(`epoch ${p.epoch}, step ${p.step} of ${p.steps}`);
      current?.progress(p);
    });
    await page.exposeFunction('wgslnnEpoch', (e: Parameters<ProgressPrinter['epoch']>[0]) => {
      currentWatch?.heard(`the end of epoch ${e.epoch}`);
      current?.epoch(e, currentEpochs);
    });
    await page.exposeFunction('wgslnnCheckpoint', (checkpoint: string, epoch: number) => {
      currentWatch?.heard(`the checkpoint of epoch ${epoch}`);
      currentCheckpoint?.(Buffer.from(checkpoint, 'base64'), epoch);
    });
  }
  const watch = new PageWatch(page);
  currentWatch = watch;
  current = printer;
  currentEpochs = config.epochs;
  currentCheckpoint = files.onCheckpoint ?? null;
  const options: RunnerOptions = {
    checkpointEvery: files.checkpointEvery ?? 0,
    save: files.save ?? false,
    ...(files.resume ? { resume: Buffer.from(files.resume.bytes).toString('base64'), resumeFile: files.resume.file } : {}),
    ...(files.destroyDeviceAfterSteps ? { destroyDeviceAfterSteps: files.destroyDeviceAfterSteps } : {}),
    ...(files.stallAfterChunks ? { stallAfterChunks: files.stallAfterChunks } : {}),
    ...(files.kernels ? { kernels: files.kernels } : {}),
  };
  let result;
  try {
    result = await watch.race(page.evaluate(([c, o]) => window.wgslnn.train(c, o), [config, options] as const));
  } finally {
    current = null;
    currentCheckpoint = null;
    currentWatch = null;
  }
  throwFailure(result);
  const { saved, ...rest } = result as Exclude<typeof result, RunnerFailure>;
  return { ...rest, ...(saved ? { saved: Buffer.from(saved, 'base64') } : {}) };
}

/** Evaluates a checkpoint's model on the test set in the session's page. */
export async function evaluateInPage(session: BrowserSession, bytes: Uint8Array, file: string, kernels: KernelChoice = 'auto'): Promise<EvaluationResult> {
  const watch = new PageWatch(session.page);
  const result = await watch.race(session.page.evaluate(([b, f, k]) => window.wgslnn.evaluate(b, f, k), [Buffer.from(bytes).toString('base64'), file, kernels] as const));
  throwFailure(result);
  return result as EvaluationResult;
}

/** Refusals of the input (config, shapes, files, what the adapter can hold) are the user's to fix: exit 2. Anything else is a failure of the run. */
function throwFailure(result: object): void {
  if (!('error' in result)) return;
  const failure = result as RunnerFailure;
  if (['ConfigError', 'ShapeError', 'CheckpointError', 'DeviceError'].includes(failure.kind)) throw new UsageError(failure.error);
  throw new Error(failure.error);
}

let current: ProgressPrinter | null = null;
let currentEpochs = 0;
let currentCheckpoint: ((bytes: Uint8Array, epoch: number) => void) | null = null;
let currentWatch: PageWatch | null = null;
