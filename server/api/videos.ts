// GET /v1/conversations/:c/videos[?owner=&after=&before=&limit=] and /v1/conversations/:c/videos/:id.
import { badRequest, notFound, sendJson } from '../http/errors.js';
import type { RequestContext } from '../http/router.js';
import { isId } from '../ids.js';
import { UnknownCursorError } from '../store/types.js';
import { videoJson, type WireVideoPage } from '../wire.js';
import { canSeeVideo, memberOf, type ApiContext } from './context.js';
import { pageQuery } from './paging.js';

/**
 * A member's shared clips: ready, attached to messages (so visible to all), in message
 * order, paged like messages (newest page first, each page oldest first; `next` for more).
 */
export async function listVideos(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { conversation } = await memberOf(api, ctx);
  const owner = ctx.query.get('owner') || undefined;
  if (owner !== undefined && !isId(owner)) throw badRequest('"owner" must be a user id.');
  const page = pageQuery(ctx.query, 'a video id');
  try {
    const { videos, next } = await api.store.listSharedVideos(conversation, { owner, ...page });
    const answer: WireVideoPage = {
      videos: videos.map((video) => videoJson(video, api.signer)),
      next,
    };
    sendJson(ctx.res, 200, answer);
  } catch (error) {
    if (error instanceof UnknownCursorError) throw badRequest(error.message);
    throw error;
  }
}

export async function getVideo(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { identity, conversation } = await memberOf(api, ctx);
  const id = ctx.params.id!;
  if (!isId(id)) throw badRequest('Not a video id.');
  const video = await api.store.getVideo(id);
  if (
    !video ||
    video.conversation !== conversation ||
    !(await canSeeVideo(api, video, identity.user))
  )
    throw notFound('No such video in this conversation.');
  sendJson(ctx.res, 200, videoJson(video, api.signer));
}
