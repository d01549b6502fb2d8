// The query of a paged list (messages, videos): `after`/`before` cursors (ids) and `limit`.
import { badRequest } from '../http/errors.js';
import { isId } from '../ids.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

export interface PageQuery {
  after?: string;
  before?: string;
  limit: number;
}

/** Reads `after`, `before` and `limit`; `what` names the cursors in errors ("a message id"). */
export function pageQuery(query: URLSearchParams, what: string): PageQuery {
  return {
    after: cursor(query.get('after'), 'after', what),
    before: cursor(query.get('before'), 'before', what),
    limit: parseLimit(query.get('limit')),
  };
}

function cursor(value: string | null, name: string, what: string): string | undefined {
  if (value === null || value === '') return undefined;
  if (!isId(value)) throw badRequest(`"${name}" must be ${what}.`);
  return value;
}

function parseLimit(value: string | null): number {
  if (value === null || value === '') return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1)
    throw badRequest('"limit" must be a positive whole number.');
  return Math.min(limit, MAX_LIMIT);
}
