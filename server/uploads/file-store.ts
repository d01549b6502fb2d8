// @tus/file-store with three additions: a termination (DELETE) also removes the upload's
// rows, before the 204 goes out, so the client may reuse its clientId at once; a quiet
// `discard` for our own clean-up once the bytes are no longer needed; and a full disk kept
// as what it is (DiskFullError, answered 507) where @tus/file-store turns every write failure
// into a 500. The upload's offset stays what reached the file: tus reads it from its size.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { ERRORS, type Upload } from '@tus/server';
import { DiskFullError, isDiskFull } from '../media/disk-space.js';

export class UploadFileStore extends FileStore {
  constructor(
    directory: string,
    expiryMs: number,
    private readonly onTerminated: (id: string) => Promise<void>,
  ) {
    super({ directory, expirationPeriodInMilliseconds: expiryMs });
  }

  override async create(file: Upload): Promise<Upload> {
    return super.create(file).catch((error: unknown) => {
      throw isDiskFull(error) ? new DiskFullError('creating an upload', { cause: error }) : error;
    });
  }

  override async declareUploadLength(id: string, length: number): Promise<void> {
    return super.declareUploadLength(id, length).catch((error: unknown) => {
      throw isDiskFull(error) ? new DiskFullError('declaring a length', { cause: error }) : error;
    });
  }

  /** Appends the request's bytes at `offset` (the id was checked by our route); the new offset. */
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done(null, chunk);
      },
    });
    const file = createWriteStream(join(this.directory, id), { flags: 'r+', start: offset });
    try {
      await pipeline(readable, count, file);
    } catch (error) {
      if (isDiskFull(error)) throw new DiskFullError('writing an upload', { cause: error });
      throw ERRORS.FILE_WRITE_ERROR; // as @tus/file-store answers any other failure
    }
    return offset + received;
  }

  /** Called by @tus/server for DELETE only (we never call it ourselves). */
  override async remove(id: string): Promise<void> {
    await this.discard(id);
    await this.onTerminated(id);
  }

  /** Removes the bytes and the info file; nothing there is fine. */
  async discard(id: string): Promise<void> {
    try {
      await super.remove(id);
    } catch {
      await this.configstore.delete(id).catch(() => undefined);
    }
  }
}
