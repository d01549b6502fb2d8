// GET /media/:video/:file — the HLS playlist, init and media segments, and the poster, for
// those who may see the video: a bearer token of its owner, or of a member of its
// conversation once it is attached to a message; or the signed `?t=` token the video's URLs
// carry (handed out only to those who may see it). The playlist is rewritten so every URI in
// it carries that `t`.
import { isMember } from '../auth/tokens.js';
import { forbidden, notFound, unauthorized } from '../http/errors.js';
import { contentTypeFor, sendBody } from '../http/files.js';
import type { RequestContext } from '../http/router.js';
import { isId } from '../ids.js';
import { canSeeVideo, type ApiContext } from './context.js';
import { MEDIA_FILE } from '../media/store.js';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';

const IMMUTABLE = 'private, max-age=31536000, immutable';
const PLAYLIST = 'private, max-age=5';

export async function serveMedia(api: ApiContext, ctx: RequestContext): Promise<void> {
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
  await sendBody(req, res, file, contentTypeFor(name));
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
