// An HTTP proxy in front of the reference server that answers like a front proxy or load
// balancer on a bad day, for browser tests. Per rule it can:
// - answer a request itself, without passing it on (`refuse`);
// - pass `after` bytes of the body, then cut the server's connection (the server sees a
//   dropped upload and keeps what arrived) and answer the client (`cut`);
// - pass the whole request, let the server act on it, and lose its answer (`lose`), as a
//   gateway that timed out just after the server did the work.
import { createServer, request as forward } from 'node:http';

/**
 * Requests with this `method` whose path starts with `path` are, the next `times` times,
 * answered `status` with `{error: {code, message}}` (and `Retry-After: retryAfter` when given).
 *
 * @typedef {{ method: string, path: string, status: number, code?: string, mode: 'refuse' | 'cut' | 'lose',
 *   after?: number, retryAfter?: number, times: number }} FaultRule
 */

/** @param {string} target the server's base URL */
export async function startFaultProxy(target) {
  const upstream = new URL(target);
  /** @type {FaultRule[]} */
  const rules = [];
  /** Every request passed or answered, for tests to check (faulted ones with their status). */
  const log = [];
  const sockets = new Set();

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const index = rules.findIndex(
      (rule) => rule.times > 0 && rule.method === req.method && path.startsWith(rule.path),
    );
    const rule = index >= 0 ? rules[index] : undefined;
    if (rule) rule.times--;
    const entry = { method: req.method, path, offset: req.headers['upload-offset'] };
    log.push(entry);

    const answer = (passed) => {
      Object.assign(entry, { status: rule.status, passed });
      // Read the rest of the body first: a browser that is still sending when the answer
      // comes reports a reset connection instead of the answer.
      req.resume();
      const send = () => {
        if (res.headersSent) return;
        const origin = req.headers.origin;
        res.writeHead(rule.status, {
          'Content-Type': 'application/json',
          Connection: 'close',
          ...(rule.retryAfter !== undefined ? { 'Retry-After': String(rule.retryAfter) } : {}),
          ...(origin
            ? {
                'Access-Control-Allow-Origin': origin,
                'Access-Control-Expose-Headers': 'Retry-After, Upload-Offset, Location',
                Vary: 'Origin',
              }
            : {}),
        });
        const code = rule.code ?? (rule.status === 429 ? 'quota-exceeded' : 'internal');
        res.end(JSON.stringify({ error: { code, message: `The proxy answered ${rule.status}.` } }));
      };
      if (req.readableEnded) send();
      else req.once('end', send);
    };

    if (rule?.mode === 'refuse') {
      answer(0);
      return;
    }

    const out = forward({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    out.on('error', () => {
      if (!rule && !res.headersSent) res.writeHead(502).end();
    });
    out.on('response', (reply) => {
      if (rule) {
        reply.resume();
        if (rule.mode === 'lose') reply.once('end', () => answer(Infinity));
        return;
      }
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
      res.on('close', () => reply.destroy());
    });
    if (!rule || rule.mode === 'lose') {
      req.pipe(out);
      return;
    }
    // `cut`: pass `after` bytes, then cut the server's connection mid-body.
    const after = rule.after ?? 0;
    let passed = 0;
    let cut = false;
    const cutNow = () => {
      if (cut) return;
      cut = true;
      req.off('data', onData);
      // Give the bytes a moment to reach the server before its connection goes.
      setTimeout(() => out.destroy(), 50);
      answer(passed);
    };
    const onData = (chunk) => {
      const room = after - passed;
      if (room > 0) {
        const part = chunk.subarray(0, room);
        passed += part.length;
        out.write(part);
      }
      if (passed >= after) cutNow();
    };
    req.on('data', onData);
    req.on('end', cutNow);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    log,
    /** @param {FaultRule} rule */
    add(rule) {
      rules.push(rule);
    },
    clear() {
      rules.length = 0;
      log.length = 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
