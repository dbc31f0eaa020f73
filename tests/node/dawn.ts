/**
 * WebGPU in Node through Dawn (the `webgpu` package): installs `navigator.gpu` and the WebGPU globals
 * (GPUBufferUsage …) so that the engine's browser code runs unchanged, and describes the adapter
 * Dawn picks: a GPU's Vulkan driver, or SwiftShader with
 * VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json on a machine without one.
 */
import { create, globals } from 'webgpu';

export async function installDawn(): Promise<{ description: string; fallback: boolean }> {
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('Dawn found no WebGPU adapter (no Vulkan driver; on a CPU-only machine set VK_ICD_FILENAMES to SwiftShader\'s)');
  const { vendor, architecture, device, description, isFallbackAdapter, subgroupMinSize, subgroupMaxSize } = adapter.info;
  const subgroups = adapter.features.has('subgroups') ? `subgroups of ${subgroupMinSize}–${subgroupMaxSize}` : 'no subgroups';
  const named = [vendor, architecture, device, description].filter(Boolean).join(' / ');
  return { description: `${named} (${isFallbackAdapter ? 'fallback' : 'hardware'}, ${subgroups})`, fallback: isFallbackAdapter };
}
