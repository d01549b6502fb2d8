// Converted media in a bucket (scaled mode): the converter writes into a local scratch folder,
// `publish` uploads it to `media/<id>/<name>` and removes it, and files are served from the
// bucket through the API (so the signed `?t=` links, Range and playlist rewriting stay).
import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileBody } from '../http/files.js';
import { contentTypeFor } from '../http/files.js';
import { isId } from '../ids.js';
import type { ObjectStore } from './object-store.js';
import { MEDIA_FILE, type MediaStore } from './store.js';

const PLAYLIST = 'index.m3u8';
// Uploads at once while publishing (segments are a few MB each).
const PARALLEL_UPLOADS = 4;

export class S3MediaStore implements MediaStore {
  /** `scratchDir` is instance-local (e.g. DATA_DIR/media-scratch); nothing stays there. */
  constructor(
    private readonly objects: ObjectStore,
    private readonly scratchDir: string,
  ) {}

  outputDir(videoId: string): string {
    return join(this.scratchDir, checked(videoId));
  }

  /**
   * Uploads the converted folder, then removes it. Segments and init go first, the poster and
   * then the playlist last: a reader that finds the playlist finds everything it names.
   * Again after a successful publish (a retried job): nothing to do.
   */
  async publish(videoId: string): Promise<void> {
    const dir = this.outputDir(videoId);
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!names) {
      if (await this.objects.head(keyOf(videoId, PLAYLIST))) return;
      throw new Error(`Nothing to publish for ${videoId}: ${dir} does not exist`);
    }
    const files = names.filter((name) => MEDIA_FILE.test(name));
    const last = ['poster.jpg', PLAYLIST];
    const first = files.filter((name) => !last.includes(name));
    await inParallel(first, PARALLEL_UPLOADS, (name) => this.publishFile(videoId, name));
    for (const name of last) {
      if (files.includes(name)) await this.publishFile(videoId, name);
    }
    await rm(dir, { recursive: true, force: true });
  }

  /** Uploads one file of the scratch folder now (the poster while a live conversion runs). */
  async publishFile(videoId: string, name: string): Promise<void> {
    if (!MEDIA_FILE.test(name)) throw new Error(`Not a media file: ${JSON.stringify(name)}`);
    const path = join(this.outputDir(videoId), name);
    const { size } = await stat(path);
    // Streamed from disk with its length: no file is held in memory.
    await this.objects.put(keyOf(videoId, name), () => createReadStream(path), {
      contentType: contentTypeFor(name),
      contentLength: size,
    });
  }

  async file(videoId: string, name: string): Promise<FileBody | undefined> {
    if (!isId(videoId) || !MEDIA_FILE.test(name)) return undefined;
    const key = keyOf(videoId, name);
    const found = await this.objects.head(key);
    if (!found) return undefined;
    return { size: found.size, open: (range) => this.stream(key, range) };
  }

  /**
   * Only the scratch folder: a conversion runs while the bucket is unavailable, and waits
   * for it when it publishes. Objects of an earlier attempt are overwritten by `publish` (the
   * same input gives the same file names); `remove` deletes whatever is left with the video.
   */
  async clearOutput(videoId: string): Promise<void> {
    await rm(this.outputDir(videoId), { recursive: true, force: true });
  }

  async remove(videoId: string): Promise<void> {
    await this.objects.deletePrefix(`media/${checked(videoId)}/`);
    await rm(this.outputDir(videoId), { recursive: true, force: true });
  }

  /**
   * FileBody.open answers synchronously; the GET is not. The stream returned fills once the
   * object answers, and fails if it has gone meanwhile. Destroying it (a client that left)
   * ends the GET too.
   */
  private stream(key: string, range?: { start: number; end: number }): Readable {
    const out = new PassThrough();
    this.objects.get(key, range).then(
      (found) => {
        if (!found) out.destroy(new Error(`${key} is gone`));
        else pipeline(found.body, out).catch(() => {}); // errors reach `out`'s reader
      },
      (error: unknown) => out.destroy(error as Error),
    );
    return out;
  }
}

function keyOf(videoId: string, name: string): string {
  return `media/${checked(videoId)}/${name}`;
}

function checked(videoId: string): string {
  if (!isId(videoId)) throw new Error(`Not a video id: ${JSON.stringify(videoId)}`);
  return videoId;
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    try {
      while (next < items.length) await work(items[next++]!);
    } catch (error) {
      // The others take nothing more: the caller is told at once and may try it all again.
      next = items.length;
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
