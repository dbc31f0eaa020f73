/**
 * The study-reproduction report: what a finished experiment is worth next to the study's numbers
 * (pure functions, no browser). `npm run reproduce` writes one `<id>.json` per row and, from all of
 * them, `report.json` and `report.md`.
 */
import type { EpochRecord, RunResult } from '../src/train/result.ts';
import { EXPERIMENTS, experimentConfig, RARE_DIGIT_CEILING, type Experiment } from '../src/presets/experiments.ts';

/** Differences larger than this (in points of %) get a note. */
export const TOLERANCE = 2;
const RARE_DIGITS = [0, 4, 7];

export const CONVENTION =
  'Train and validation accuracy are the maximum over epochs (the study printed "max training/validation accuracy"); ' +
  'train accuracy is the running accuracy over each epoch\'s training batches, as a PyTorch loop that sums correct ' +
  'predictions while training reports it. Test accuracy is measured once, after training, on all 10,000 test images ' +
  '(the study: 9,999), with the best epoch\'s weights restored when early stopping is on. Epochs run counts the epochs ' +
  'trained; with patience N an early stop after E epochs means the best epoch was E − N.';

/** Our numbers for one run, in %, derived from its RunResult. */
export interface RunSummary {
  train: number;
  val: number | null;
  test: number;
  epochsRun: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Test recall of digits 0, 4, 7 (%). */
  rareRecall: number[];
  /** Where early stopping with this row's patience would have ended on our curves, per monitor (null: not within them). */
  simulatedStop: { val_acc: number | null; val_loss: number | null } | null;
  interrupted: string | null;
}

/** One `<id>.json`: the run, how it was made, and its summary. */
export interface ExperimentFile {
  id: string;
  task: 1 | 2;
  title: string;
  quick: boolean;
  distribution: 'study' | 'full';
  finishedAt: string;
  seconds: number;
  summary: RunSummary;
  result: RunResult;
}

const pct = (x: number) => x * 100;

export function summarize(result: RunResult): RunSummary {
  const e = result.epochs;
  const vals = e.map((r) => r.valAcc).filter((v): v is number => v !== null);
  const patience = result.config.patience;
  return {
    train: e.length ? pct(Math.max(...e.map((r) => r.trainAcc))) : 0,
    val: vals.length ? pct(Math.max(...vals)) : null,
    test: pct(result.test.accuracy),
    epochsRun: e.length,
    bestEpoch: result.bestEpoch,
    stoppedEarly: result.stoppedEarly,
    rareRecall: RARE_DIGITS.map((d) => pct(result.test.perClass[d]?.recall ?? 0)),
    simulatedStop: patience > 0 ? { val_acc: stopEpoch(e, 'val_acc', patience), val_loss: stopEpoch(e, 'val_loss', patience) } : null,
    interrupted: result.interrupted ?? null,
  };
}

/** The epoch after which the trainer's rule (strict improvement, `patience` epochs without) stops, or null. */
export function stopEpoch(epochs: readonly EpochRecord[], monitor: 'val_acc' | 'val_loss', patience: number): number | null {
  let best = Infinity;
  let since = 0;
  for (const r of epochs) {
    const score = monitor === 'val_acc' ? -(r.valAcc ?? r.trainAcc) : (r.valLoss ?? r.trainLoss);
    if (score < best) {
      best = score;
      since = 0;
    } else if (++since >= patience) return r.epoch;
  }
  return null;
}

/** Max train/val accuracy (%) over the first `epochs` epochs of our run: what a stop there would have shown. */
function maxUpTo(records: readonly EpochRecord[], epochs: number): { train: number; val: number | null } {
  const head = records.slice(0, epochs);
  const vals = head.map((r) => r.valAcc).filter((v): v is number => v !== null);
  return { train: pct(Math.max(...head.map((r) => r.trainAcc))), val: vals.length ? pct(Math.max(...vals)) : null };
}

const f1 = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(1));
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;

