declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** Template-literal tag resolving `#if ${cond}` / `#elif` / `#else` / `#endif`. */
  export function wgsl(strings: TemplateStringsArray | readonly string[], ...values: unknown[]): string;
}
