/**
 * The kernel specs (every GPU test that needs no MNIST and no page) in Node, on the adapter that Dawn
 * (the `webgpu` package) finds: a real GPU through its Vulkan driver where Chromium cannot run, or
 * SwiftShader with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json. Same files, same
 * assertions as `npm test`; tests/node/vite.config.ts swaps Playwright and the page fixture for
 * tests/node/playwright.ts and fixtures.ts.
 *
 *   npm run test:dawn [-- <substring of test names>]
 *
 * Exits 1 when a test fails. As in the page fixture, anything printed to console.error during a test
 * (the engine prints WebGPU's uncaptured validation errors there) fails it. Prints the adapter, each
 * test's time, and a summary.
 */
import { installDawn } from './dawn.ts';
import { registered, Skipped } from './playwright.ts';

// Eager: importing a spec registers its tests.
import.meta.glob(
  ['../activation.spec.ts', '../batchnorm.spec.ts', '../conv2d.spec.ts', '../dense.spec.ts', '../dropout.spec.ts',
    '../gather.spec.ts', '../gradcheck.spec.ts', '../loss.spec.ts', '../optimizer.spec.ts'],
  { eager: true },
);

console.log(`adapter: ${(await installDawn()).description}`);
const filter = process.argv[2] ?? '';

const printedErrors: string[] = [];
const printError = console.error.bind(console);
console.error = (...parts: unknown[]) => {
  printedErrors.push(parts.map(String).join(' '));
  printError(...parts);
};

let passed = 0;
let skipped = 0;
const failed: string[] = [];
for (const { name, body } of registered.filter((t) => t.name.includes(filter))) {
  const start = performance.now();
  printedErrors.length = 0;
  try {
    await body({ gpuPage: null });
    if (printedErrors.length) throw new Error(`errors printed during the test: ${printedErrors.join(' | ')}`);
    passed++;
    console.log(`  ✓ ${name} (${(performance.now() - start).toFixed(0)} ms)`);
  } catch (error) {
    if (error instanceof Skipped) {
      skipped++;
      console.log(`  - ${name}: skipped (${error.message})`);
    } else {
      failed.push(name);
      console.log(`  ✘ ${name}\n    ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
console.log(`${passed} passed, ${failed.length} failed, ${skipped} skipped`);
for (const name of failed) console.log(`  failed: ${name}`);
process.exit(failed.length ? 1 : 0);
