/**
 * A share from 0 to 100 as the locale writes a percentage ("63%", "63 %", "٦٣٪"): the chat's
 * upload bubble and the recorder's sending state say it the same way (issue 22).
 */
export function percentText(percent: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(
    percent / 100,
  );
}
