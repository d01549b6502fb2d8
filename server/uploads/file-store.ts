// @tus/file-store with two additions: a termination (DELETE) also removes the upload's
// rows, before the 204 goes out, so the client may reuse its clientId at once; and a
// quiet `discard` for our own clean-up once the bytes are no longer needed.
import { FileStore } from '@tus/file-store';

export class UploadFileStore extends FileStore {
  constructor(
    directory: string,
    expiryMs: number,
    private readonly onTerminated: (id: string) => Promise<void>,
  ) {
    super({ directory, expirationPeriodInMilliseconds: expiryMs });
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
