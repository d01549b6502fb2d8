// Where converted media lives. The converter writes a video's HLS files into a local
// folder; LocalMediaStore serves them from there. An object-storage implementation would
// upload that folder in `publish` and serve (or redirect to) the stored objects.
import { stat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isId } from '../ids.js';
import { fileBody, type FileBody } from '../http/files.js';

export interface MediaStore {
  /** A local folder, not yet existing, for the converter to write this video's files into. */
  outputDir(videoId: string): string;
  /** Makes the converted files servable (local: they already are). */
  publish(videoId: string): Promise<void>;
  /** One file of a video, or undefined when it does not exist. */
  file(videoId: string, name: string): Promise<FileBody | undefined>;
  /** Removes everything of a video (no error when there is nothing). */
  remove(videoId: string): Promise<void>;
  /**
   * Empties `outputDir` before a conversion, without the network, where published files live
   * elsewhere (a bucket: publish overwrites them, so the conversion need not wait for the
   * bucket). Without it, `remove` is used.
   */
  clearOutput?(videoId: string): Promise<void>;
}

/** Files a video has; nothing else under /media is ever served. */
export const MEDIA_FILE = /^(index\.m3u8|init\.mp4|seg\d{1,6}\.m4s|poster\.jpg)$/;

export class LocalMediaStore implements MediaStore {
  constructor(private readonly root: string) {}

  outputDir(videoId: string): string {
    return join(this.root, checked(videoId));
  }

  async publish(_videoId: string): Promise<void> {}

  async file(videoId: string, name: string): Promise<FileBody | undefined> {
    if (!MEDIA_FILE.test(name)) return undefined;
    const path = join(this.outputDir(videoId), name);
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() ? fileBody(path, info.size) : undefined;
  }

  async remove(videoId: string): Promise<void> {
    await rm(this.outputDir(videoId), { recursive: true, force: true });
  }
}

function checked(videoId: string): string {
  if (!isId(videoId)) throw new Error(`Not a video id: ${JSON.stringify(videoId)}`);
  return videoId;
}
