/**
 * `npm run reproduce -- [--task 1|2] [--only ID,…] [--distribution study|full] [--quick] [--out DIR] [--force] [--kernels auto|plain|gpu|cpu]`:
 * runs the study's experiments (src/presets/experiments.ts) one after another in one headless browser
 * session, writes `DIR/<id>.json` per experiment, and `DIR/report.md` + `DIR/report.json` comparing
 * every row with the study. Resumable: a row whose file already satisfies the request is skipped.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELP_OPTION, kernelsOption, optionsHelp, parseKernels, parseNumber, readOptions, runMain, UsageError, type OptionTable } from './args.ts';
import type { BrowserSession } from './browser.ts';
import { prepareOutputFolder, writeAtomically } from './output.ts';
import { ProgressPrinter } from './progress.ts';
import { runConfig } from './run-config.ts';
import { buildReport, reportMarkdown, summarize, type ExperimentFile } from './study-report.ts';
import { EXPERIMENTS, experimentConfig, selectExperiments, type Experiment, type ExperimentOptions } from '../src/presets/experiments.ts';
import { checkShapes } from '../src/layers/build.ts';
import { validateConfig } from '../src/train/validate.ts';
import type { KernelChoice } from '../src/gpu/target.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { RunResult } from '../src/train/result.ts';

const OPTIONS = {
  task: { kind: 'int', help: 'only the rows of Task 1 (MLP) or Task 2 (CNN)' },
  only: { kind: 'string', help: 'only these rows, e.g. t1-1a,t1-1b (ids in src/presets/experiments.ts)' },
  distribution: { kind: 'string', help: 'study (default: digits 0, 4, 7 at 10%) | full' },
  quick: { kind: 'flag', help: 'a training subset and fewer epochs, so a sweep takes minutes' },
  'quick-limit': { kind: 'int', help: 'training images in quick mode (default 6000)' },
  'quick-epochs': { kind: 'int', help: 'most epochs in quick mode (default 3)' },
  out: { kind: 'string', help: 'folder for <id>.json, report.md, report.json (default results/reproduce)' },
  force: { kind: 'flag', help: 'rerun rows whose result file exists' },
  'report-only': { kind: 'flag', help: 'run nothing: rewrite report.md and report.json from the result files in --out' },
  kernels: kernelsOption(),
  help: HELP_OPTION,
} satisfies OptionTable;

interface Command {
  reportOnly: boolean;
  experiments: Experiment[];
  options: ExperimentOptions;
  out: string;
  force: boolean;
  kernels: KernelChoice;
}

function usage(): string {
  return optionsHelp('usage: npm run reproduce -- [options]', OPTIONS, 22);
}

function parseArgs(argv: readonly string[]): Command | null {
  const o = readOptions(argv, OPTIONS);
  if (o.has('help')) return null;
  const task = o.has('task') ? parseNumber('task', o.get('task')!, 'int') : null;
  if (task !== null && task !== 1 && task !== 2) throw new UsageError(`--task ${task} is not allowed: 1 or 2`);
  const only = o.has('only') ? o.get('only')!.split(',').map((id) => id.trim()).filter(Boolean) : null;
  const unknown = (only ?? []).filter((id) => !EXPERIMENTS.some((e) => e.id === id));
  if (unknown.length) throw new UsageError(`--only: no experiment ${unknown.join(', ')}: one of ${EXPERIMENTS.map((e) => e.id).join(', ')}`);
  const distribution = o.get('distribution') ?? 'study';
  if (distribution !== 'study' && distribution !== 'full') throw new UsageError(`--distribution ${JSON.stringify(distribution)} is not allowed: study or full`);
  const limit = o.has('quick-limit') ? parseNumber('quick-limit', o.get('quick-limit')!, 'int') : 6000;
  const epochs = o.has('quick-epochs') ? parseNumber('quick-epochs', o.get('quick-epochs')!, 'int') : 3;
  if (limit < 1000 || limit > 60000) throw new UsageError(`--quick-limit ${limit} is not allowed: a whole number from 1000 to 60000`);
  if (epochs < 1) throw new UsageError(`--quick-epochs ${epochs} is not allowed: a whole number ≥ 1`);
  const experiments = selectExperiments(task as 1 | 2 | null, only);
  if (experiments.length === 0) throw new UsageError(`no experiment is in task ${task} and --only ${only?.join(',')}`);
  return {
    reportOnly: o.has('report-only'),
    experiments,
    options: { distribution, quick: o.has('quick') ? { trainLimit: limit, epochs } : null },
    out: o.get('out') ?? 'results/reproduce',
    force: o.has('force'),
    kernels: parseKernels(o.get('kernels')),
  };
}

/** Every `<id>.json` in `dir` that parses (others are ignored: a half-written file is rerun). */
function readResults(dir: string): Map<string, ExperimentFile> {
  const files = new Map<string, ExperimentFile>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'report.json')) {
    try {
      const file = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ExperimentFile;
      if (file.id && file.summary && file.result) files.set(file.id, file);
    } catch {
      // Unreadable: treated as missing.
    }
  }
  return files;
}

/** What an existing result file holds, for the "skipped" line. */
function describe(file: ExperimentFile): string {
  return `${file.quick ? 'quick' : 'full'} run on ${file.distribution}, ${file.finishedAt}`;
}

const pct = (x: number | null) => (x === null ? '–' : x.toFixed(1));

