import { cached, parts } from './durations.js';

/**
 * A duration as a clock, `0:42` / `1:02:03`, in the locale's digits. (Not DurationFormat's
 * digital style: Chromium writes `00:42` with it, and players everywhere show `0:42`.)
 */
export function clock(seconds: number, locale: string): string {
  const p = parts(seconds);
  const two = cached(
    `2${locale}`,
    () => new Intl.NumberFormat(locale, { minimumIntegerDigits: 2 }),
  );
  const n = cached(`n${locale}`, () => new Intl.NumberFormat(locale));
  return p.hours
    ? `${n.format(p.hours)}:${two.format(p.minutes)}:${two.format(p.seconds)}`
    : `${n.format(p.minutes)}:${two.format(p.seconds)}`;
}
