// GET /v1/session (who the token names) and GET /v1/dev/token (demo only).
import { signToken } from '../auth/tokens.js';
import { badRequest, sendJson } from '../http/errors.js';
import type { RequestContext } from '../http/router.js';
import { isId } from '../ids.js';
import type { WireSession } from '../wire.js';
import { authenticate, type ApiContext } from './context.js';

export async function getSession(api: ApiContext, ctx: RequestContext): Promise<void> {
  const identity = await authenticate(api, ctx);
  const session: WireSession = {
    user: identity.user,
    name: identity.name,
    conversations: identity.conversations,
  };
  sendJson(ctx.res, 200, session);
}

/** Hands out a token for anyone who asks: only mounted when dev tokens are on. */
export function devToken(secret: string) {
  return async (api: ApiContext, ctx: RequestContext): Promise<void> => {
    const user = ctx.query.get('user') ?? '';
    const name = ctx.query.get('name') || user;
    // `conversation=c42` signs for that one conversation (what an element's getToken asks
    // for); `conversations=a,b` for several.
    const one = ctx.query.get('conversation');
    const list = one !== null ? one : (ctx.query.get('conversations') ?? '');
    const conversations = list.split(',').filter(Boolean);
    if (!isId(user)) throw badRequest('"user" must be a user id (A-Z a-z 0-9 _ -).');
    if (name.length > 200) throw badRequest('"name" is too long.');
    if (one !== null && (!isId(one) || ctx.query.has('conversations')))
      throw badRequest('"conversation" must be one conversation id (or use "conversations").');
    if (!conversations.every(isId))
      throw badRequest('"conversations" must be conversation ids, comma-separated.');
    // Twelve hours, or less when the server caps token lifetimes below that.
    const ttlS = Math.min(12 * 3600, api.config.maxTokenLifetimeS);
    const token = await signToken(secret, { user, name, conversations }, ttlS);
    sendJson(ctx.res, 200, { token });
  };
}
