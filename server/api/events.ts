// GET /v1/events[?conversation=c] — the SSE stream of the caller's conversations.
// EventSource cannot send headers, so this route (and media) also takes the token as
// `?access_token=`, and the last seen id as `?lastEventId=` besides the Last-Event-ID header.
import { isMember } from '../auth/tokens.js';
import type { SseHub } from '../events/sse.js';
import { badRequest, forbidden } from '../http/errors.js';
import type { RequestContext } from '../http/router.js';
import { isId } from '../ids.js';
import type { ApiContext } from './context.js';

export function streamEvents(sse: SseHub) {
  return async (api: ApiContext, ctx: RequestContext): Promise<void> => {
    const identity = await api.tokens.fromRequest(ctx.req, ctx.query.get('access_token'));
    let conversations = identity.conversations;
    const only = ctx.query.get('conversation');
    if (only !== null) {
      if (!isId(only)) throw badRequest('Not a conversation id.');
      if (!isMember(identity, only)) throw forbidden();
      conversations = [only];
    }
    const header = ctx.req.headers['last-event-id'];
    const raw =
      (typeof header === 'string' ? header : undefined) ?? ctx.query.get('lastEventId') ?? '';
    if (raw !== '' && !/^\d{1,15}$/.test(raw.trim()))
      throw badRequest('Last-Event-ID must be an event id.');
    for (const conversation of conversations) await api.members.seen(identity, conversation);
    await sse.stream({
      req: ctx.req,
      res: ctx.res,
      user: identity.user,
      conversations,
      lastEventId: raw === '' ? 0 : Number(raw),
      expiresAt: identity.exp * 1000,
    });
  };
}