/** Notes on a row: differences beyond the tolerance, and the study's checkable claims. */
export function rowNotes(e: Experiment, file: ExperimentFile | null): string[] {
  const notes: string[] = [];
  const s = e.study;
  if (s.test !== null && s.test > RARE_DIGIT_CEILING) notes.push(`study test ${f1(s.test)}% > ${RARE_DIGIT_CEILING}%: only possible if it recognised some 0/4/7`);
  const patience = experimentConfig(e, { distribution: 'study', quick: null }).patience;
  if (s.stoppedAfter !== null && patience > 0) {
    notes.push(`study stopped after ${s.stoppedAfter} with N=${patience}: its best epoch was ${s.stoppedAfter - patience}`);
  }
  if (!file) return notes;
  const o = file.summary;
  if (o.interrupted) notes.push(`interrupted: ${o.interrupted}`);
  const diffs = (['train', 'val', 'test'] as const)
    .filter((k) => s[k] !== null && o[k] !== null && Math.abs(o[k]! - s[k]!) > TOLERANCE)
    .map((k) => `${k} ${signed(o[k]! - s[k]!)}`);
  const kind = s.approx ? "vs the study's approximate figure" : `differs by > ${TOLERANCE} points`;
  if (diffs.length) notes.push(`${file.quick ? 'quick run, ' : ''}${kind}: ${diffs.join(', ')}`);
  if (o.test > RARE_DIGIT_CEILING) notes.push(`ours ${f1(o.test)}% > ${RARE_DIGIT_CEILING}%: learned rare digits (recall 0/4/7 ${o.rareRecall.map((r) => r.toFixed(0)).join('/')}%)`);
  if (s.didNotLearn) {
    const learned = (o.val ?? o.train) >= 20;
    notes.push(`study: did not learn; ours ${learned ? 'learned' : 'did not learn either'} (best val ${f1(o.val)}%)`);
  }
  // A quick run is too short for its stop to mean anything.
  if (!file.quick) notes.push(...stopNotes(e, file));
  return notes;
}

/** Early-stopping checks: our stop against the study's, and its numbers against our curves at its stop. */
function stopNotes(e: Experiment, file: ExperimentFile): string[] {
  const s = e.study;
  const o = file.summary;
  const notes: string[] = [];
  if (s.stoppedAfter !== null) {
    const same = o.stoppedEarly && o.epochsRun === s.stoppedAfter;
    notes.push(`stop: study ${s.stoppedAfter}, ours ${o.stoppedEarly ? o.epochsRun : `none in ${o.epochsRun}`}${same ? ' (same)' : ''}`);
    if (o.epochsRun >= s.stoppedAfter) {
      const at = maxUpTo(file.result.epochs, s.stoppedAfter);
      const ok = (['train', 'val'] as const).every((k) => s[k] === null || at[k] === null || Math.abs(at[k]! - s[k]!) <= TOLERANCE);
      notes.push(`ours over epochs 1–${s.stoppedAfter}: train/val ${f1(at.train)}/${f1(at.val)} (${ok ? 'consistent with' : 'not within 2 points of'} the study's ${f1(s.train)}/${f1(s.val)})`);
    }
  } else if (s.stoppedEarly) {
    notes.push(`study stopped early (epoch not stated); ours ${o.stoppedEarly ? `stopped after ${o.epochsRun}` : `ran all ${o.epochsRun}`}`);
  }
  if (o.simulatedStop && (s.stoppedAfter !== null || s.stoppedEarly)) {
    const show = (v: number | null) => (v === null ? `none in ${o.epochsRun}` : String(v));
    notes.push(`on our curves: val_acc would stop at ${show(o.simulatedStop.val_acc)}, val_loss at ${show(o.simulatedStop.val_loss)}`);
  }
  return notes;
}

export interface ReportRow {
  id: string;
  task: 1 | 2;
  title: string;
  study: Experiment['study'];
  ours: RunSummary | null;
  quick: boolean | null;
  distribution: string | null;
  finishedAt: string | null;
  seconds: number | null;
  notes: string[];
}

export interface Report {
  generatedAt: string;
  distributions: string[];
  adapters: string[];
  quickRows: string[];
  quickSettings: string;
  convention: string;
  tolerance: number;
  rows: ReportRow[];
  failures: Array<{ id: string; error: string }>;
}

/** The report over every experiment row, with our result where `files` has one. */
export function buildReport(files: ReadonlyMap<string, ExperimentFile>, failures: Array<{ id: string; error: string }> = []): Report {
  const rows = EXPERIMENTS.map((e): ReportRow => {
    const file = files.get(e.id) ?? null;
    return {
      id: e.id, task: e.task, title: e.title, study: e.study,
      ours: file?.summary ?? null, quick: file?.quick ?? null, distribution: file?.distribution ?? null,
      finishedAt: file?.finishedAt ?? null, seconds: file?.seconds ?? null,
      notes: rowNotes(e, file),
    };
  });
  const all = [...files.values()];
  const adapter = (f: ExperimentFile) => [f.result.adapter.vendor, f.result.adapter.architecture, f.result.adapter.description].filter(Boolean).join(' ');
  return {
    generatedAt: new Date().toISOString(),
    distributions: [...new Set(all.map((f) => f.distribution))],
    adapters: [...new Set(all.map(adapter))],
    quickRows: EXPERIMENTS.filter((e) => files.get(e.id)?.quick).map((e) => e.id),
    quickSettings: quickSettings(all.filter((f) => f.quick)),
    convention: CONVENTION,
    tolerance: TOLERANCE,
    rows,
    failures,
  };
}

