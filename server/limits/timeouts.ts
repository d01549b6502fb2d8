// How long the HTTP server waits for a client, tuned for slow phones on mobile networks:
// a slow but steady upload is never cut (uploads have no total time limit), while a
// socket that goes quiet — a stalled upload, a slowloris dripping headers, an idle
// keep-alive connection — is closed. Node's own `requestTimeout` would cut a long upload
// (it counts the whole body), so it is off, and the total time is limited here for every
// request but upload bodies instead.
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type http from 'node:http';
import { HttpError, sendError } from '../http/errors.js';

export interface Timeouts {
  /** Until the request's headers are complete. */
  headersS: number;
  /** Until a request's body is complete (0 = none); upload bodies are exempt. */
  requestS: number;
  /** A socket with no traffic either way this long is closed (0 = never). */
  idleS: number;
  /** An idle keep-alive connection waits this long for its next request. */
  keepAliveS: number;
}

/** Options for http.createServer. */
export function serverOptions(timeouts: Timeouts): ServerOptions {
  const headersMs = timeouts.headersS * 1000;
  return {
    headersTimeout: headersMs,
    // Counts the whole body: a 200 MB upload at 64 KB/s takes 53 min. See requestDeadline.
    requestTimeout: 0,
    keepAliveTimeout: timeouts.keepAliveS * 1000,
    // Node checks the headers timeout this often (default 30 s, later than asked).
    connectionsCheckingInterval: Math.min(30_000, Math.max(250, headersMs / 4)),
  };
}

/** The idle-socket timeout: with no 'timeout' listener, Node destroys a quiet socket. */
export function applyIdleTimeout(server: http.Server, timeouts: Timeouts): void {
  server.setTimeout(timeouts.idleS * 1000);
}

/**
 * Answers 408 and closes the connection when the request's body has not fully arrived
 * `seconds` after its headers (0 = no limit). For every request but upload bodies, whose
 * only bound is the idle timeout: a JSON body is at most 64 KB.
 */
export function requestDeadline(req: IncomingMessage, res: ServerResponse, seconds: number): void {
  if (seconds <= 0 || req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete || res.writableEnded) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.setHeader('Connection', 'close');
    sendError(res, new HttpError(408, `The request body did not arrive within ${seconds} s.`, {}));
  }, seconds * 1000);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
  req.once('end', () => clearTimeout(timer));
}
