/**
 * What this take's upload says about the uplink, measured as it goes: how fast the bytes
 * the server confirmed went up while the upload was busy, and how long what is recorded
 * but not yet confirmed will take to send. Fed by the recorder's chunks and the transport's
 * progress (the server's offset after each PATCH), so it works with any transport.
 *
 * A PATCH is busy from when its first byte was there to send (recorded, or the previous PATCH
 * answered, whichever is later) until the server's answer: its time includes the round trip,
 * as the upload's own pace does. While the upload keeps up with the recording the PATCHes
 * are small and the round trip weighs more, so the rate then reads low: a lower bound.
 */
export class UplinkEstimate {
  private recorded = 0;
  private accepted = 0;
  /** Each chunk not yet confirmed whole: where it ends in the take, and when it was recorded. */
  private chunks: { end: number; at: number }[] = [];
  private lastAnswer?: number;
  /** Each PATCH's confirmed bytes and busy time, newest last, over the last WINDOW_MS. */
  private samples: { bytes: number; ms: number; at: number }[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A chunk of `bytes` was recorded (in take order). */
  chunk(bytes: number): void {
    this.recorded += bytes;
    this.chunks.push({ end: this.recorded, at: this.now() });
  }

  /** The server now has the take's first `sent` bytes. */
  confirmed(sent: number): void {
    if (sent <= this.accepted) return;
    const at = this.now();
    const firstUnsent = this.chunks.find((chunk) => chunk.end > this.accepted);
    const ready = firstUnsent?.at ?? this.lastAnswer ?? at;
    const start = Math.max(ready, this.lastAnswer ?? ready);
    this.samples.push({ bytes: sent - this.accepted, ms: Math.max(1, at - start), at });
    this.samples = this.samples.filter((sample) => at - sample.at <= WINDOW_MS);
    this.accepted = sent;
    this.recorded = Math.max(this.recorded, sent);
    this.chunks = this.chunks.filter((chunk) => chunk.end > sent);
    this.lastAnswer = at;
  }

  /** Bytes recorded that the server does not have yet. */
  get backlog(): number {
    return this.recorded - this.accepted;
  }

  /**
   * Bits per second the uplink carried while busy (the recent PATCHes), or undefined before
   * enough was measured.
   */
  get bitsPerSecond(): number | undefined {
    let bytes = 0;
    let ms = 0;
    for (const sample of this.samples) {
      bytes += sample.bytes;
      ms += sample.ms;
    }
    return ms >= MIN_MEASURED_MS ? (bytes * 8 * 1000) / ms : undefined;
  }

  /**
   * Seconds until the server has everything recorded so far, at the measured rate (or at
   * `fallbackBps`, an earlier take's, before this one measured any); undefined without either.
   * The time since the last answer counts as already sending.
   */
  secondsToSend(fallbackBps?: number): number | undefined {
    if (this.backlog === 0) return 0;
    const bps = this.bitsPerSecond ?? fallbackBps;
    if (!bps) return undefined;
    const sending = this.lastAnswer === undefined ? 0 : (this.now() - this.lastAnswer) / 1000;
    return Math.max(0, (this.backlog * 8) / bps - sending);
  }
}

/** The rate is judged on the PATCHes of the last 8 s: a link that dropped shows within that. */
const WINDOW_MS = 8000;
/** At least this much busy time before a rate is given: one small PATCH says little. */
const MIN_MEASURED_MS = 300;

const STORAGE_KEY = 'reelchat:uplink';
/** An earlier take's rate older than this says little about where the person is now. */
const STALE_MS = 3 * 24 * 3600 * 1000;

/** The uplink rate an earlier take in this browser measured (bits per second), if any and recent. */
export function storedUplink(now = Date.now()): number | undefined {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as unknown;
    if (!stored || typeof stored !== 'object') return undefined;
    const { bps, at } = stored as { bps?: unknown; at?: unknown };
    if (typeof bps !== 'number' || typeof at !== 'number' || !(bps > 0)) return undefined;
    return now - at <= STALE_MS ? bps : undefined;
  } catch {
    return undefined; // storage refused (private mode, a sandboxed frame) or a bad value
  }
}

/** Keeps a take's measured uplink rate for the next take. */
export function storeUplink(bps: number, now = Date.now()): void {
  if (!(bps > 0) || !Number.isFinite(bps)) return;
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ bps: Math.round(bps), at: now }));
  } catch {
    // storage refused: the next take measures from scratch
  }
}
