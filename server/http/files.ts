// Serving files: single byte ranges (206 / 416), HEAD, content types by extension, and a
// static handler that never leaves its root folder.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { notFound } from './errors.js';

export const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mp4': 'video/mp4',
  '.m4s': 'video/mp4',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.webm': 'video/webm',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
};

export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

export type ByteRange = { start: number; end: number };

/**
 * Parses a Range header against a size. Undefined: serve the whole file (no header, another
 * unit, or several ranges — which a server may ignore). 'unsatisfiable': answer 416.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

export interface FileBody {
  size: number;
  open(range?: ByteRange): Readable;
}

/** Answers with a file (or part of it); headers such as Cache-Control are set by the caller. */
export async function sendBody(
  req: IncomingMessage,
  res: ServerResponse,
  body: FileBody,
  contentType: string,
): Promise<void> {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Accept-Ranges', 'bytes');
  const range = parseRange(req.headers.range, body.size);
  if (range === 'unsatisfiable') {
    res.statusCode = 416;
    res.setHeader('Content-Range', `bytes */${body.size}`);
    res.end();
    return;
  }
  if (range) {
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${body.size}`);
    res.setHeader('Content-Length', range.end - range.start + 1);
  } else {
    res.statusCode = 200;
    res.setHeader('Content-Length', body.size);
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    await pipeline(body.open(range), res);
  } catch {
    // The client went away mid-file; nothing to answer.
  }
}

export function fileBody(path: string, size: number): FileBody {
  return {
    size,
    open: (range) => createReadStream(path, range ? { start: range.start, end: range.end } : {}),
  };
}

/**
 * Serves files below `root` for a request path remainder (`a/b.js`). Dot-files, `..` and
 * encoded separators are refused; directories serve their index.html.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  rest: string,
): Promise<void> {
  const base = resolve(root);
  let parts: string[];
  try {
    parts = rest.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw notFound();
  }
  if (parts.some((part) => part.startsWith('.') || /[\\/\0]/.test(part))) throw notFound();
  let path = resolve(base, ...parts);
  if (path !== base && !path.startsWith(base + sep)) throw notFound();
  let info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) {
    path = resolve(path, 'index.html');
    info = await stat(path).catch(() => undefined);
  }
  if (!info?.isFile()) throw notFound();
  res.setHeader('Cache-Control', 'no-cache');
  await sendBody(req, res, fileBody(path, info.size), contentTypeFor(path));
}