function configLine(e: Experiment, c: TrainConfig, quick: boolean): string {
  return (
    `${e.id}: ${e.title} — preset ${e.preset}, ${c.epochs} epochs, batch ${c.batchSize}, ${c.optimizer} lr ${c.lr}` +
    `${c.patience ? `, patience ${c.patience} on ${c.monitor}` : ''}${c.stepSize ? `, StepLR(${c.stepSize}, ${c.gamma})` : ''}` +
    `, ${c.distribution}${quick ? `, quick (${c.trainLimit} images)` : ''}`
  );
}

/** The browser session, opened on first use and reopened after a failed run (a lost device does not come back). */
class Runner {
  private session: BrowserSession | null = null;

  constructor(private readonly kernels: KernelChoice) {}

  async run(config: TrainConfig, printer: ProgressPrinter) {
    // Playwright and Vite load only now: a refused option exits without waiting for them.
    this.session ??= await (await import('./browser.ts')).openSession('cli/runner.html');
    return runConfig(this.session, config, printer, { kernels: this.kernels });
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.close().catch(() => undefined);
  }
}

/** Consecutive failed runs after which a sweep stops: the engine or the browser is broken, not one row. */
const MAX_FAILURES_IN_A_ROW = 3;

function experimentFile(e: Experiment, options: ExperimentOptions, result: RunResult, seconds: number): ExperimentFile {
  return {
    id: e.id, task: e.task, title: e.title, quick: options.quick !== null, distribution: options.distribution,
    finishedAt: new Date().toISOString(), seconds, summary: summarize(result), result,
  };
}

function doneLine(e: Experiment, file: ExperimentFile): string {
  const s = file.summary;
  return (
    `${e.id}: done in ${Math.round(file.seconds)} s — train ${pct(s.train)} val ${pct(s.val)} test ${pct(s.test)}, ` +
    `${s.epochsRun} epochs${s.stoppedEarly ? ` (stopped early, best ${s.bestEpoch})` : ''}; study ${pct(e.study.train)}/${pct(e.study.val)}/${pct(e.study.test)}` +
    `${s.interrupted ? `; interrupted: ${s.interrupted}` : ''}`
  );
}

function fail(tag: string, e: Experiment, error: unknown): { id: string; error: string } {
  const message = (error as Error).message?.split('\n')[0] ?? String(error);
  console.error(`${tag} ${e.id}: failed — ${message}`);
  return { id: e.id, error: message };
}

function writeJson(path: string, value: unknown): void {
  writeAtomically(path, JSON.stringify(value, null, 2));
}

/**
 * report.json and report.md from every result file in `out`, read again each time so rows another
 * sweep wrote meanwhile are included. Rewritten after each row: a stopped sweep leaves a report.
 */
function writeReport(out: string, failures: Array<{ id: string; error: string }>): number {
  const files = readResults(out);
  const report = buildReport(files, failures);
  writeJson(join(out, 'report.json'), report);
  writeFileSync(join(out, 'report.md'), reportMarkdown(report, files));
  return files.size;
}

async function main(): Promise<number> {
  const command = parseArgs(process.argv.slice(2));
  if (!command) {
    console.log(usage());
    return 0;
  }
  const { experiments, options, out, force } = command;
  prepareOutputFolder('out', out);
  if (command.reportOnly) {
    const rows = writeReport(out, []);
    console.log(`wrote ${join(out, 'report.md')} and report.json (${rows} of ${EXPERIMENTS.length} rows have results)`);
    return 0;
  }
  const existing = readResults(out);
  const runner = new Runner(command.kernels);
  const failures: Array<{ id: string; error: string }> = [];
  let failedInARow = 0;
  try {
    for (const [i, e] of experiments.entries()) {
      const tag = `[${i + 1}/${experiments.length}]`;
      const previous = existing.get(e.id);
      if (previous && !force) {
        console.log(`${tag} ${e.id}: skipped, ${join(out, `${e.id}.json`)} exists (${describe(previous)}); --force reruns`);
        continue;
      }
      const config = experimentConfig(e, options);
      console.log(`${tag} ${configLine(e, config, options.quick !== null)}`);
      try {
        validateConfig(config);
        checkShapes(config.inputShape, config.layers);
      } catch (error) {
        failures.push(fail(tag, e, error));
        continue;
      }
      try {
        const started = Date.now();
        const result = await runner.run(config, new ProgressPrinter(process.stdout, `  ${e.id} `));
        const file = experimentFile(e, options, result, (Date.now() - started) / 1000);
        writeJson(join(out, `${e.id}.json`), file);
        existing.set(e.id, file);
        console.log(`${tag} ${doneLine(e, file)}`);
        writeReport(out, failures);
        failedInARow = 0;
      } catch (error) {
        failures.push(fail(tag, e, error));
        // A lost device or a broken page does not recover: the next row gets a fresh browser.
        await runner.close();
        if (++failedInARow >= MAX_FAILURES_IN_A_ROW) {
          console.error(`${MAX_FAILURES_IN_A_ROW} runs failed in a row: stopping (run the same command again to resume)`);
          break;
        }
      }
    }
  } finally {
    await runner.close();
    const rows = writeReport(out, failures);
    console.log(`wrote ${join(out, 'report.md')} and report.json (${rows} of ${EXPERIMENTS.length} rows have results)`);
  }
  return failures.length ? 1 : 0;
}

runMain(main);
