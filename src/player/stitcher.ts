/**
 * Client-side playlist stitching: every clip's own HLS media playlist, fetched and resolved to
 * absolute URLs, concatenated into one VOD playlist with `#EXT-X-DISCONTINUITY` between clips.
 * One hls.js instance then plays the whole reel as a single timeline, so the joins between clips
 * are as smooth as the joins between segments (see docs/player.md).
 */
import { ReelError } from '../transport/errors.js';
import { fetchWaitingLater } from './retry-loader.js';

/** One media segment of a clip, every URI absolute. */
export interface Segment {
  uri: string;
  duration: number;
  /** `#EXT-X-BYTERANGE` value, copied as is. */
  byterange?: string;
  /** The `#EXT-X-MAP` line (URI resolved) in force for this segment. */
  map?: string;
  /** The `#EXT-X-KEY` line (URI resolved) in force for this segment. */
  key?: string;
  /** A discontinuity inside the clip itself. */
  discontinuity?: boolean;
}

export interface MediaPlaylist {
  url: string;
  version: number;
  targetDuration: number;
  segments: Segment[];
  duration: number;
  /**
   * Still recorded (docs/protocol.md, "Live"): an EVENT playlist without #EXT-X-ENDLIST, which
   * grows; the reel stops at it until it ends.
   */
  live?: boolean;
}

/** A clip's place in the stitched timeline. */
export interface StitchedPart {
  /** The clip's index in the player's list. */
  index: number;
  start: number;
  duration: number;
}

export interface Stitched {
  text: string;
  parts: StitchedPart[];
  duration: number;
  /** The reel ends in a live clip: the playlist has no #EXT-X-ENDLIST (hls.js reloads it). */
  live: boolean;
}

/** Resolves `uri` against the playlist's own URL (absolute URLs are kept). */
function resolve(uri: string, base: string): string {
  return new URL(uri, base).href;
}

/** Rewrites the `URI="..."` attribute of a tag line to an absolute URL. */
function resolveUriAttribute(line: string, base: string): string {
  return line.replace(/URI="([^"]*)"/, (_whole, uri: string) => `URI="${resolve(uri, base)}"`);
}

/** True when the text is a multivariant (master) playlist rather than a media playlist. */
export function isMultivariant(text: string): boolean {
  return /^#EXT-X-STREAM-INF:/m.test(text);
}

/**
 * The variant to stitch from a multivariant playlist: the first one listed (servers put
 * their default first; every clip of a reel should pick alike so their formats match).
 */
export function pickVariant(text: string, base: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('#EXT-X-STREAM-INF:')) continue;
    const uri = lines.slice(i + 1).find((line) => line && !line.startsWith('#'));
    if (uri) return resolve(uri, base);
  }
  throw new ReelError('media', 'The multivariant playlist lists no variant.');
}

/** Parses a media playlist, resolving every URI against `url`. */
export function parseMediaPlaylist(text: string, url: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== '#EXTM3U') throw new ReelError('media', `Not an HLS playlist: ${url}`);
  let version = 1;
  let targetDuration = 0;
  let map: string | undefined;
  let key: string | undefined;
  let duration: number | undefined;
  let byterange: string | undefined;
  let discontinuity = false;
  let live = true;
  let event = false;
  const segments: Segment[] = [];
  for (const line of lines) {
    if (!line) continue;
    if (line.startsWith('#')) {
      const [tag, value = ''] = splitTag(line);
      switch (tag) {
        case '#EXT-X-VERSION':
          version = Number(value) || 1;
          break;
        case '#EXT-X-TARGETDURATION':
          targetDuration = Number(value) || 0;
          break;
        case '#EXT-X-MAP':
          map = resolveUriAttribute(line, url);
          break;
        case '#EXT-X-KEY':
          key = /METHOD=NONE/.test(value) ? undefined : resolveUriAttribute(line, url);
          break;
        case '#EXTINF':
          duration = parseFloat(value);
          break;
        case '#EXT-X-BYTERANGE':
          byterange = value;
          break;
        case '#EXT-X-DISCONTINUITY':
          discontinuity = segments.length > 0;
          break;
        case '#EXT-X-ENDLIST':
          live = false;
          break;
        case '#EXT-X-PLAYLIST-TYPE':
          event = value === 'EVENT';
          break;
        // Everything else (media sequence, playlist type, date-time, independent segments)
        // describes the clip alone and has no meaning in the stitched timeline.
      }
      continue;
    }
    if (duration === undefined || !Number.isFinite(duration)) {
      throw new ReelError('media', `A segment without a valid #EXTINF in ${url}`);
    }
    segments.push({
      uri: resolve(line, url),
      duration,
      ...(byterange !== undefined && { byterange }),
      ...(map !== undefined && { map }),
      ...(key !== undefined && { key }),
      ...(discontinuity && { discontinuity }),
    });
    duration = undefined;
    byterange = undefined;
    discontinuity = false;
  }
  // A growing EVENT playlist is a take still recorded; any other live one (a sliding window)
  // has no place in a reel.
  if (live && !event)
    throw new ReelError('media', `The playlist is not finished (no #EXT-X-ENDLIST): ${url}`);
  if (segments.length === 0) throw new ReelError('media', `The playlist has no segments: ${url}`);
  return {
    url,
    version,
    targetDuration: targetDuration || Math.ceil(Math.max(...segments.map((s) => s.duration))),
    segments,
    duration: segments.reduce((sum, segment) => sum + segment.duration, 0),
    ...(live && { live }),
  };
}

