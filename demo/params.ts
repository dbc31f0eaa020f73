/**
 * URL parameters for demos and tests: `?trainLimit=2000&epochs=2` makes quick runs, `batch=` sets both
 * batch sizes, `mlp=` / `cnn=` pick the starting presets, `kernels=` the kernels (auto, plain, gpu or cpu,
 * as `--kernels`), and `autorun=1` trains both once ready.
 */
export interface PageParams {
  trainLimit: number | null;
  epochs: number | null;
  batchSize: number | null;
  mlpPreset: string | null;
  cnnPreset: string | null;
  autorun: boolean;
  /** As given: main.ts checks it against the kernel choices. */
  kernels: string | null;
}

export function readParams(search = location.search): PageParams {
  const q = new URLSearchParams(search);
  const int = (name: string): number | null => {
    const raw = q.get(name);
    if (raw === null || raw.trim() === '') return null;
    const value = Number(raw);
    return Number.isInteger(value) && value > 0 ? value : null;
  };
  return {
    trainLimit: int('trainLimit'),
    epochs: int('epochs'),
    batchSize: int('batch') ?? int('batchSize'),
    mlpPreset: q.get('mlp'),
    cnnPreset: q.get('cnn'),
    autorun: q.get('autorun') === '1',
    kernels: q.get('kernels'),
  };
}
