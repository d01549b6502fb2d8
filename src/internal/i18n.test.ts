import { expect, fixture, html } from '@open-wc/testing';
import { LitElement } from 'lit';
import { chatStrings, type ChatStrings } from '../chat/strings.js';
import { failureStrings } from '../player/failure-strings.js';
import { playerStrings } from '../player/strings.js';
import { recorderStrings } from '../recorder/strings.js';
import { deviceLostStrings } from '../recorder/device-lost.js';
import { uplinkStrings } from '../recorder/uplink-strings.js';
import { LANGUAGES, matchLanguage, type Language } from '../i18n/index.js';
import { clock } from './clock.js';
import { spokenDuration } from './durations.js';
import {
  Localizer,
  resolveLanguage,
  translationFor,
  type ElementName,
  type Translation,
} from './i18n.js';
import type { StringTable } from './strings.js';
import ar from '../i18n/ar.js';
import de from '../i18n/de.js';
import es from '../i18n/es.js';
import fr from '../i18n/fr.js';
import ja from '../i18n/ja.js';
import ptBR from '../i18n/pt-BR.js';
import zhHans from '../i18n/zh-Hans.js';

const SHIPPED: Record<Exclude<Language, 'en'>, Translation> = {
  de,
  es,
  fr,
  'pt-BR': ptBR,
  ja,
  'zh-Hans': zhHans,
  ar,
};

// The player's failure texts load with its playback, the recorder's slow-uplink and lost-device
// texts with its take lifecycle, but each is its element's table all the same.
const ENGLISH: Record<ElementName, StringTable> = {
  chat: chatStrings,
  recorder: { ...recorderStrings, ...uplinkStrings, ...deviceLostStrings },
  player: { ...playerStrings, ...failureStrings },
};
const FORMS = ['zero', 'one', 'two', 'few', 'many'] as const;
const placeholders = (text: string) => new Set(text.match(/\{\w+\}/g) ?? []);

/** A bare element with a chat Localizer, to look at the texts without a chat around them. */
class I18nProbe extends LitElement {
  strings?: Partial<ChatStrings>;
  readonly i18n = new Localizer(this, 'chat', chatStrings, () => this.strings);
}
customElements.define('i18n-probe', I18nProbe);

async function probe(lang: string): Promise<I18nProbe> {
  const el = await fixture<I18nProbe>(html`<i18n-probe lang=${lang}></i18n-probe>`);
  // The element asked first, so its table is in (and an update requested) when this settles.
  await translationFor(lang);
  await el.updateComplete;
  return el;
}

