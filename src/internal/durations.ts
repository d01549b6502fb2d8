// Durations in words in the element's locale (the clock is `clock.ts`): modules of their own,
// so an element whose first render shows none (the player: only its announcements, made once
// playback is in; the recorder: its timer) carries none up front. A formatter cache of its
// own, so the player's playback shares no module with the element.

const formatters = new Map<string, Intl.NumberFormat | Intl.ListFormat>();
/** An Intl formatter made once per `key` (the locale and options). */
/** An Intl formatter made once per `key` (the locale and options). */
export function cached<T extends Intl.NumberFormat | Intl.ListFormat>(
  key: string,
  make: () => T,
): T {
  let formatter = formatters.get(key) as T | undefined;
  if (!formatter) formatters.set(key, (formatter = make()));
  return formatter;
}

/** Whole hours, minutes and seconds. */
/** Whole hours, minutes and seconds. */
export function parts(seconds: number): { hours: number; minutes: number; seconds: number } {
  const whole = Math.max(0, Math.round(seconds));
  return {
    hours: Math.floor(whole / 3600),
    minutes: Math.floor(whole / 60) % 60,
    seconds: whole % 60,
  };
}

/**
 * A duration in words, for labels and announcements: "1 minute, 5 seconds", "2 Minuten".
 * Each unit through Intl.NumberFormat (plural and all), joined by Intl.ListFormat: the same
 * words Intl.DurationFormat's long style gives, in every engine, with or without it.
 */
export function spokenDuration(seconds: number, locale: string): string {
  const p = parts(seconds);
  const units = (['hours', 'minutes', 'seconds'] as const).filter((unit) => p[unit]);
  const words = (units.length ? units : (['seconds'] as const)).map((unit) =>
    cached(
      `u${locale}${unit}`,
      () =>
        new Intl.NumberFormat(locale, {
          style: 'unit',
          unit: unit.slice(0, -1),
          unitDisplay: 'long',
        }),
    ).format(p[unit]),
  );
  return cached(`f${locale}`, () => new Intl.ListFormat(locale, { type: 'unit' })).format(words);
}
