// The running processes' command lines, read from /proc (Linux only, as the test services
// are): how the fault tests find the services' PostgreSQL and Swift proxy to stop them.
import { readdirSync, readFileSync } from 'node:fs';

/** Every process that is still there when read: its id and its command line's words. */
export function* processes(): Generator<{ pid: string; args: string[] }> {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      yield { pid, args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') };
    } catch {
      // gone meanwhile
    }
  }
}
