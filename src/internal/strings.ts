/**
 * User-facing text lives in one table per element with English defaults; a host replaces
 * any of it through the element's `strings` property (e.g. for another language).
 * Templates use `{name}` placeholders.
 */
export type StringTable = Record<string, string>;

export function format(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in values ? String(values[key]) : whole,
  );
}

/** The element's defaults with the host's overrides on top (unknown keys are ignored). */
export function mergeStrings<T extends StringTable>(defaults: T, overrides?: Partial<T>): T {
  if (!overrides) return defaults;
  const merged: StringTable = { ...defaults };
  for (const key of Object.keys(defaults)) {
    const value = overrides[key];
    if (typeof value === 'string') merged[key] = value;
  }
  return merged as T;
}

/** Seconds as m:ss, for durations and countdowns. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}
