// The browser tests' wait: open-wc's waitUntil, allowing 10 s instead of 1 s unless a test
// says otherwise. IndexedDB, the real MediaRecorder, a seek in WebKit or the reference server
// took over a second on a busy CI machine; a wait ends as soon as its condition holds, so the
// longer limit only spares a slow machine a false failure (a wait that is stuck still fails).
import { waitUntil as waitUntilWithin } from '@open-wc/testing';

export function waitUntil(
  predicate: () => unknown | Promise<unknown>,
  message?: string,
  options: { timeout?: number; interval?: number } = {},
): Promise<void> {
  return waitUntilWithin(predicate, message, { ...options, timeout: options.timeout ?? 10_000 });
}
