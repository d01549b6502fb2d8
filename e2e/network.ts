// A bad network between the browser and the reference server, for the end-to-end tests: an
// HTTP proxy the page is loaded through (page, API and media on one origin, as on the demo)
// that can slow the uploads' bodies to a trickle, or drop every API request as a lost
// network does (the connection closes without an answer: `fetch` fails, the server is up).
import { createServer, request as forward, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

export interface BadNetwork {
  url: string;
  /** Upload bodies (PATCH /v1/uploads) at this many bytes per second; undefined: full speed. */
  uploadRate?: number;
  /**
   * Drops the API requests `which` picks (every one for `true`), and the open event streams
   * among them, until called with `false`; the page itself still loads.
   */
  setDown(which: boolean | ((method: string, path: string) => boolean)): void;
  close(): Promise<void>;
}

/** The API, but not the dev token route the demo page needs to start. */
const isApi = (path: string) => path.startsWith('/v1/') && !path.startsWith('/v1/dev/');

export async function startBadNetwork(target: string): Promise<BadNetwork> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const streams = new Set<IncomingMessage>();
  let dropped = (_method: string, _path: string) => false;
  const network: BadNetwork = {
    url: '',
    setDown(which) {
      dropped = typeof which === 'function' ? which : () => which;
      for (const stream of streams) if (dropped('GET', '/v1/events')) stream.socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (isApi(path) && dropped(req.method ?? 'GET', path)) {
      req.socket.destroy();
      return;
    }
    const upload = req.method === 'PATCH' && path.startsWith('/v1/uploads/');
    const proxied = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // The Host the browser sent: the server tells its own origin from others by it.
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (path === '/v1/events') {
          streams.add(req);
          res.on('close', () => streams.delete(req));
        }
        answer.pipe(res);
      },
    );
    proxied.on('error', () => res.destroy());
    res.on('close', () => proxied.destroy());
    const body = upload ? req.pipe(trickle(() => network.uploadRate)) : req;
    body.pipe(proxied);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  network.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return network;
}

/** Passes bytes on at `rate()` bytes per second (read again for every piece). */
function trickle(rate: () => number | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      const push = async () => {
        for (let at = 0; at < chunk.length;) {
          const perSecond = rate();
          if (perSecond === undefined) {
            this.push(chunk.subarray(at));
            break;
          }
          const piece = Math.max(1, Math.floor(perSecond / 10));
          this.push(chunk.subarray(at, at + piece));
          at += piece;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      push().then(() => done(), done);
    },
  });
}
