// A TCP proxy between the server and the bucket's S3 endpoint that can make the bucket
// unavailable, as an object store does on a bad day. Bytes pass untouched (the Host header
// too, which S3 signs). Modes:
// - 'pass': everything goes through;
// - 'slowdown': every request is read and answered `503 SlowDown` (S3's throttling answer);
// - 'refuse': the port stops listening, so connections are refused (ECONNREFUSED);
// - 'hang': connections are accepted and never answered.
// Changing the mode cuts every open connection, so kept-alive sockets meet the new mode too.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type BucketFault = 'pass' | 'slowdown' | 'refuse' | 'hang';

export interface BucketFaultProxy {
  url: string;
  mode: BucketFault;
  setMode(mode: BucketFault): Promise<void>;
  /** Requests answered 503 SlowDown so far. */
  readonly slowdowns: number;
  /** Connections held without an answer so far ('hang'). */
  readonly hung: number;
  close(): Promise<void>;
}

const SLOW_DOWN_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>' +
  '<Message>Please reduce your request rate.</Message></Error>';

export async function startBucketFaultProxy(target: string): Promise<BucketFaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let mode: BucketFault = 'pass';
  let slowdowns = 0;
  let hung = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const onConnection = (client: Socket) => {
    track(client);
    if (mode === 'hang') {
      hung++;
      return;
    }
    if (mode === 'slowdown') {
      let head = '';
      client.on('data', (chunk: Buffer) => {
        if (head.includes('\r\n\r\n')) return;
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        slowdowns++;
        client.end(
          'HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n' +
            `Content-Length: ${SLOW_DOWN_BODY.length}\r\nConnection: close\r\n\r\n${SLOW_DOWN_BODY}`,
        );
      });
      return;
    }
    const server = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    track(server);
    client.pipe(server).pipe(client);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  };

  let listener: Server = createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, '127.0.0.1', () => {
        listener.off('error', reject);
        resolve((listener.address() as { port: number }).port);
      });
    });
  const stopListening = () => new Promise<void>((resolve) => listener.close(() => resolve()));
  const port = await listen(0);

  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    get slowdowns() {
      return slowdowns;
    },
    get hung() {
      return hung;
    },
    async setMode(next) {
      if (next === mode) return;
      const wasRefusing = mode === 'refuse';
      mode = next;
      for (const socket of sockets) socket.destroy();
      if (next === 'refuse') await stopListening();
      else if (wasRefusing) {
        listener = createServer(onConnection);
        await listen(port);
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (mode !== 'refuse') await stopListening();
    },
  };
}
