/**
 * User-facing text lives in one table per element with English defaults (`chatStrings`,
 * `recorderStrings`, `playerStrings`); the shipped languages' tables are in `src/i18n/`, and
 * a host replaces any text through the element's `strings` property. Templates use `{name}`
 * placeholders; `src/internal/i18n.ts` fills them, picks plural forms and formats numbers.
 */
export type StringTable = Record<string, string>;
