// One JSON line per request and per job (scaled mode, or REELCHAT_LOG=json), on stdout,
// for a log shipper. Nothing secret goes in: paths only (no query string — media URLs
// carry signed tokens in ?t=), never headers.
import { randomBytes } from 'node:crypto';

export type LogMode = 'json' | 'off';

/** A request id from the load balancer (X-Request-Id) when it is plain, else a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && /^[A-Za-z0-9._:-]{1,64}$/.test(given) ? given : randomBytes(8).toString('hex');
}

export class JsonLog {
  constructor(
    private readonly mode: LogMode,
    private readonly base: Record<string, unknown> = {},
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  get enabled(): boolean {
    return this.mode === 'json';
  }

  /** One event: `kind` is e.g. "request" or "job"; fields must hold no secrets. */
  event(kind: string, fields: Record<string, unknown>): void {
    if (this.mode !== 'json') return;
    this.write(
      JSON.stringify({ time: new Date().toISOString(), kind, ...this.base, ...fields }) + '\n',
    );
  }
}

/** The path of a URL without its query (tokens live there). */
export function pathOnly(url: string | undefined): string {
  return (url ?? '/').split('?')[0]!.slice(0, 512);
}
