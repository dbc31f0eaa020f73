/**
 * The demo page (index.html), headless: it loads without console errors and names the adapter; a
 * short run of each network fills every panel; a drawn digit gets probabilities; bad settings block
 * Train with the engine's message at the field. Runs use small subsets (SwiftShader is slow).
 */
import { test, expect, type Page } from '@playwright/test';

const QUICK = '/?trainLimit=2000&epochs=2&batch=250';

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

async function ready(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
}

test('the page loads, names the adapter and shows the data', async ({ page }) => {
  const errors = collectErrors(page);
  await ready(page, QUICK);
  const adapter = page.locator('#adapter');
  await expect(adapter).toHaveClass(/ok/);
  expect((await adapter.textContent())!.trim().length).toBeGreaterThan(0);
  await expect(page.locator('#banner')).toBeHidden();
  // 2,000 training images, 20% held out: 1,600 / 400, and the whole test set.
  const total = (set: string) => page.locator(`[data-set="${set}"]`).getAttribute('data-total');
  expect(await total('train')).toBe('1600');
  expect(await total('val')).toBe('400');
  expect(await total('test')).toBe('10000');
  // The study's distribution keeps 0, 4 and 7 at 10%.
  await page.getByRole('button', { name: "The study's distribution" }).click();
  const counts = JSON.parse((await page.locator('canvas.dist').getAttribute('data-counts'))!) as { train: number[] };
  expect(counts.train[0]! * 5).toBeLessThan(counts.train[1]!);
  await expect(page.locator('#net-mlp .train')).toBeEnabled();
  expect(errors).toEqual([]);
});

test('invalid hyper-parameters disable Train and say what is allowed', async ({ page }) => {
  const errors = collectErrors(page);
  await ready(page, QUICK);
  const mlp = page.locator('#net-mlp');
  const lr = mlp.locator('input[data-field="lr"]');
  await lr.fill('-1');
  await expect(mlp.locator('.train')).toBeDisabled();
  await expect(lr).toHaveClass(/invalid/);
  await expect(mlp.locator('.field-error', { hasText: 'lr -1 is not allowed: a number > 0' })).toBeVisible();
  await expect(page.locator('#train-both')).toBeDisabled();
  await lr.fill('0.001');
  await expect(mlp.locator('.train')).toBeEnabled();
  // A kernel too large for its input is the shape checker's message, at the architecture.
  const cnn = page.locator('#net-cnn');
  await cnn.locator('[data-row="conv.1"] input').nth(1).fill('30');
  await expect(cnn.locator('.train')).toBeDisabled();
  await expect(cnn.locator('[data-row="conv.1"]')).toHaveClass(/bad/);
  expect(JSON.parse((await cnn.getAttribute('data-errors'))!).length).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('a short run of each network fills every panel, and a drawn digit is classified', async ({ page }) => {
  test.setTimeout(600_000);
  const errors = collectErrors(page);
  await page.setViewportSize({ width: 1440, height: 1000 });
  // Main-thread tasks over 50 ms, as the browser reports them.
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({ type: 'longtask', buffered: false });
  });
  await ready(page, QUICK);
  await page.waitForTimeout(1000); // long tasks of the page load are reported late: drop them
  await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks.length = 0));
  await page.locator('#train-both').click();
  for (const net of ['mlp', 'cnn']) {
    const panel = page.locator(`#net-${net}`);
    await expect(panel).toHaveAttribute('data-state', 'done', { timeout: 280_000 });
    // Curves: one validation point per epoch, plus partial training points within the epochs.
    await expect(panel.locator('.curves')).toHaveAttribute('data-epoch-points', '2');
    expect(Number(await panel.locator('.curves').getAttribute('data-points'))).toBeGreaterThan(2);
    expect(Number(await panel.locator('.curves').getAttribute('data-best-epoch'))).toBeGreaterThanOrEqual(1);
    const accuracy = await panel.locator('[data-stat="test-accuracy"]').textContent();
    expect(Number(accuracy!.replace('%', ''))).toBeGreaterThan(20);
    await expect(panel.locator('canvas.confusion')).toHaveAttribute('data-total', '10000');
    await expect(panel.locator('table.report tr[data-digit]')).toHaveCount(10);
    await expect(panel.locator('[data-chart="roc"]')).toHaveAttribute('data-curves', '10');
    const aucs = JSON.parse((await panel.locator('[data-chart="roc"]').getAttribute('data-aucs'))!) as number[];
    expect(aucs.every((a) => a > 0.5 && a <= 1)).toBe(true);
    await expect(panel.locator('[data-role="predictions"] .tile')).toHaveCount(8);
    await expect(panel.locator('[data-role="predictions"] .tile.wrong')).toHaveCount(4);
    expect(Number(await panel.locator('[data-role="filters"]').getAttribute('data-count'))).toBeGreaterThan(0);
  }
  // The CNN's filters are its first conv layer's 16 kernels.
  await expect(page.locator('#net-cnn [data-role="filters"] canvas')).toHaveCount(16);
  await expect(page.locator('[data-kernels="CNN"] tr[data-kernel]').first()).toBeVisible({ timeout: 60_000 });

  // Draw a 7 with pointer events; both networks answer with probabilities summing to 1.
  const pad = page.locator('canvas[data-role="draw"]');
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  const at = (x: number, y: number) => [box.x + (x / 280) * box.width, box.y + (y / 280) * box.height] as const;
  await page.mouse.move(...at(70, 60));
  await page.mouse.down();
  for (const [x, y] of [[140, 60], [210, 60], [180, 140], [150, 220], [135, 250]] as const) await page.mouse.move(...at(x, y), { steps: 6 });
  await page.mouse.up();
  for (const net of ['mlp', 'cnn']) {
    const column = page.locator(`.probs[data-net="${net}"]`);
    await expect(column).toHaveAttribute('data-probs', /\[/, { timeout: 30_000 });
    const probs = JSON.parse((await column.getAttribute('data-probs'))!) as number[];
    expect(probs).toHaveLength(10);
    expect(Math.abs(probs.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-4);
  }
  await page.screenshot({ path: 'test-results/demo.png', fullPage: true });
  const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
  test.info().annotations.push({ type: 'long tasks (ms)', description: JSON.stringify(longTasks.map(Math.round)) });
  console.log(`main-thread tasks over 50 ms while training: ${JSON.stringify(longTasks.map(Math.round))}`);
  expect(errors).toEqual([]);
});

test('a lost device keeps what the page had and says so', async ({ page }) => {
  test.setTimeout(300_000);
  await ready(page, '/?trainLimit=2000&epochs=6&batch=250');
  const mlp = page.locator('#net-mlp');
  await mlp.locator('.train').click();
  await expect(mlp.locator('.curves')).toHaveAttribute('data-epoch-points', /[1-9]/, { timeout: 120_000 });
  await page.evaluate(() => window.wgslnnDemo!.gpu()!.device.destroy());
  await expect(page.locator('#banner')).toContainText('lost', { timeout: 60_000 });
  await expect(mlp).toHaveAttribute('data-state', /error|done/, { timeout: 120_000 });
  await expect(mlp.locator('[data-role="notice"]')).toContainText(/lost|destroyed/);
  expect(Number(await mlp.locator('.curves').getAttribute('data-epoch-points'))).toBeGreaterThanOrEqual(1);
  await expect(mlp.locator('.train')).toBeDisabled();
});
