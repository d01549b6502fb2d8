// A small filesystem of its own for disk-full tests (issue 26): a tmpfs of `sizeMb` mounted
// on a fresh folder (this needs root, as CI's container and this machine run; without it the
// test says so and stops), filled by one file until only so many bytes are left, then freed.
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, rmdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SmallDisk {
  /** Where the filesystem is mounted. */
  path: string;
  /** Bytes an ordinary writer may still use there. */
  free(): Promise<number>;
  /** Grows the filler file until at most `leftBytes` are free (0: full). */
  fill(leftBytes: number): Promise<void>;
  /** Removes the filler. */
  freeUp(): Promise<void>;
  /** Unmounts and removes the folder (safe to call twice, and after a failed test). */
  remove(): Promise<void>;
}

export async function mountSmallDisk(sizeMb: number): Promise<SmallDisk> {
  const path = await mkdtemp(join(tmpdir(), 'reelchat-small-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', path]);
  } catch (error) {
    await rmdir(path).catch(() => undefined);
    throw new Error(
      `The disk-full tests mount a ${sizeMb} MB tmpfs and need root for it (mount -t tmpfs): ${
        (error as Error).message
      }`,
    );
  }
  const filler = join(path, 'filler');
  const free = async () => {
    const stats = await statfs(path);
    return stats.bavail * stats.bsize;
  };
  let mounted = true;
  return {
    path,
    free,
    async fill(leftBytes) {
      const file = await open(filler, 'a');
      try {
        const block = Buffer.alloc(1024 * 1024, 0x5a);
        for (
          let excess = (await free()) - leftBytes;
          excess > 0;
          excess = (await free()) - leftBytes
        ) {
          await file.write(block, 0, Math.min(block.length, excess));
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        await file.close();
      }
    },
    async freeUp() {
      await rm(filler, { force: true });
    },
    async remove() {
      if (!mounted) return;
      // A server still holding a file open keeps a plain unmount busy: detach it lazily then.
      await run('umount', [path]).catch(() => run('umount', ['-l', path]));
      mounted = false;
      await rmdir(path);
    },
  };
}
