import type { Translation } from '../internal/i18n.js';

/**
 * The shipped languages and how a tag finds one: loaded (with `src/internal/i18n.ts`'s first
 * non-English request) only by pages that need another language than English.
 */
export const LANGUAGES = ['en', 'de', 'es', 'fr', 'pt-BR', 'ja', 'zh-Hans', 'ar'] as const;
export type Language = (typeof LANGUAGES)[number];

const loaders: Record<Exclude<Language, 'en'>, () => Promise<{ default: Translation }>> = {
  de: () => import('./de.js'),
  es: () => import('./es.js'),
  fr: () => import('./fr.js'),
  'pt-BR': () => import('./pt-BR.js'),
  ja: () => import('./ja.js'),
  'zh-Hans': () => import('./zh-Hans.js'),
  ar: () => import('./ar.js'),
};

/** The shipped language for a BCP 47 tag: the exact tag, else its language (pt-PT → pt-BR, zh-TW → zh-Hans), else English. */
export function matchLanguage(tag: string): Language {
  const lower = tag.toLowerCase();
  const primary = lower.split('-')[0];
  return (
    LANGUAGES.find((language) => language.toLowerCase() === lower) ??
    LANGUAGES.find((language) => language.split('-')[0] === primary) ??
    'en'
  );
}

/** The table for a tag: its shipped language and texts, or undefined for English. */
export async function translationFor(
  tag: string,
): Promise<{ language: Language; table: Translation } | undefined> {
  const language = matchLanguage(tag);
  if (language === 'en') return undefined;
  return { language, table: (await loaders[language]()).default };
}
