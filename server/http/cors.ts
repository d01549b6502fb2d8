// CORS: the elements run on the host site's origin, so the API and media answer the origins
// in REELCHAT_ALLOWED_ORIGINS. Other cross-origin requests are refused outright (403), which
// also keeps a foreign page from causing side effects with a request it cannot read.
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Last-Event-ID',
  'Range',
  'Tus-Resumable',
  'Upload-Length',
  'Upload-Defer-Length',
  'Upload-Metadata',
  'Upload-Offset',
  'Upload-Concat',
  'X-HTTP-Method-Override',
  'X-Requested-With',
].join(', ');
export const EXPOSE_HEADERS = [
  'Location',
  // How long to wait after a 429 or 503: the http transport backs off that long.
  'Retry-After',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Defer-Length',
  'Upload-Metadata',
  'Upload-Expires',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  'Content-Range',
  'Accept-Ranges',
  'Content-Length',
];

export type CorsVerdict = 'same-origin' | 'allowed' | 'refused';

export class Cors {
  private readonly allowed: Set<string>;

  constructor(allowedOrigins: string[]) {
    this.allowed = new Set(allowedOrigins.map((origin) => origin.replace(/\/$/, '')));
  }

  isAllowed(origin: string): boolean {
    return this.allowed.has(origin);
  }

  verdict(req: IncomingMessage): CorsVerdict {
    const origin = req.headers.origin;
    if (origin === undefined) return 'same-origin';
    if (this.allowed.has(origin)) return 'allowed';
    return isOwnOrigin(origin, req.headers.host) ? 'same-origin' : 'refused';
  }

  /** Sets the CORS headers for an allowed origin; answers a preflight. Returns true when done. */
  apply(req: IncomingMessage, res: ServerResponse, verdict: CorsVerdict): boolean {
    res.setHeader('Vary', 'Origin');
    // A page on the server's own origin needs no CORS headers, but echoing them is harmless.
    const echo = verdict !== 'refused' && req.headers.origin !== undefined;
    if (echo) {
      res.setHeader('Access-Control-Allow-Origin', req.headers.origin!);
      res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS.join(', '));
    }
    const preflight =
      req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!preflight) return false;
    if (echo) {
      res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.statusCode = 204;
    } else {
      res.statusCode = 403;
    }
    res.end();
    return true;
  }
}

function isOwnOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
