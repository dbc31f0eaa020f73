import { existsSync } from 'node:fs';

/** Flags that give headless Chromium WebGPU on a machine without a GPU (SwiftShader) and keep it off the network. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export function chromiumLaunchOptions(): { executablePath: string; args: string[] } {
  return { executablePath: chromiumPath(), args: CHROMIUM_FLAGS };
}

/** The message for a missing browser: how to get one. */
export function chromiumMissing(): string | null {
  const path = chromiumPath();
  if (existsSync(path)) return null;
  return `no Chromium at ${path}: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH to a WebGPU-capable Chromium`;
}
