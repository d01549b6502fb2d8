// Runs async sections one at a time per key (one user's quota checks): a check and the
// write it allows must not interleave with another request's check for the same user, or
// ten parallel requests would each see the same room left. Keys with nothing waiting are
// forgotten, so memory follows the requests in flight.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    await previous;
    try {
      return await section();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with a section running or waiting (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