describe('i18n', () => {
  it('matches a tag to a shipped language: exact, then by language, else English', () => {
    const cases: Record<string, Language> = {
      de: 'de',
      'DE-at': 'de',
      'pt-BR': 'pt-BR',
      'pt-PT': 'pt-BR',
      pt: 'pt-BR',
      'zh-Hans': 'zh-Hans',
      'zh-CN': 'zh-Hans',
      'zh-SG': 'zh-Hans',
      zh: 'zh-Hans',
      'es-419': 'es',
      'fr-CA': 'fr',
      'ja-JP': 'ja',
      'ar-EG': 'ar',
      'en-GB': 'en',
      ru: 'en',
      '': 'en',
    };
    for (const [tag, language] of Object.entries(cases))
      expect(matchLanguage(tag), tag).to.equal(language);
  });

  it('loads a table for a shipped language only', async () => {
    expect(await translationFor('en-US')).to.equal(undefined);
    expect(await translationFor('ru')).to.equal(undefined);
    const pt = await translationFor('pt-PT');
    expect(pt?.language).to.equal('pt-BR');
    expect(pt?.table).to.equal(ptBR);
  });

  it("takes the element's lang, else the nearest ancestor's (across shadow roots), else the document's", async () => {
    const outer = await fixture<HTMLDivElement>(
      html`<div lang="fr">
        <p><span></span></p>
      </div>`,
    );
    const span = outer.querySelector('span')!;
    expect(resolveLanguage(span)).to.deep.equal({ lang: 'fr', dir: 'ltr' });
    span.setAttribute('lang', 'ar');
    expect(resolveLanguage(span)).to.deep.equal({ lang: 'ar', dir: 'rtl' });

    const host = document.createElement('div');
    host.setAttribute('lang', 'ja');
    outer.append(host);
    const inner = document.createElement('b');
    host.attachShadow({ mode: 'open' }).append(inner);
    expect(resolveLanguage(inner).lang).to.equal('ja');

    const loose = document.createElement('i');
    document.body.append(loose);
    const before = document.documentElement.lang;
    try {
      document.documentElement.lang = 'de';
      expect(resolveLanguage(loose).lang).to.equal('de');
    } finally {
      document.documentElement.lang = before;
      loose.remove();
    }
  });

  it('takes the direction from the nearest dir, unless a nearer lang says otherwise', async () => {
    const page = await fixture<HTMLDivElement>(
      html`<div dir="rtl"><i></i><b lang="en"></b><u lang="ar" dir="ltr"></u></div>`,
    );
    expect(resolveLanguage(page.querySelector('i')!).dir).to.equal('rtl');
    expect(resolveLanguage(page.querySelector('b')!).dir).to.equal('ltr');
    expect(resolveLanguage(page.querySelector('u')!).dir).to.equal('ltr');
  });

  it('ships a table with every English key for every element in every language', () => {
    const problems: string[] = [];
    expect(Object.keys(SHIPPED)).to.deep.equal(LANGUAGES.filter((language) => language !== 'en'));
    for (const [language, translation] of Object.entries(SHIPPED)) {
      const used = new Set<string>();
      const rules = new Intl.PluralRules(language);
      // Every form an actual count (0–1000) takes in this language must be written out.
      for (let n = 0; n <= 1000; n++) used.add(rules.select(n));
      for (const element of Object.keys(ENGLISH) as ElementName[]) {
        const english = ENGLISH[element];
        const table = translation[element];
        const where = (key: string) => `${language} ${element}.${key}`;
        for (const key of Object.keys(english)) {
          if (FORMS.some((form) => key.endsWith(`_${form}`))) continue;
          if (typeof table[key] !== 'string' || !table[key].trim()) {
            problems.push(`${where(key)} is missing`);
            continue;
          }
          const expected = placeholders(english[key]);
          const got = placeholders(table[key]);
          if ([...expected].some((p) => !got.has(p)) || [...got].some((p) => !expected.has(p)))
            problems.push(`${where(key)} has ${[...got]}, English has ${[...expected]}`);
          const plural = FORMS.some((form) => `${key}_${form}` in english);
          for (const form of FORMS) {
            if (plural && used.has(form) && typeof table[`${key}_${form}`] !== 'string')
              problems.push(`${where(key)}_${form} is missing`);
          }
        }
        for (const key of Object.keys(table)) {
          const base = key.replace(/_(zero|one|two|few|many)$/, '');
          if (!(base in english)) problems.push(`${where(key)} is not a key of English`);
          else if (base !== key) {
            if (!english[base].includes('{count}'))
              problems.push(`${where(key)}: plural form of a text without {count}`);
            const extra = [...placeholders(table[key])].filter(
              (p) => !placeholders(english[base]).has(p),
            );
            if (extra.length) problems.push(`${where(key)} has unknown ${extra}`);
          }
        }
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('chooses plural forms through Intl.PluralRules: 0, 1, 2 and 5 in English, Arabic and Japanese', async () => {
    const say = async (lang: string) => {
      const el = await probe(lang);
      return [0, 1, 2, 5].map((count) => el.i18n.t('newMessages', { count }));
    };
    expect(await say('en')).to.deep.equal([
      '0 new messages ↓',
      '1 new message ↓',
      '2 new messages ↓',
      '5 new messages ↓',
    ]);
    const five = new Intl.NumberFormat('ar').format(5);
    expect(await say('ar')).to.deep.equal([
      'لا توجد رسائل جديدة ↓',
      'رسالة جديدة ↓',
      'رسالتان جديدتان ↓',
      `${five} رسائل جديدة ↓`,
    ]);
    expect(await say('ja')).to.deep.equal([
      '新着メッセージ 0 件 ↓',
      '新着メッセージ 1 件 ↓',
      '新着メッセージ 2 件 ↓',
      '新着メッセージ 5 件 ↓',
    ]);
    const ar = await probe('ar');
    expect(ar.i18n.t('charactersLeft', { count: 11 })).to.equal(
      `يتبقى ${new Intl.NumberFormat('ar').format(11)} حرفًا`,
    );
    // Arabic as written in Egypt: the same forms, in Arabic-Indic digits.
    expect((await probe('ar-EG')).i18n.t('newMessages', { count: 5 })).to.equal('٥ رسائل جديدة ↓');
  });

  it('formats numbers and durations for the locale', () => {
    expect(clock(42, 'en')).to.equal('0:42');
    expect(clock(3723, 'en')).to.equal('1:02:03');
    expect(clock(65, 'ar-EG')).to.equal('١:٠٥');
    expect(spokenDuration(65, 'en')).to.equal('1 minute, 5 seconds');
    expect(spokenDuration(60, 'en')).to.equal('1 minute');
    expect(spokenDuration(0, 'en')).to.equal('0 seconds');
    expect(spokenDuration(3, 'en')).to.equal('3 seconds');
    expect(spokenDuration(120, 'de')).to.equal('2 Minuten');
    expect(spokenDuration(1, 'fr')).to.equal('1\u00a0seconde');
  });

  it('puts the host strings over the language table, with English for a key a table lacks', async () => {
    const el = await probe('de');
    expect(el.i18n.t('send')).to.equal('Senden');
    el.strings = { send: 'Los' };
    expect(el.i18n.t('send')).to.equal('Los');
    expect(el.i18n.t('close')).to.equal('Schließen');
    // The host's own language: its plural forms are chosen by its rules.
    el.setAttribute('lang', 'ru');
    await new Promise((resolve) => setTimeout(resolve));
    el.strings = {
      newMessages: '{count} новых сообщений',
      newMessages_one: '{count} новое сообщение',
      ...({ newMessages_few: '{count} новых сообщения' } as object),
    };
    expect([1, 3, 5, 21].map((count) => el.i18n.t('newMessages', { count }))).to.deep.equal([
      '1 новое сообщение',
      '3 новых сообщения',
      '5 новых сообщений',
      '21 новое сообщение',
    ]);
  });
});
