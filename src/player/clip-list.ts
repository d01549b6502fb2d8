import type { Clip } from '../internal/events.js';
import { ReelError } from '../transport/errors.js';

/**
 * The clips a `clips` property gives, checked: the good ones (each with an `id`, its `src`
 * when it has none) and, when some were left out, the error that says which.
 */
export function checkClips(value: unknown): { clips: Clip[]; error?: ReelError } {
  if (!Array.isArray(value)) {
    return {
      clips: [],
      error: new ReelError('bad-request', 'clips must be an array of {id, src, …} objects.'),
    };
  }
  const clips: Clip[] = [];
  const bad: number[] = [];
  value.forEach((item: Partial<Clip> | null, i) => {
    const ok =
      item !== null &&
      typeof item === 'object' &&
      typeof item.src === 'string' &&
      item.src !== '' &&
      (item.type === undefined || item.type === 'hls' || item.type === 'file');
    if (ok)
      clips.push({
        ...item,
        id: typeof item.id === 'string' && item.id ? item.id : item.src,
      } as Clip);
    else bad.push(i);
  });
  const error = bad.length
    ? new ReelError(
        'bad-request',
        `clips[${bad.join(', ')}] left out: a clip needs a src and a type of "hls" or "file".`,
      )
    : undefined;
  return { clips, error };
}

/** The clips the `<reel-clip>` children of `host` describe. */
export function readClipChildren(host: Element): Clip[] {
  const clips: Clip[] = [];
  for (const child of host.querySelectorAll(':scope > reel-clip')) {
    const src = child.getAttribute('src');
    if (!src) continue;
    const type = child.getAttribute('type');
    const duration = Number(child.getAttribute('duration'));
    clips.push({
      id: child.getAttribute('clip-id') || child.id || src,
      src,
      type: type === 'file' ? 'file' : 'hls',
      poster: child.getAttribute('poster') ?? undefined,
      owner: child.getAttribute('owner') ?? undefined,
      ownerName: child.getAttribute('owner-name') ?? undefined,
      duration: Number.isFinite(duration) && duration > 0 ? duration : undefined,
      watched: child.hasAttribute('watched'),
    });
  }
  return clips;
}

/** The same clips in the same order (by id and src; `watched` aside). */
export function sameClips(a: readonly Clip[], b: readonly Clip[]): boolean {
  return (
    a.length === b.length && a.every((clip, i) => clip.id === b[i].id && clip.src === b[i].src)
  );
}
