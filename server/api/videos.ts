// GET /v1/conversations/:c/videos[?owner=&after=&before=&limit=], GET …/videos/:id and
// PUT …/videos/:id/watched. Video JSON carries `watchedBy` as the asker may know it.
import { badRequest, notFound, sendJson } from '../http/errors.js';
import type { RequestContext } from '../http/router.js';
import { isId } from '../ids.js';
import { UnknownCursorError } from '../store/errors.js';
import type { VideoRecord } from '../store/types.js';
import { videoJson, watchedByFor, type WireVideoPage } from '../wire.js';
import { canSeeVideo, memberOf, type ApiContext } from './context.js';
import { pageQuery } from './paging.js';

/**
 * A member's shared clips: ready, attached to messages (so visible to all), in message
 * order, paged like messages (newest page first, each page oldest first; `next` for more).
 */
export async function listVideos(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { identity, conversation } = await memberOf(api, ctx);
  const owner = ctx.query.get('owner') || undefined;
  if (owner !== undefined && !isId(owner)) throw badRequest('"owner" must be a user id.');
  const page = pageQuery(ctx.query, 'a video id');
  try {
    const { videos, next } = await api.store.listSharedVideos(conversation, { owner, ...page });
    const watchers = await api.store.removal.watchers(videos.map((video) => video.id));
    const answer: WireVideoPage = {
      videos: videos.map((video) =>
        videoJson(
          video,
          api.signer,
          watchedByFor(video, identity.user, watchers.get(video.id) ?? []),
        ),
      ),
      next,
    };
    sendJson(ctx.res, 200, answer);
  } catch (error) {
    if (error instanceof UnknownCursorError) throw badRequest(error.message);
    throw error;
  }
}

export async function getVideo(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { identity, video } = await visibleVideo(api, ctx);
  const watchers = (await api.store.removal.watchers([video.id])).get(video.id) ?? [];
  sendJson(
    ctx.res,
    200,
    videoJson(video, api.signer, watchedByFor(video, identity.user, watchers)),
  );
}

/**
 * PUT …/videos/:id/watched — the caller has watched the clip (to its end, or most of it):
 * 204, idempotent; the first time, `video.watched` goes to the owner and to the caller's
 * other streams.
 */
export async function markWatched(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { identity, video } = await visibleVideo(api, ctx);
  await api.store.removal.markWatched(video, identity.user);
  await api.members.seen(identity, video.conversation);
  ctx.res.statusCode = 204;
  ctx.res.setHeader('Cache-Control', 'no-store');
  ctx.res.end();
}

/** The `:id` video of the `:c` conversation if the caller may see it (404 otherwise). */
async function visibleVideo(api: ApiContext, ctx: RequestContext) {
  const { identity, conversation } = await memberOf(api, ctx);
  const id = ctx.params.id!;
  if (!isId(id)) throw badRequest('Not a video id.');
  const video: VideoRecord | undefined = await api.store.getVideo(id);
  if (
    !video ||
    video.conversation !== conversation ||
    !(await canSeeVideo(api, video, identity.user))
  )
    throw notFound('No such video in this conversation.');
  return { identity, video };
}
