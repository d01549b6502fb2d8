import { ReelError } from './errors.js';
import type { ListOptions, MessageDraft } from './types.js';

/** Ids that cross the network: conversation, user, client and message ids. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function validateId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new ReelError('bad-request', `${what} must be 1–64 letters, digits, "_" or "-".`);
  }
  return value;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;

export function validateListOptions(options: ListOptions): { limit: number } {
  if (options.after !== undefined && options.before !== undefined) {
    throw new ReelError('bad-request', 'Give "after" or "before", not both.');
  }
  if (options.after !== undefined) validateId(options.after, 'after');
  if (options.before !== undefined) validateId(options.before, 'before');
  const limit = options.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ReelError('bad-request', 'limit must be a whole number of at least 1.');
  }
  return { limit: Math.min(limit, MAX_PAGE) };
}

/** A draft as it will be stored: text trimmed, exactly one of text or video. */
export function validateDraft(
  draft: MessageDraft,
  maxText: number,
): { clientId: string; text?: string; video?: string } {
  validateId(draft?.clientId, 'clientId');
  if (draft.video !== undefined) {
    if (draft.text !== undefined)
      throw new ReelError('bad-request', 'A message has text or a video, not both.');
    return { clientId: draft.clientId, video: validateId(draft.video, 'video') };
  }
  if (typeof draft.text !== 'string')
    throw new ReelError('bad-request', 'A message needs text or a video.');
  const text = draft.text.trim();
  if (text.length === 0) throw new ReelError('bad-request', 'The message is empty.');
  if (text.length > maxText) {
    throw new ReelError('too-large', `The message is longer than ${maxText} characters.`);
  }
  return { clientId: draft.clientId, text };
}
