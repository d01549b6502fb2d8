// GET and POST /v1/conversations/:c/messages.
import type { Identity } from '../auth/tokens.js';
import {
  HttpError,
  badRequest,
  forbidden,
  notFound,
  quotaExceeded,
  sendJson,
} from '../http/errors.js';
import { readJson } from '../http/body.js';
import type { RequestContext } from '../http/router.js';
import { isId, newId } from '../ids.js';
import type { RateLimit } from '../limits/rate-limit.js';
import { UnknownCursorError, VideoTakenError } from '../store/errors.js';
import type { MessageRecord } from '../store/types.js';
import { messageJson, type WireMessagePage } from '../wire.js';
import { memberOf, type ApiContext } from './context.js';
import { pageQuery } from './paging.js';

/** Line breaks as sent by any platform (CRLF, CR) become LF. */
const LINE_BREAK = /\r\n?/g;
/** C0 and C1 controls except newline and tab (NUL, bell, escape, backspace…): stripped. */
const CONTROLS = /[^\P{Cc}\n\t]/gu;
/** Half of a surrogate pair on its own: not text. */
const LONE_SURROGATE = /\p{Cs}/u;
/**
 * A character that shows. Not one: white space and separators, controls, format characters
 * (zero-width space and joiner, bidi marks), combining marks without a base, the
 * default-ignorable code points (variation selectors, Hangul fillers, tags) and the blank
 * Braille pattern. These stay in a text that has something visible (a ZWJ inside an
 * emoji sequence, a variation selector after a heart), but cannot make a message alone.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Z}\p{M}\p{Default_Ignorable_Code_Point}\u2800]/u;

export async function listMessages(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { conversation } = await memberOf(api, ctx);
  const page = pageQuery(ctx.query, 'a message id');
  try {
    const result = await api.store.listMessages(conversation, page);
    const answer: WireMessagePage = {
      messages: result.messages.map(messageJson),
      next: result.next,
    };
    sendJson(ctx.res, 200, answer);
  } catch (error) {
    if (error instanceof UnknownCursorError) throw badRequest(error.message);
    throw error;
  }
}

/**
 * POST …/messages, with each author's new messages limited by `rate` (a token bucket;
 * none: no limit). A retry of a message already sent answers it and costs nothing.
 */
export function postMessage(
  rate: RateLimit | undefined,
): (api: ApiContext, ctx: RequestContext) => Promise<void> {
  return async (api, ctx) => {
    const { identity, conversation } = await memberOf(api, ctx);
    const message = await newMessage(api, ctx, identity, conversation);
    if (!message) return;
    const taken = await rate?.take(identity.user);
    if (taken && !taken.ok) {
      throw quotaExceeded(
        429,
        `Too many messages: wait ${taken.retryAfterS} s before sending more.`,
        taken.retryAfterS,
      );
    }
    let result: { message: MessageRecord; created: boolean };
    try {
      result = await api.store.createMessage(message);
    } catch (error) {
      await rate?.refund(identity.user);
      if (error instanceof VideoTakenError) throw new HttpError(409, error.message);
      throw error;
    }
    // The same clientId won a race with this request: nothing new was sent.
    if (!result.created) await rate?.refund(identity.user);
    await api.members.seen(identity, conversation);
    answer(ctx, result.message, result.created, conversation);
  };
}

/**
 * DELETE …/messages/:id — the author unsends a message: 204, also when it was unsent
 * already; 403 for someone else's, 404 for none. Its video's rows go in the same
 * transaction (so no conversion can make it ready again), then its files.
 */
export async function deleteMessage(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { identity, conversation } = await memberOf(api, ctx);
  const id = ctx.params.id!;
  if (!isId(id)) throw badRequest('Not a message id.');
  const result = await api.store.removal.deleteMessage(conversation, id, identity.user);
  if (result.outcome === 'not-found') throw notFound('No such message in this conversation.');
  if (result.outcome === 'forbidden') throw forbidden('Only its author can unsend a message.');
  if (result.outcome === 'deleted' && result.video !== null) await api.discardVideo(result.video);
  ctx.res.statusCode = 204;
  ctx.res.setHeader('Cache-Control', 'no-store');
  ctx.res.end();
}

/** The message the body asks for, or undefined once an earlier one with its clientId was answered. */
async function newMessage(
  api: ApiContext,
  ctx: RequestContext,
  identity: Identity,
  conversation: string,
): Promise<MessageRecord | undefined> {
  const body = await readJson(ctx.req);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The body must be a JSON object.');
  }
  const { clientId, text, video } = body as Record<string, unknown>;
  if (!isId(clientId)) throw badRequest('"clientId" must be 1–64 characters of A-Z a-z 0-9 _ -.');
  // A retry with the same clientId answers the first message, whatever this body says.
  const earlier = await api.store.messageByClientId(identity.user, clientId);
  if (earlier) {
    answer(ctx, earlier, false, conversation);
    return undefined;
  }

  if ((text === undefined) === (video === undefined)) {
    throw badRequest('A message has either "text" or "video".');
  }
  const message: MessageRecord = {
    id: newId(),
    conversation,
    clientId,
    author: identity.user,
    authorName: identity.name,
    text: null,
    video: null,
    createdAt: new Date().toISOString(),
    deletedAt: null,
  };
  if (text !== undefined) {
    if (typeof text !== 'string') throw badRequest('"text" must be a non-empty string.');
    if (LONE_SURROGATE.test(text)) throw badRequest('"text" is not valid Unicode.');
    message.text = text.replace(LINE_BREAK, '\n').replace(CONTROLS, '').trim();
    if (!VISIBLE.test(message.text)) {
      throw badRequest('"text" must have at least one visible character.');
    }
    if ([...message.text].length > api.config.maxText) {
      throw new HttpError(413, `"text" is longer than ${api.config.maxText} characters.`);
    }
  } else {
    if (!isId(video)) throw badRequest('"video" must be a video id.');
    const own = await api.store.getVideo(video);
    if (!own || own.owner !== identity.user || own.conversation !== conversation) {
      throw badRequest('"video" must be one of your uploads in this conversation.');
    }
    message.video = video;
  }
  return message;
}

function answer(
  ctx: RequestContext,
  message: MessageRecord,
  created: boolean,
  conversation: string,
): void {
  if (!created && message.conversation !== conversation) {
    throw new HttpError(
      409,
      'This clientId was already used for a message in another conversation.',
    );
  }
  sendJson(ctx.res, created ? 201 : 200, messageJson(message));
}
