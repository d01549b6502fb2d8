/**
 * A take's shape, chosen by `<reel-recorder>`'s `shape` attribute: `portrait` (9:16, as a
 * phone is held), `square` (1:1, shown round, a "video note") or `landscape` (16:9). Without
 * one (or with one it does not know) the shape suits the screen: portrait when it is taller
 * than wide (a phone held upright), landscape otherwise. The element's styles follow the same
 * rule for the picture (`recorder-parts.styles.ts`); the camera is asked for that aspect ratio.
 */
export type TakeShape = 'portrait' | 'square' | 'landscape';

/** Width over height of each shape. */
export const SHAPE_RATIO: Record<TakeShape, number> = {
  portrait: 9 / 16,
  square: 1,
  landscape: 16 / 9,
};

export function takeShape(host: Element): TakeShape {
  const asked = host.getAttribute('shape');
  if (asked === 'portrait' || asked === 'square' || asked === 'landscape') return asked;
  return matchMedia('(orientation: portrait)').matches ? 'portrait' : 'landscape';
}
