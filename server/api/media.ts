// GET /media/:video/:file — the HLS playlist, init and media segments, and the poster, for
// those who may see the video: a bearer token of its owner, or of a member of its
// conversation once it is attached to a message; or the signed `?t=` token the video's URLs
// carry (handed out only to those who may see it). The playlist is rewritten so every URI in
// it carries that `t`. While the bucket is unavailable (scaled mode) the answer is 503 with
// Retry-After, never a 500: the player waits and asks again.
import { isMember } from '../auth/tokens.js';
import { forbidden, HttpError, notFound, unauthorized } from '../http/errors.js';
import { contentTypeFor, parseRange, sendBody, type FileBody } from '../http/files.js';
import type { RequestContext } from '../http/router.js';
import { isId } from '../ids.js';
import { canSeeVideo, type ApiContext } from './context.js';
import { MEDIA_FILE } from '../media/store.js';
import { isStorageUnavailable, STORAGE_RETRY_AFTER_S } from '../media/unavailable.js';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';

const IMMUTABLE = 'private, max-age=31536000, immutable';
const PLAYLIST = 'private, max-age=5';

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
  if (t !== null) {
    if (!api.signer.verify(videoId, t))
      throw unauthorized('The media link has expired or is not valid.');
    // A link signed before the clip was unsent (or expired by retention) is still within
    // its lifetime: the video's row decides, not only whether its files are gone yet.
    if (!(await api.store.getVideo(videoId))) throw notFound();
  } else {
    if (req.headers.authorization === undefined) throw unauthorized();
    const identity = await api.tokens.fromRequest(req);
    const video = await api.store.getVideo(videoId);
    if (!video) throw notFound();
    if (!isMember(identity, video.conversation)) throw forbidden();
    if (!(await canSeeVideo(api, video, identity.user))) throw notFound();
  }

  const file = await api.media.file(videoId, name);
  if (!file) throw notFound();
  const isPlaylist = name === 'index.m3u8';
  res.setHeader('Cache-Control', isPlaylist ? PLAYLIST : IMMUTABLE);
  if (isPlaylist && t !== null) {
    const playlist = withToken(await text(file.open()), t);
    const bytes = Buffer.from(playlist);
    await sendBody(
      req,
      res,
      {
        size: bytes.length,
        open: (range) =>
          Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]),
      },
      contentTypeFor(name),
    );
    return;
  }
  await sendBody(req, res, await answered(req, file), contentTypeFor(name));
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
