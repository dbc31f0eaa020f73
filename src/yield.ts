/**
 * Ends the current task and continues in a new one, so CPU work on a page's main thread is cut into
 * slices between which the browser handles input and paints. scheduler.yield (Chrome 129+) resumes
 * ahead of other queued tasks; elsewhere (Node included) a zero timeout.
 */
export function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  return scheduler?.yield ? scheduler.yield() : new Promise((resolve) => setTimeout(resolve, 0));
}
