// GET and POST /v1/conversations/:c/messages.
import { HttpError, badRequest, sendJson } from '../http/errors.js';
import { readJson } from '../http/body.js';
import type { RequestContext } from '../http/router.js';
import { isId, newId } from '../ids.js';
import { VideoTakenError } from '../store/sqlite.js';
import { UnknownCursorError, type MessageRecord } from '../store/types.js';
import { messageJson } from '../wire.js';
import { memberOf, type ApiContext } from './context.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

export async function listMessages(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { conversation } = await memberOf(api, ctx);
  const after = cursor(ctx.query.get('after'), 'after');
  const before = cursor(ctx.query.get('before'), 'before');
  const limit = parseLimit(ctx.query.get('limit'));
  try {
    const page = await api.store.listMessages(conversation, { after, before, limit });
    sendJson(ctx.res, 200, { messages: page.messages.map(messageJson), next: page.next });
  } catch (error) {
    if (error instanceof UnknownCursorError) throw badRequest(error.message);
    throw error;
  }
}

export async function postMessage(api: ApiContext, ctx: RequestContext): Promise<void> {
  const { identity, conversation } = await memberOf(api, ctx);
  const body = await readJson(ctx.req);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The body must be a JSON object.');
  }
  const { clientId, text, video } = body as Record<string, unknown>;
  if (!isId(clientId)) throw badRequest('"clientId" must be 1–64 characters of A-Z a-z 0-9 _ -.');
  // A retry with the same clientId answers the first message, whatever this body says.
  const earlier = await api.store.messageByClientId(identity.user, clientId);
  if (earlier) return answer(ctx, earlier, false, conversation);

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
  };
  if (text !== undefined) {
    if (typeof text !== 'string' || text.trim() === '')
      throw badRequest('"text" must be a non-empty string.');
    message.text = text.trim();
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
  try {
    const result = await api.store.createMessage(message);
    await api.members.seen(identity, conversation);
    answer(ctx, result.message, result.created, conversation);
  } catch (error) {
    if (error instanceof VideoTakenError) throw new HttpError(409, error.message);
    throw error;
  }
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

function cursor(value: string | null, name: string): string | undefined {
  if (value === null || value === '') return undefined;
  if (!isId(value)) throw badRequest(`"${name}" must be a message id.`);
  return value;
}

function parseLimit(value: string | null): number {
  if (value === null || value === '') return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1)
    throw badRequest('"limit" must be a positive whole number.');
  return Math.min(limit, MAX_LIMIT);
}
