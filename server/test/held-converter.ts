// A converter for tests of what happens around a conversion: it writes a small HLS set
// (with a segment of `segmentBytes`) once the test releases the clip, and can be told to
// finish even after its signal aborted — a conversion that ends just as it is cancelled.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ConvertResult } from '../convert/index.js';
import type { VideoConverter } from '../jobs/worker.js';

export class HeldConverter implements VideoConverter {
  /** Clips whose conversion has written its files and returned. */
  readonly finished = new Set<string>();
  /** Clips whose conversion saw its signal abort. */
  readonly aborted = new Set<string>();
  private readonly released = new Set<string>();
  private readonly waiting = new Map<string, () => void>();

  constructor(
    private readonly options: { hold?: boolean; ignoreAbort?: boolean; segmentBytes?: number } = {},
  ) {}

  release(videoId: string): void {
    this.released.add(videoId);
    this.waiting.get(videoId)?.();
  }

  async convert(
    inputPath: string,
    outputDir: string,
    signal?: AbortSignal,
  ): Promise<ConvertResult> {
    const videoId = basename(outputDir);
    // Like ffmpeg, it has read its input by the time it is told to stop.
    const bytes = (await stat(inputPath)).size;
    signal?.addEventListener('abort', () => this.aborted.add(videoId));
    if (this.options.hold && !this.released.has(videoId)) {
      await new Promise<void>((resolve, reject) => {
        this.waiting.set(videoId, resolve);
        if (!this.options.ignoreAbort)
          signal?.addEventListener('abort', () => reject(signal.reason as Error));
      });
    }
    await mkdir(outputDir, { recursive: true });
    await writeFile(
      join(outputDir, 'index.m3u8'),
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI="init.mp4"\n' +
        '#EXTINF:2.0,\nseg0.m4s\n#EXT-X-ENDLIST\n',
    );
    await writeFile(
      join(outputDir, 'seg0.m4s'),
      Buffer.alloc(this.options.segmentBytes ?? 1000, 1),
    );
    for (const name of ['init.mp4', 'poster.jpg']) await writeFile(join(outputDir, name), 'media');
    this.finished.add(videoId);
    return {
      duration: 2,
      width: 320,
      height: 240,
      bytes,
      videoCodec: 'vp8',
      audioCodec: 'opus',
      remuxed: false,
    };
  }
}
