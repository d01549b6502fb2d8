// JSON request bodies: size-limited before and while reading, so a large or endless body
// costs at most `limit` bytes of memory.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

export const JSON_LIMIT = 64 * 1024;

export async function readJson(req: IncomingMessage, limit = JSON_LIMIT): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(req, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(req, limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'The request body must be JSON.');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
}

function tooLarge(req: IncomingMessage, limit: number): HttpError {
  // Leave the rest of the body unread; the connection closes after the answer.
  req.resume();
  return new HttpError(413, `The request body is larger than ${limit} bytes.`, {});
}
