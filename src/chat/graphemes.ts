/**
 * `text` cut to at most `max` UTF-16 code units (what `maxlength` and the server count)
 * without splitting a grapheme — an emoji with its modifiers, a letter with its accents —
 * where the browser has `Intl.Segmenter`, and never a surrogate pair where it has not.
 */
export function cutToGraphemes(text: string, max: number): string {
  if (text.length <= max) return text;
  if (typeof Intl !== 'undefined' && 'Segmenter' in Intl) {
    let end = 0;
    for (const { segment } of new Intl.Segmenter().segment(text)) {
      if (end + segment.length > max) break;
      end += segment.length;
    }
    return text.slice(0, end);
  }
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}
