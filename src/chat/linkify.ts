/**
 * Splits message text into plain runs and web links. Only `http:` and `https:` URLs become
 * links; everything else (including `javascript:` and `data:`) stays text. The result is
 * rendered with lit text bindings, so nothing here is ever parsed as HTML.
 */
export type TextPart =
  { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// A run starting with http(s):// or www., up to whitespace or an angle bracket.
const CANDIDATE = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;
// Punctuation that usually ends a sentence rather than a URL.
const TRAILING = /[.,;:!?'")\]}]+$/;

/** The safe `href` for a candidate, or undefined when it is not an http(s) URL. */
export function safeHref(candidate: string): string | undefined {
  const withScheme = /^www\./i.test(candidate) ? `https://${candidate}` : candidate;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (!url.hostname) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  const push = (run: string) => {
    if (!run) return;
    const previous = parts.at(-1);
    if (previous?.kind === 'text') previous.text += run;
    else parts.push({ kind: 'text', text: run });
  };
  for (const match of text.matchAll(CANDIDATE)) {
    let candidate = match[0];
    // Keep a closing bracket that belongs to the URL, e.g. a Wikipedia "(disambiguation)".
    const trailing = TRAILING.exec(candidate)?.[0] ?? '';
    candidate = candidate.slice(0, candidate.length - trailing.length);
    if (trailing.startsWith(')') && candidate.includes('(')) {
      candidate += ')';
    }
    const start = match.index;
    const href = safeHref(candidate);
    push(text.slice(last, start));
    if (href) parts.push({ kind: 'link', text: candidate, href });
    else push(candidate);
    last = start + candidate.length;
  }
  push(text.slice(last));
  return parts;
}
