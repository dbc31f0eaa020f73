/** Downloads: the run's JSON (the CLI's RunResult schema), its metrics as CSV, any canvas as PNG. */
import type { RunResult } from '../src/train/result.ts';

export function download(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function runJson(result: RunResult): Blob {
  return new Blob([JSON.stringify(result, null, 2)], { type: 'application/json' });
}

/** One CSV: a row per epoch, then the test set's per-class report and averages. */
export function metricsCsv(result: RunResult): Blob {
  const lines = ['section,epoch,lr,train_loss,train_acc,val_loss,val_acc,ms'];
  for (const e of result.epochs) lines.push(['epoch', e.epoch, e.lr, e.trainLoss, e.trainAcc, e.valLoss ?? '', e.valAcc ?? '', e.ms.toFixed(1)].join(','));
  lines.push('', 'section,label,precision,recall,f1,support');
  for (const c of result.test.perClass) lines.push(['test', c.label, c.precision, c.recall, c.f1, c.support].join(','));
  const support = result.test.perClass.reduce((n, c) => n + c.support, 0);
  lines.push(['test', 'macro avg', result.test.macro.precision, result.test.macro.recall, result.test.macro.f1, support].join(','));
  lines.push(['test', 'weighted avg', result.test.weighted.precision, result.test.weighted.recall, result.test.weighted.f1, support].join(','));
  lines.push('', 'section,accuracy,loss,best_epoch,stopped_early,step_ms,samples_per_second,setup_ms');
  const speed = result.throughput;
  lines.push(['test', result.test.accuracy, result.test.loss, result.bestEpoch, result.stoppedEarly, speed.stepMs.toFixed(2), speed.samplesPerSecond.toFixed(1), speed.setupMs.toFixed(0)].join(','));
  lines.push('', 'section,digit,roc_auc');
  result.test.rocAuc.forEach((auc, digit) => lines.push(['test', digit, auc].join(',')));
  return new Blob([lines.join('\n') + '\n'], { type: 'text/csv' });
}

/** A canvas on a solid background (white, as the page's cards are), as PNG. */
export function canvasPng(canvas: HTMLCanvasElement, background = '#ffffff'): Promise<Blob> {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return pngBlob(out);
}

/** Small canvases (the learned filters) as one PNG grid on white: rows of `columns`, each scaled to `cell` pixels with hard edges. */
export function gridPng(canvases: readonly HTMLCanvasElement[], columns = 8, cell = 56, gap = 4): Promise<Blob> {
  const out = document.createElement('canvas');
  const rows = Math.ceil(canvases.length / columns);
  out.width = gap + Math.min(columns, canvases.length) * (cell + gap);
  out.height = gap + rows * (cell + gap);
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.imageSmoothingEnabled = false;
  canvases.forEach((canvas, i) => ctx.drawImage(canvas, gap + (i % columns) * (cell + gap), gap + Math.floor(i / columns) * (cell + gap), cell, cell));
  return pngBlob(out);
}

function pngBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'));
}

export function safeName(text: string): string {
  return text.replace(/[^a-z0-9-]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
}
