// GET /media/:video/:file — the HLS playlist, init and media segments, and the poster, for
// those who may see the video: a bearer token of its owner, or of a member of its
// conversation once it is attached to a message; or the signed `?t=` token the video's URLs
// carry (handed out only to those who may see it). The playlist is rewritten so every URI in
// it carries that `t`. While the bucket is unavailable (scaled mode) the answer is 503 with
// Retry-After, never a 500: the player waits and asks again.
import { isMember } from '../auth/tokens.js';
import { servedText, type LivePlaylists } from '../events/live-playlists.js';
import { badRequest, forbidden, HttpError, notFound, unauthorized } from '../http/errors.js';
import { contentTypeFor, parseRange, sendBody, type FileBody } from '../http/files.js';
import type { RequestContext } from '../http/router.js';
import { isId } from '../ids.js';
import { canSeeVideo, type ApiContext } from './context.js';
import { MEDIA_FILE } from '../media/store.js';
import { isStorageUnavailable, STORAGE_RETRY_AFTER_S } from '../media/unavailable.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';

const IMMUTABLE = 'private, max-age=31536000, immutable';
const PLAYLIST = 'private, max-age=5';
/** A live playlist changes every second: never answered from a cache. */
const LIVE_PLAYLIST = 'private, no-cache';
/** How long a blocking reload waits for its segment (3 target durations of 1 s). */
const BLOCK_MS = 3_000;
/**
 * How long a live take's playlist, asked for before its first segment, waits for it (then
 * `404`): its first second of media, the recorder's chunk and ffmpeg's start, with room.
 */
const FIRST_SEGMENT_MS = 10_000;

export async function serveMedia(api: ApiContext, ctx: RequestContext): Promise<void> {
  try {
    await serveMediaFile(api, ctx);
  } catch (error) {
    if (!isStorageUnavailable(error)) throw error;
    console.error(`reelchat: media read refused, ${error.message}`);
    const seconds = STORAGE_RETRY_AFTER_S;
    throw new HttpError(
      503,
      'The media storage is unavailable for a moment; try again shortly.',
      { retryAfter: seconds },
      { code: 'network', headers: { 'Retry-After': String(seconds) } },
    );
  }
}

async function serveMediaFile(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { req, res, params, query } = ctx;
  const videoId = params.video!;
  const name = params.file!;
  if (!isId(videoId) || !MEDIA_FILE.test(name)) throw notFound();

  const t = query.get('t');
  let video;
  if (t !== null) {
    if (!api.signer.verify(videoId, t))
      throw unauthorized('The media link has expired or is not valid.');
    // A link signed before the clip was unsent (or expired by retention) is still within
    // its lifetime: the video's row decides, not only whether its files are gone yet.
    video = await api.store.getVideo(videoId);
    if (!video) throw notFound();
  } else {
    if (req.headers.authorization === undefined) throw unauthorized();
    const identity = await api.tokens.fromRequest(req);
    video = await api.store.getVideo(videoId);
    if (!video) throw notFound();
    if (!isMember(identity, video.conversation)) throw forbidden();
    if (!(await canSeeVideo(api, video, identity.user))) throw notFound();
  }

  const isPlaylist = name === 'index.m3u8';
  // A take shared while recorded: its growing playlist, and its files while they are made.
  if (api.live && isPlaylist) {
    const live = await livePlaylist(api.live, ctx, videoId, video.state === 'live');
    if (live !== undefined) {
      res.setHeader('Cache-Control', LIVE_PLAYLIST);
      return sendText(req, res, t === null ? live : withToken(live, t), name);
    }
  }
  const file = (await api.live?.file(videoId, name)) ?? (await api.media.file(videoId, name));
  if (!file) throw notFound();
  res.setHeader('Cache-Control', isPlaylist ? PLAYLIST : IMMUTABLE);
  if (isPlaylist && t !== null) {
    return sendText(req, res, withToken(await text(file.open()), t), name);
  }
  await sendBody(req, res, await answered(req, file), contentTypeFor(name));
}

/**
 * A live take's playlist as it is now, or — asked with `_HLS_msn=N` (blocking reload) — once
 * it has segment N, the take ended, or BLOCK_MS passed (then as it is: the client asks again).
 * Before the first segment of a `live` video, once that is out (FIRST_SEGMENT_MS at most).
 * Undefined when the video is not live here (ready, or its live conversion gave up).
 */
async function livePlaylist(
  live: LivePlaylists,
  { req, query }: RequestContext,
  videoId: string,
  isLive: boolean,
): Promise<string | undefined> {
  let playlist = live.get(videoId);
  if (!playlist && !isLive) return undefined;
  const msnParam = query.get('_HLS_msn');
  if (msnParam !== null && !/^\d{1,9}$/.test(msnParam)) {
    throw badRequest('"_HLS_msn" must be a segment number.');
  }
  const left = new AbortController();
  const onClose = () => left.abort();
  req.once('close', onClose);
  try {
    // Live from its creation: asked for before its first segment, it waits for it.
    playlist ??= await live.waitForFirst(videoId, FIRST_SEGMENT_MS, left.signal);
    if (!playlist || msnParam === null) return playlist && servedText(playlist);
    const msn = Number(msnParam);
    // RFC 8216bis 6.2.5.2: a segment more than two past the last one is refused.
    if (!playlist.ended && msn > playlist.segments + 1) {
      throw badRequest(`Segment ${msn} is too far ahead (the playlist has ${playlist.segments}).`);
    }
    playlist = await live.waitFor(videoId, msn, BLOCK_MS, left.signal);
    return playlist && servedText(playlist);
  } finally {
    req.off('close', onClose);
  }
}

async function sendText(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  name: string,
): Promise<void> {
  const bytes = Buffer.from(body);
  await sendBody(
    req,
    res,
    {
      size: bytes.length,
      open: (range) => Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]),
    },
    contentTypeFor(name),
  );
}

/**
 * The file with its body already asked for (a GET's range, as sendBody will compute it),
 * once its first bytes are there: a bucket that fails then still leaves the answer's status
 * free to be a 503, where failing inside sendBody could only cut the connection.
 */
async function answered(req: IncomingMessage, file: FileBody): Promise<FileBody> {
  if (req.method === 'HEAD') return file;
  const range = parseRange(req.headers.range, file.size);
  if (range === 'unsatisfiable') return file;
  const body = file.open(range);
  // An error after the first bytes reaches sendBody's pipeline; none may go unheard before.
  body.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      body.off('readable', onReadable).off('end', onReadable).off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onReadable = () => settle();
    body.once('readable', onReadable).once('end', onReadable).once('error', settle);
  });
  return { size: file.size, open: () => body };
}

/** Adds `t` to every URI line and every URI="…" attribute of a playlist. */
export function withToken(playlist: string, t: string): string {
  const add = (uri: string) => `${uri}${uri.includes('?') ? '&' : '?'}t=${encodeURIComponent(t)}`;
  return playlist
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return add(trimmed);
      return line.replace(/URI="([^"]*)"/g, (_match, uri: string) => `URI="${add(uri)}"`);
    })
    .join('\n');
}
