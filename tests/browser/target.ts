/** Gpu's kernel target: fixed by Gpu.create, other targets as views of the same device (gpu.withTarget). */
import { Gpu } from '../../src/gpu/gpu.ts';
import { activationDefines } from '../../src/layers/activation.ts';
import { testGpu } from './util.ts';

/** What a view shares with the device it was taken from, and what it does not. */
export async function viewOfTestGpu() {
  const gpu = await testGpu();
  const view = gpu.withTarget('plain', { conv2d: 1 });
  const defines = activationDefines(null);
  return {
    shared: [view.device === gpu.device, view.buffers === gpu.buffers, view.errors === gpu.errors, view.lost === gpu.lost, view.facts === gpu.facts],
    // Pipelines come from the one cache: the same object whichever view asks.
    samePipeline: view.pipeline('dense', 'forward', defines) === gpu.pipeline('dense', 'forward', defines),
    device: { choice: gpu.target.choice, shape: gpu.target.shape, subgroups: gpu.target.subgroups, ceiling: gpu.target.rungCeiling },
    view: { choice: view.target.choice, shape: view.target.shape, subgroups: view.target.subgroups, ceiling: view.target.rungCeiling },
    frozen: Object.isFrozen(view.target) && Object.isFrozen(gpu.facts),
    facts: gpu.facts,
  };
}

/** A device created with a kernel choice and ceiling: its target, then destroyed. */
export async function createdWith() {
  const gpu = await Gpu.create({ kernels: 'gpu', rungCeiling: { dense: 2 } });
  const target = { choice: gpu.target.choice, shape: gpu.target.shape, ceiling: gpu.target.rungCeiling };
  gpu.destroy();
  return target;
}
