// Hands out a shared live take's playlist (live.ts, LiveShare) each time ffmpeg rewrites it
// with a new segment. ffmpeg writes an EVENT playlist to `index.m3u8.tmp` and renames it, so
// every read sees a whole playlist. The version with #EXT-X-ENDLIST is not handed out here:
// its last segment's length is measured first (last-segment.ts), and live.ts hands that out.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OUTPUT } from './pipeline.js';

/** Looks anyway this often, should a change go unnoticed by the watch. */
const POLL_MS = 500;

export class PlaylistWatch {
  private readonly watcher: FSWatcher;
  private readonly poll: NodeJS.Timeout;
  private last = '';
  private reading = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly share: { onPlaylist(text: string, dir: string): void },
  ) {
    this.watcher = watch(dir, (_event, name) => {
      if (name === OUTPUT.playlist) this.look();
    });
    this.watcher.on('error', () => undefined);
    this.poll = setInterval(() => this.look(), POLL_MS);
    this.poll.unref();
  }

  close(): void {
    this.closed = true;
    this.watcher.close();
    clearInterval(this.poll);
  }

  private look(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void readFile(join(this.dir, OUTPUT.playlist), 'utf8')
      .then((text) => {
        if (this.closed || text === this.last || /^#EXT-X-ENDLIST/m.test(text)) return;
        if (!/^#EXTINF:/m.test(text)) return;
        this.last = text;
        this.share.onPlaylist(text, this.dir);
      })
      .catch(() => undefined) // not written yet
      .finally(() => {
        this.reading = false;
        if (this.again && !this.closed) {
          this.again = false;
          this.look();
        }
      });
  }
}