function splitTag(line: string): [string, string?] {
  const colon = line.indexOf(':');
  return colon < 0 ? [line] : [line.slice(0, colon), line.slice(colon + 1)];
}

/** Request options for a media URL (auth), as a transport's `mediaRequest()` gives them. */
export type MediaRequest = (url: string) => RequestInit | undefined;

/**
 * Fetches a clip's media playlist (following a multivariant playlist to its first variant)
 * and parses it. Rejects with a ReelError: `not-found` for a 404, `network` when unreachable.
 */
export async function fetchMediaPlaylist(
  src: string,
  options: { request?: MediaRequest; signal?: AbortSignal; cache?: RequestCache } = {},
): Promise<MediaPlaylist> {
  let url = new URL(src, document.baseURI).href;
  for (let hop = 0; hop < 2; hop++) {
    const text = await fetchText(url, options);
    if (!isMultivariant(text)) return parseMediaPlaylist(text, url);
    url = pickVariant(text, url);
  }
  throw new ReelError('media', `Too many multivariant playlists in a row: ${src}`);
}

async function fetchText(
  url: string,
  {
    request,
    signal,
    cache,
  }: { request?: MediaRequest; signal?: AbortSignal; cache?: RequestCache },
): Promise<string> {
  let response: Response;
  try {
    response = await fetchWaitingLater(url, { ...request?.(url), signal, ...(cache && { cache }) });
  } catch (error) {
    throw ReelError.from(error, 'network');
  }
  if (!response.ok) {
    const code =
      response.status === 404
        ? 'not-found'
        : response.status === 401
          ? 'unauthorized'
          : response.status === 403
            ? 'forbidden'
            : 'network';
    throw new ReelError(code, `The playlist ${url} answered ${response.status}.`, {
      status: response.status,
    });
  }
  return response.text();
}

/**
 * Concatenates clips' playlists into one VOD playlist. Each clip starts with a discontinuity
 * (but the first) and repeats its `EXT-X-MAP`, so its own init segment is used; the target
 * duration is the largest of them all. A live clip ends the reel for now: the playlist is an
 * EVENT one without an end (`event` keeps that type once the live clip has ended, as hls.js
 * expects a playlist to keep it), and the clips after it wait until it ends.
 */
export function stitch(all: { index: number; playlist: MediaPlaylist }[], event = false): Stitched {
  const firstLive = all.findIndex((clip) => clip.playlist.live);
  const clips = firstLive < 0 ? all : all.slice(0, firstLive + 1);
  const live = firstLive >= 0;
  const out: string[] = [];
  const parts: StitchedPart[] = [];
  let start = 0;
  let key: string | undefined;
  for (const [n, { index, playlist }] of clips.entries()) {
    parts.push({ index, start, duration: playlist.duration });
    let map: string | undefined;
    for (const [s, segment] of playlist.segments.entries()) {
      if ((n > 0 && s === 0) || segment.discontinuity) out.push('#EXT-X-DISCONTINUITY');
      if (segment.key !== key) {
        out.push(segment.key ?? '#EXT-X-KEY:METHOD=NONE');
        key = segment.key;
      }
      if (segment.map && (segment.map !== map || s === 0)) {
        out.push(segment.map);
        map = segment.map;
      }
      out.push(`#EXTINF:${segment.duration.toFixed(6)},`);
      if (segment.byterange) out.push(`#EXT-X-BYTERANGE:${segment.byterange}`);
      out.push(segment.uri);
    }
    start += playlist.duration;
  }
  const targetDuration = Math.max(
    1,
    ...clips.map((clip) => Math.ceil(clip.playlist.targetDuration)),
  );
  const version = Math.max(6, ...clips.map((clip) => clip.playlist.version));
  const head = [
    '#EXTM3U',
    `#EXT-X-VERSION:${version}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-DISCONTINUITY-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${live || event ? 'EVENT' : 'VOD'}`,
  ];
  const end = live ? [] : ['#EXT-X-ENDLIST'];
  return { text: [...head, ...out, ...end, ''].join('\n'), parts, duration: start, live };
}

/**
 * Which part plays at time `t` of the stitched timeline. A small tolerance puts a time just
 * before a join (seeks land a few ms early) in the clip that starts there.
 */
export function partAt(parts: StitchedPart[], t: number, tolerance = 0.05): number {
  let found = 0;
  for (let i = 0; i < parts.length; i++) if (parts[i].start <= t + tolerance) found = i;
  return found;
}
