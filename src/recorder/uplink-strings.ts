import type { RecorderText } from './recorder-view.js';

/**
 * The texts of a slow uplink (the wait after Stop said while recording, the time left while
 * sending), loaded with the take lifecycle: a recorder that never records carries none up
 * front. Part of `RecorderStrings` all the same — a host replaces them with the `strings`
 * property, and every shipped language has them (src/i18n/).
 */
export const uplinkStrings = {
  recordingSlow: 'Recording. Slow connection: sending will take about {time} after you stop.',
  uploadingTimeLeft: 'Sending… {percent}, about {time} left',
};

export type UplinkStrings = typeof uplinkStrings;

/** One of these texts in the element's language, its `{placeholders}` filled. */
export function uplinkText(
  t: RecorderText,
  key: keyof UplinkStrings,
  values: Record<string, string | number>,
): string {
  const table = t.i18n.table as Partial<UplinkStrings>;
  return t.i18n.format(table[key] ?? uplinkStrings[key], values);
}
