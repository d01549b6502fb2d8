import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { StringTable } from './strings.js';

export type ElementName = 'chat' | 'recorder' | 'player';
/** One language's texts for every element (a key left out shows in English). */
export type Translation = Record<ElementName, StringTable>;
type Found = { language: string; table: Translation } | undefined;

const found = new Map<string, Promise<Found>>();
/**
 * The shipped table for a tag (undefined: English). English needs nothing loaded; any other
 * tag loads `src/i18n/index.ts` (the list of languages) and then its language's table.
 */
export function translationFor(tag: string): Promise<Found> {
  if (/^en(-|$)/i.test(tag)) return Promise.resolve(undefined);
  let promise = found.get(tag);
  if (!promise) {
    promise = import('../i18n/index.js').then((module) => module.translationFor(tag));
    // A failed chunk load is tried again next time.
    promise.catch(() => found.delete(tag));
    found.set(tag, promise);
  }
  return promise;
}

const RTL = /^(ar|arc|ckb|dv|fa|he|iw|ps|sd|ug|ur|yi)(-|$)/i;

/**
 * The language and direction an element is in: its own `lang`, else the nearest ancestor's
 * (across shadow roots), else the document's. The direction is the nearest `dir` unless a
 * `lang` nearer to the element says otherwise (an English widget on an RTL page is LTR).
 */
export function resolveLanguage(element: Element): { lang: string; dir: 'ltr' | 'rtl' } {
  let lang: string | undefined;
  let dir: 'ltr' | 'rtl' | undefined;
  for (let node: Node | null = element; node && (!lang || !dir);) {
    if (node instanceof Element) {
      const ownDir = node.getAttribute('dir')?.toLowerCase();
      if (!dir && (ownDir === 'ltr' || ownDir === 'rtl')) dir = ownDir;
      const ownLang = node.getAttribute('lang');
      if (!lang && ownLang) {
        lang = ownLang;
        dir ??= RTL.test(ownLang) ? 'rtl' : 'ltr';
      }
    }
    node = node instanceof ShadowRoot ? node.host : node.parentNode;
  }
  lang ||= document.documentElement.lang || 'en';
  try {
    Intl.getCanonicalLocales(lang);
  } catch {
    lang = 'en';
  }
  return { lang, dir: dir ?? (RTL.test(lang) ? 'rtl' : 'ltr') };
}

const cache = new Map<string, object>();
function cached<T extends object>(key: string, make: () => T): T {
  let value = cache.get(key) as T | undefined;
  if (!value) cache.set(key, (value = make()));
  return value;
}
const numbers = (locale: string) => cached(`n${locale}`, () => new Intl.NumberFormat(locale));
const plurals = (locale: string) => cached(`p${locale}`, () => new Intl.PluralRules(locale));

/** Elements whose language may change; one observer tells them when a `lang` or `dir` does. */
const localizers = new Set<Localizer<StringTable>>();
// Made on first use, not at import: a server-side import (Node, no DOM) must not touch it.
let attributes: MutationObserver | undefined;
const observed = new WeakSet<Node>();
function watch(root: Node): void {
  if (observed.has(root)) return;
  observed.add(root);
  attributes ??= new MutationObserver(() => localizers.forEach((l) => l.refresh()));
  attributes.observe(root, { attributes: true, attributeFilter: ['lang', 'dir'], subtree: true });
}

/**
 * An element's texts in its language (a Lit reactive controller): the shipped table for
 * the `lang` it is in, with the host's `strings` on top and English for anything missing.
 * Counts choose their plural form through `Intl.PluralRules`: a key `x` is the `other`
 * form, `x_one`, `x_two`, `x_few`, … the others, picked when the values carry a `count`.
 * Durations are `clock(seconds, locale)` and `spokenDuration(seconds, locale)`, not methods
 * here: an element whose first render shows none (the player) then carries none up front.
 */
export class Localizer<T extends StringTable> implements ReactiveController {
  /** The language tag the element is in, as given (`pt-PT`, `ar-EG`). */
  requested = 'en';
  /** The shipped language shown now (`en` until the wanted one is loaded). */
  language = 'en';
  dir: 'ltr' | 'rtl' = 'ltr';
  private translation?: Translation;
  private merged?: { translation?: Translation; overrides?: Partial<T>; table: T };

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly element: ElementName,
    private readonly defaults: T,
    private readonly overrides: () => Partial<T> | undefined,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    localizers.add(this as unknown as Localizer<StringTable>);
    watch(document.documentElement);
    for (
      let root = this.host.getRootNode();
      root instanceof ShadowRoot;
      root = root.host.getRootNode()
    )
      watch(root);
    this.refresh();
  }

  hostDisconnected(): void {
    localizers.delete(this as unknown as Localizer<StringTable>);
  }

  /** Looks at `lang`/`dir` again; re-renders the element if they changed. */
  refresh(): void {
    const { lang, dir } = resolveLanguage(this.host);
    if (lang === this.requested && dir === this.dir) return;
    this.requested = lang;
    this.dir = dir;
    this.host.requestUpdate();
    void translationFor(lang).then(
      (found) => {
        if (this.requested !== lang) return;
        this.language = found?.language ?? 'en';
        this.translation = found?.table;
        this.host.requestUpdate();
      },
      () => undefined, // stays in the language it shows
    );
  }

  /**
   * The locale numbers and plurals follow: the tag asked for when its language's table is
   * shown (`ar-EG` keeps its digits) or the host gives texts; else the table's language.
   */
  get locale(): string {
    const shown = this.requested.split('-')[0].toLowerCase() === this.language.split('-')[0];
    return this.overrides() || shown ? this.requested : this.language;
  }

  /** Every text: English, under the language's table, under the host's `strings`. */
  get table(): T {
    const overrides = this.overrides();
    const m = this.merged;
    if (m && m.translation === this.translation && m.overrides === overrides) return m.table;
    const table = { ...this.defaults, ...this.translation?.[this.element] } as StringTable;
    for (const [key, value] of Object.entries(overrides ?? {}))
      if (typeof value === 'string') table[key] = value;
    this.merged = { translation: this.translation, overrides, table: table as T };
    return table as T;
  }

  /** A text with its `{placeholders}` filled; numbers in the locale's digits, `count` picks the plural form. */
  t(key: keyof T & string, values?: Record<string, string | number>): string {
    const table = this.table as StringTable;
    const count = values?.count;
    const form = typeof count === 'number' ? plurals(this.locale).select(count) : 'other';
    return this.format(table[`${key}_${form}`] ?? table[key], values);
  }

  format(template: string, values: Record<string, string | number> = {}): string {
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = values[name];
      if (value === undefined) return whole;
      return typeof value === 'number' ? numbers(this.locale).format(value) : value;
    });
  }
}
