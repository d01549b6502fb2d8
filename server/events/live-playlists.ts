// The playlists of takes shared while they are recorded (issue 25; docs/protocol.md, "Live"):
// the live conversion publishes its EVENT playlist here each time ffmpeg writes a segment,
// and the media route serves it from here — also to a blocking reload (`_HLS_msn`), which
// waits until the segment it names is written, the take ends, or a bound passes. A take is
// `live` from its upload's creation, so a playlist may be asked for before its first segment:
// that request waits for it (waitForFirst). An entry lasts from the first segment until the video is ready (or removed, or its live conversion
// gave up); from then on the media store serves the files as for any video.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileBody, type FileBody } from '../http/files.js';

/** What a live take's playlist holds now, and the folder its files are in. */
export interface LivePlaylist {
  /** The playlist as ffmpeg wrote it (server control added when served: servedText). */
  text: string;
  /** Segments in it; the next to come has this media sequence number (they start at 0). */
  segments: number;
  /** The take ended: the playlist has #EXT-X-ENDLIST. */
  ended: boolean;
  dir: string;
}

interface Entry {
  playlist: LivePlaylist;
  waiters: Set<() => void>;
}

export class LivePlaylists {
  private readonly entries = new Map<string, Entry>();
  /** Requests for a take's playlist before its first segment, woken when it comes or ends. */
  private readonly firstWaiters = new Map<string, Set<() => void>>();

  /** The live conversion wrote `text` (its folder `dir`); wakes the requests it answers. */
  publish(videoId: string, text: string, dir: string): void {
    const playlist: LivePlaylist = {
      text,
      segments: countSegments(text),
      ended: /^#EXT-X-ENDLIST\s*$/m.test(text),
      dir,
    };
    const entry = this.entries.get(videoId);
    if (!entry) {
      this.entries.set(videoId, { playlist, waiters: new Set() });
      this.wakeFirst(videoId);
      return;
    }
    entry.playlist = playlist;
    for (const wake of entry.waiters) wake();
  }

  /** The take is ready, removed, or no longer converted live: its requests are answered. */
  end(videoId: string): void {
    const entry = this.entries.get(videoId);
    this.entries.delete(videoId);
    for (const wake of entry?.waiters ?? []) wake();
    this.wakeFirst(videoId);
  }

  /**
   * Resolves once the take's first playlist is out (with it), or — undefined — once it is
   * ended without one, `signal` aborts, or `timeoutMs` passed.
   */
  async waitForFirst(
    videoId: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<LivePlaylist | undefined> {
    if (this.entries.has(videoId) || signal.aborted) return this.get(videoId);
    let waiters = this.firstWaiters.get(videoId);
    if (!waiters) this.firstWaiters.set(videoId, (waiters = new Set()));
    const set = waiters;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.firstWaiters.get(videoId) === set) {
          this.firstWaiters.delete(videoId);
        }
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
    return this.get(videoId);
  }

  private wakeFirst(videoId: string): void {
    const waiters = this.firstWaiters.get(videoId);
    this.firstWaiters.delete(videoId);
    for (const wake of waiters ?? []) wake();
  }

  get(videoId: string): LivePlaylist | undefined {
    return this.entries.get(videoId)?.playlist;
  }

  /**
   * Resolves once the playlist has segment `msn` (0-based), has ended, is gone, `signal`
   * aborts (the client left), or `timeoutMs` passed — with the playlist then, if any.
   */
  async waitFor(
    videoId: string,
    msn: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<LivePlaylist | undefined> {
    const entry = this.entries.get(videoId);
    const answers = (p: LivePlaylist | undefined) => !p || p.ended || p.segments > msn;
    if (!entry || answers(entry.playlist)) return this.get(videoId);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        entry.waiters.delete(wake);
        resolve();
      };
      const wake = () => {
        if (answers(this.get(videoId))) done();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      entry.waiters.add(wake);
    });
    return this.get(videoId);
  }

  /** One file of a live take (init, segments, poster), or undefined. */
  async file(videoId: string, name: string): Promise<FileBody | undefined> {
    const playlist = this.get(videoId);
    if (!playlist) return undefined;
    const path = join(playlist.dir, name);
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() ? fileBody(path, info.size) : undefined;
  }
}

export function countSegments(text: string): number {
  return text.match(/^#EXTINF:/gm)?.length ?? 0;
}

/**
 * The playlist as served: it says a client may block for its next segment (`_HLS_msn`).
 * The tag goes right after the target duration, where RFC 8216bis puts playlist tags.
 */
export function servedText(playlist: LivePlaylist): string {
  if (playlist.ended) return playlist.text;
  return playlist.text.replace(
    /^(#EXT-X-TARGETDURATION:[^\n]*\n)/m,
    '$1#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n',
  );
}
