// A load balancer for tests and benchmarks of scaled mode: each request goes to the next
// instance in turn (per request, not per connection, so one client's requests are spread
// over every instance). Bodies and answers stream through, event streams included. An
// instance that does not answer gets the client a 502, as a real balancer would give.
import { createServer, request as forward } from 'node:http';

/**
 * @param {string[]} targets base URLs of the instances
 * @returns {Promise<{url: string, served: number[], setTargets(urls: string[]): void, close(): Promise<void>}>}
 */
export async function startRoundRobinProxy(targets) {
  let upstreams = targets.map((target) => new URL(target));
  const served = upstreams.map(() => 0);
  // What passed through, for benchmarks: requests by method, request body bytes.
  const stats = { requests: {}, bytesIn: 0 };
  let next = 0;
  const sockets = new Set();

  const server = createServer((req, res) => {
    const index = next++ % upstreams.length;
    const upstream = upstreams[index];
    served[index] = (served[index] ?? 0) + 1;
    stats.requests[req.method] = (stats.requests[req.method] ?? 0) + 1;
    req.on('data', (chunk) => (stats.bytesIn += chunk.length));
    // Host passes unchanged, as through a real balancer (and S3 signs it).
    const headers = { ...req.headers, 'x-forwarded-for': '127.0.0.1' };
    const outgoing = forward(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    outgoing.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'application/json', Connection: 'close' });
        res.end(
          JSON.stringify({
            error: { code: 'unavailable', message: 'No answer from the instance.' },
          }),
        );
      } else res.destroy();
    });
    req.pipe(outgoing);
    req.on('error', () => outgoing.destroy());
    res.on('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    served,
    stats,
    setTargets(urls) {
      upstreams = urls.map((target) => new URL(target));
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
