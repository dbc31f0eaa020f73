import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';

const exec = promisify(execFile);

/**
 * The Node path (npm run test:dawn / bench:dawn, for machines where Chromium cannot run): built as a user
 * would, then run on SwiftShader through Dawn's Vulkan backend, the same CPU adapter the browser tests use.
 */
const swiftshader = process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const env = { ...process.env, VK_ICD_FILENAMES: swiftshader, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.skip(!existsSync(swiftshader), `no SwiftShader Vulkan driver at ${swiftshader} (set VK_ICD_FILENAMES)`);
  await exec('npx', ['vite', 'build', '-c', 'tests/node/vite.config.ts'], { timeout: 120_000 });
});

test('test:dawn runs the kernel specs in Node: a filtered run passes every variant; a filter that matches nothing says so', async () => {
  const { stdout } = await exec('node', ['.dawn/run.js', 'dense 64×784 → 128'], { env, timeout: 120_000 });
  expect(stdout).toMatch(/^adapter: .*swiftshader.*\(fallback, subgroups of 4–4\)/im);
  // Every dense rung (wide, quads, blocks, tiles, textbook) on floats, and the three that read x as bytes.
  expect(stdout).toMatch(/^8 passed, 0 failed, 0 skipped$/m);
  const none = await exec('node', ['.dawn/run.js', 'no test has this name'], { env, timeout: 60_000 });
  expect(none.stdout).toMatch(/^0 passed, 0 failed, 0 skipped$/m);
});

test('bench:dawn times our step per kernel and trains both study networks in Node', async () => {
  test.setTimeout(240_000);
  const { stdout } = await exec('node', ['.dawn/dawn.js', '--batches', '64', '--steps', '3', '--epochs', '1', '--train-limit', '2000'], { env, timeout: 220_000 });
  expect(stdout).toMatch(/fma\(\) loop [\d,.]+ GFLOP\/s · copy [\d,.]+ GB\/s/);
  expect(stdout).toMatch(/MLP 784-128-64-10 \(ReLU\), batch 64: [\d.]+ ms\/step/);
  expect(stdout).toMatch(/^ {2}dense\.forward +dense [\d, ]+? +3 +[\d.]+ +[\d.]+% +[\d.]+/m);
  expect(stdout).toMatch(/CNN arch 1: .*batch 64: [\d.]+ ms\/step/);
  expect(stdout).toMatch(/^ {2}conv2d\.backward_filter +conv2d [\d, ]+? +2 /m);
  for (const preset of ['task1-best', 'task2-best']) expect(stdout).toMatch(new RegExp(`^${preset}: 1 epochs in [\\d.]+ s .* test accuracy 0\\.\\d{4}$`, 'm'));
});