/** What the quick rows were trained on, from their configs. */
function quickSettings(quick: readonly ExperimentFile[]): string {
  if (quick.length === 0) return 'none';
  const limits = [...new Set(quick.map((f) => f.result.config.trainLimit))].join(' or ');
  const epochs = Math.max(...quick.map((f) => f.result.config.epochs));
  return `first ${limits} training images, at most ${epochs} epoch${epochs === 1 ? '' : 's'}, batch scaled with the data, e.g. 1000 → 100 for 6000 images, at least 100`;
}

const DISTRIBUTION = { study: 'study (digits 0, 4, 7 kept at 10% of their training images)', full: 'full (every training image)' } as Record<string, string>;

export const TABLE_HEADER = [
  'ID', 'Experiment', 'Train study', 'Train ours', 'Val study', 'Val ours', 'Test study', 'Test ours',
  'Stop study', 'Epochs ours (best)', 'Mode', 'Notes',
];

function tableRow(r: ReportRow): string {
  const o = r.ours;
  const approx = r.study.approx ? '≈' : '';
  const num = (x: number | null) => (x === null ? '–' : `${approx}${f1(x)}`);
  const stop = r.study.stoppedAfter !== null ? String(r.study.stoppedAfter) : r.study.stoppedEarly ? 'early' : '–';
  const epochs = o ? `${o.epochsRun}${o.stoppedEarly ? ' stopped' : ''} (${o.bestEpoch})` : '–';
  const mode = r.quick === null ? 'not run' : `${r.quick ? 'quick' : 'full'}${r.distribution === 'study' ? '' : `, ${r.distribution}`}`;
  const cells = [
    r.id, r.title, num(r.study.train), f1(o?.train), num(r.study.val), f1(o?.val), num(r.study.test), f1(o?.test),
    stop, epochs, mode, r.notes.join('; ') || '',
  ];
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

function perClassTable(r: ReportRow, files: ReadonlyMap<string, ExperimentFile>): string[] {
  const study = r.study.perClass;
  if (!study) return [];
  const ours = files.get(r.id)?.result.test.perClass;
  const lines = [`### ${r.id}: per-digit test report (precision / recall / F1)`, '', '| digit | study | ours | study support | ours support |', '|---|---|---|---|---|'];
  const three = (p: { precision: number; recall: number; f1: number } | undefined) => (p ? `${p.precision.toFixed(3)} / ${p.recall.toFixed(3)} / ${p.f1.toFixed(3)}` : '–');
  study.forEach((s, d) => lines.push(`| ${d} | ${three(s)} | ${three(ours?.[d])} | ${s.support} | ${ours?.[d]?.support ?? '–'} |`));
  return [...lines, ''];
}

export function reportMarkdown(report: Report, files: ReadonlyMap<string, ExperimentFile>): string {
  const lines = [
    '# Study reproduction: our numbers next to the study\'s',
    '',
    `- Generated: ${report.generatedAt}`,
    `- Distribution: ${report.distributions.map((d) => DISTRIBUTION[d] ?? d).join('; ') || 'no runs yet'}`,
    `- Adapter: ${report.adapters.join('; ') || '–'}`,
    `- Quick rows${report.quickRows.length ? ` (${report.quickSettings})` : ''}: ${report.quickRows.join(', ') || 'none'}; every other row ran at full size`,
    `- Convention: ${report.convention}`,
    `- A note flags any difference over ${report.tolerance} points; ≈ marks the study's approximate figures. ` +
      `${RARE_DIGIT_CEILING}% is the most a model that never predicts 0, 4 or 7 can reach on the test set.`,
    '',
  ];
  for (const task of [1, 2] as const) {
    lines.push(`## Task ${task} — ${task === 1 ? 'MLP' : 'CNN'}`, '', `| ${TABLE_HEADER.join(' | ')} |`, `|${TABLE_HEADER.map(() => '---').join('|')}|`);
    for (const r of report.rows.filter((row) => row.task === task)) lines.push(tableRow(r));
    lines.push('');
  }
  for (const r of report.rows) lines.push(...perClassTable(r, files));
  if (report.failures.length) {
    lines.push('## Failed in the last invocation', '', ...report.failures.map((f) => `- ${f.id}: ${f.error}`), '');
  }
  return lines.join('\n');
}
