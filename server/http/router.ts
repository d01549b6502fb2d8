// A small router: `METHOD /path/:param` patterns, matched segment by segment on the raw
// path (no dot-segment normalisation, so `/media/../x` never becomes `/x`). Parameters are
// percent-decoded; handlers validate them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The raw path, without the query. */
  path: string;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  segments: string[];
  /** A trailing `*` parameter takes the rest of the path. */
  rest: boolean;
  handler: Handler;
  /** As given to add(), for logs and metrics (no ids in it). */
  pattern: string;
}

export type Match =
  | { kind: 'found'; handler: Handler; params: Record<string, string>; pattern: string }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const segments = pattern.split('/').slice(1);
    const rest = segments.at(-1) === '*';
    if (rest) segments.pop();
    this.routes.push({ method, segments, rest, handler, pattern });
    return this;
  }

  match(method: string, path: string): Match {
    const parts = path.split('/').slice(1);
    const allow = new Set<string>();
    let found: { handler: Handler; params: Record<string, string>; pattern: string } | undefined;
    for (const route of this.routes) {
      const params = matchSegments(route, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        // An explicit HEAD route wins over the GET fallback.
        if (!found || route.method === method) {
          found = { handler: route.handler, params, pattern: route.pattern };
        }
        if (route.method === method) break;
      }
      allow.add(route.method);
    }
    if (found) return { kind: 'found', ...found };
    if (allow.size > 0) {
      if (allow.has('GET')) allow.add('HEAD');
      return { kind: 'method-not-allowed', allow: [...allow] };
    }
    return { kind: 'not-found' };
  }
}

function matchSegments(route: Route, parts: string[]): Record<string, string> | undefined {
  if (route.rest ? parts.length < route.segments.length : parts.length !== route.segments.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (const [i, segment] of route.segments.entries()) {
    const part = parts[i]!;
    if (segment.startsWith(':')) {
      params[segment.slice(1)] = decode(part);
    } else if (segment !== part) {
      return undefined;
    }
  }
  if (route.rest) params['*'] = parts.slice(route.segments.length).join('/');
  return params;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, 'The path is not valid percent-encoding.');
  }
}

/** Splits `req.url` into its raw path and query without resolving `.` or `..`. */
export function splitUrl(url: string | undefined): { path: string; query: URLSearchParams } {
  const raw = url ?? '/';
  const mark = raw.indexOf('?');
  const path = mark === -1 ? raw : raw.slice(0, mark);
  const query = new URLSearchParams(mark === -1 ? '' : raw.slice(mark + 1));
  return { path: path.startsWith('/') ? path : `/${path}`, query };
}
