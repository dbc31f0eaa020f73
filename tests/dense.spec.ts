import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

// Input counts that are multiples of 4 take the register-blocked kernels (shaders/dense.wgsl, any output
// count), the others the tiled one (shaders/matmul_tiled.wgsl); sizes on and off the 8×8 / 64×64 / 32×32
// tiles, the MNIST ones included, output counts off the vec4 grid (10, 3), odd batch sizes (summed over in dW),
// and products at most 16 wide or tall (their workgroups take 16×256 and 256×16 tiles: [1000, 64, 10], [9, 40, 24]).
const shapes: Array<[rows: number, inF: number, outF: number]> = [
  [64, 784, 128], [33, 10, 1], [1, 1, 1], [7, 33, 65], [100, 128, 64], [1000, 64, 10], [37, 12, 20], [5, 8, 4], [130, 72, 36],
  [13, 8, 3], [66, 800, 10], [9, 40, 24],
];

// Both variants of shaders/dense.wgsl: with subgroups (where the device has the feature, as SwiftShader does)
// and the plain kernels that other devices get.
for (const subgroups of [true, false]) {
  for (const [rows, inF, outF] of shapes) {
    test(`dense ${rows}×${inF} → ${outF}${subgroups ? '' : ', no subgroups'}: forward, dx, dW, db match the float64 reference`, async ({ gpuPage }) => {
      const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/dense.ts', 'denseVsReference', rows, inF, outF, subgroups);
      for (const r of results) expect(r.ok, r.message).toBe(true);
    });
  }
}

test('the tiled kernel matches the reference on shapes the blocked kernel would take', async ({ gpuPage }) => {
  const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/dense.ts', 'tiledVsReference', 70, 96, 40);
  for (const r of results) expect(r.ok, r.message).toBe(true);
});
