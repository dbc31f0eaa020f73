import type { Progress } from '../src/train/step-program.ts';
import type { EpochRecord } from '../src/train/result.ts';

const fmt = (v: number | null, digits = 3) => (v === null ? '–' : v.toFixed(digits));

/** `epoch 3/20  loss 0.412  acc 0.887  val_loss 0.401  val_acc 0.890  lr 0.01  1.8s` */
export function epochLine(e: EpochRecord, epochs: number): string {
  return (
    `epoch ${e.epoch}/${epochs}  loss ${fmt(e.trainLoss)}  acc ${fmt(e.trainAcc)}  ` +
    `val_loss ${fmt(e.valLoss)}  val_acc ${fmt(e.valAcc)}  lr ${Number(e.lr.toPrecision(3))}  ${(e.ms / 1000).toFixed(1)}s`
  );
}

/** `epoch 3/20 [#########...........] 240/480  5,210 samples/s` — redrawn in place on a terminal. */
export function progressBar(p: Progress, width = 24): string {
  const filled = Math.round((p.step / p.steps) * width);
  const live = p.loss === undefined ? '' : `  loss ${fmt(p.loss)}  acc ${fmt(p.accuracy ?? null)}`;
  const rate = p.samplesPerSecond === null ? 'setting up' : `${Math.round(p.samplesPerSecond).toLocaleString('en-US')} samples/s`;
  return `epoch ${p.epoch}/${p.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.step}/${p.steps}  ${rate}${live}`;
}

/** Writes progress to a terminal (a redrawn bar) or to a log (epoch lines only). */
export class ProgressPrinter {
  private barShown = false;
  constructor(
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly prefix = '',
  ) {}

  progress(p: Progress): void {
    if (!this.out.isTTY) return;
    this.out.write(`\r\x1b[2K${this.prefix}${progressBar(p)}`);
    this.barShown = true;
  }

  epoch(e: EpochRecord, epochs: number): void {
    if (this.barShown) this.out.write('\r\x1b[2K');
    this.barShown = false;
    this.out.write(`${this.prefix}${epochLine(e, epochs)}\n`);
  }
}
