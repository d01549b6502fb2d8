// A request whose headers are larger than Node accepts (16 KB unless --max-http-header-size
// or the server's maxHeaderSize says otherwise) never reaches the app: Node's parser stops
// and, left alone, answers a bare `431` without CORS headers, which a browser reports as a
// failed fetch. Nearly always the cause is a token naming every conversation its person is
// in, so the answer says the limit and what to do, in JSON the http transport reads.
import http, { type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's own answers to the other client errors (what it writes with no listener). */
const PLAIN_ANSWERS: Record<string, string> = {
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** The explanation a 431 carries: the `{error}` body of the protocol. */
export function headerOverflowBody(limitBytes: number): string {
  const kb = Math.round(limitBytes / 1024);
  const message =
    `The request's headers are larger than this server accepts (${kb} KB in all). ` +
    'A token that names every conversation a person is in grows past that: sign a token for ' +
    'just the conversation getToken is asked for (docs/embedding.md, "Tokens").';
  return JSON.stringify({ error: { code: 'too-large', message, limit: limitBytes } });
}

/**
 * Answers a request whose headers overflow with a 431 that explains itself (readable from
 * any origin: it holds nothing but the explanation); other client errors as Node would.
 */
export function answerHeaderOverflow(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Only a socket nothing was written to yet can carry an answer.
    const fresh =
      socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0;
    if (!fresh || error.code === 'ECONNRESET') return void socket.destroy();
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      const body = headerOverflowBody(
        (server as { maxHeaderSize?: number }).maxHeaderSize ?? http.maxHeaderSize,
      );
      socket.end(
        'HTTP/1.1 431 Request Header Fields Too Large\r\n' +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Access-Control-Allow-Origin: *\r\n' +
          'Connection: close\r\n\r\n' +
          body,
      );
    } else {
      const status = PLAIN_ANSWERS[error.code ?? ''] ?? '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    }
    // The rest of the request may still be on its way: read and drop it for a moment, as a
    // socket closed with unread bytes resets the connection and the client loses the answer.
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), 2000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
