// Per-user upload quotas (docs/protocol.md, Limits): unfinished uploads at once, bytes in
// unfinished uploads, bytes kept, and creations per hour (a token bucket). An unfinished
// upload counts its promised Upload-Length, or — deferred, as while recording — the bytes
// written so far, which is why writes to deferred uploads are checked too. Each user's
// checks run one at a time (KeyedLock), and a write in flight reserves the offset it may
// reach, so parallel requests cannot each spend the same room.
import type { DataStore } from '@tus/server';
import { HttpError, quotaExceeded } from '../http/errors.js';
import { KeyedLock } from '../limits/keyed-lock.js';
import { memoryRateLimits, type RateLimit, type RateLimits } from '../limits/rate-limit.js';
import type { UploadStore } from '../store/types.js';

export interface UploadLimits {
  /** Each 0 = no limit. */
  unfinishedUploads: number;
  unfinishedBytes: number;
  storedBytes: number;
  uploadsPerHour: number;
  uploadsBurst: number;
  maxUploadBytes: number;
}

/** What waiting may clear (other uploads finish or expire): a hint, not a promise. */
export const QUOTA_RETRY_AFTER_S = 30;

/** A write admitted to a deferred upload: the size tus may let it reach, and its release. */
export interface AdmittedWrite {
  /** The upload may not grow past this (tus `maxSize`); undefined: the size limit. */
  maxSize?: number;
  /** Set when `maxSize` is the quota's, not the size limit: how to refuse past it. */
  refusal?: HttpError;
  /** The upload's length was still deferred when the write was admitted. */
  deferred: boolean;
  release(): void;
}

interface Reservation {
  end: number;
}

export class UploadQuota {
  private readonly lock = new KeyedLock();
  /** Offsets uploads may reach by requests in flight (creations, writes): id → reservation. */
  private readonly reserved = new Map<string, Reservation>();
  private readonly creations?: RateLimit;

  constructor(
    private readonly limits: UploadLimits,
    private readonly store: UploadStore,
    /** Where tus keeps the bytes (a file store, or PostgreSQL in scaled mode). */
    private readonly datastore: Pick<DataStore, 'getUpload'>,
    /** Where the creation buckets live (memory, or shared in scaled mode). */
    rateLimits: RateLimits = memoryRateLimits,
  ) {
    if (limits.uploadsPerHour > 0) {
      this.creations = rateLimits('uploads', {
        capacity: limits.uploadsBurst,
        ratePerS: limits.uploadsPerHour / 3600,
      });
    }
  }

  /**
   * Creates an upload within the owner's quota. `create` writes its rows (and may refuse,
   * e.g. a clientId already used: that costs nothing); the quota is then checked with the
   * new upload counted, and a refusal removes the rows again. `bytes` is what the upload
   * holds from now on: its Upload-Length, or the data sent with a deferred creation.
   * The reservation lasts until `release` (call it once tus has written the upload's info).
   */
  async admitCreation<T>(
    owner: string,
    id: string,
    bytes: number,
    create: () => Promise<T>,
  ): Promise<{ value: T; release(): void }> {
    return this.lock.run(owner, async () => {
      const value = await create();
      try {
        const unfinished = await this.store.unfinishedUploads(owner);
        const { unfinishedUploads } = this.limits;
        if (unfinishedUploads > 0 && unfinished.length > unfinishedUploads) {
          throw quotaExceeded(
            429,
            `You have ${unfinishedUploads} unfinished uploads, the most at once: finish or ` +
              'delete one, then try again.',
            QUOTA_RETRY_AFTER_S,
          );
        }
        const others = await this.bytesOf(
          unfinished.map((upload) => upload.id).filter((u) => u !== id),
        );
        await this.checkBytes(owner, others, bytes);
        const taken = await this.creations?.take(owner);
        if (taken && !taken.ok) {
          throw quotaExceeded(
            429,
            `Too many uploads: at most ${this.limits.uploadsPerHour} an hour. Try again in ` +
              `${taken.retryAfterS} s.`,
            taken.retryAfterS,
          );
        }
      } catch (error) {
        await this.store.deleteUpload(id);
        throw error;
      }
      return { value, release: this.reserve(id, bytes) };
    });
  }

  /**
   * Checks a PATCH to an unfinished upload before tus reads its body. An upload of known
   * length was counted whole at creation; a deferred one grows by what this request may
   * write (Content-Length), or — without one — up to the room left, which tus enforces.
   */
  async admitWrite(
    owner: string,
    id: string,
    headers: { contentLength?: number; declaredLength?: number },
  ): Promise<AdmittedWrite> {
    return this.lock.run(owner, async () => {
      const info = await this.datastore.getUpload(id).catch(() => undefined);
      // Unknown to tus (it answers that), or counted whole since creation.
      if (!info || info.size !== undefined) return { deferred: false, release: () => undefined };
      const offset = info.offset;
      const unfinished = await this.store.unfinishedUploads(owner);
      const others = await this.bytesOf(
        unfinished.map((upload) => upload.id).filter((u) => u !== id),
      );
      const { contentLength, declaredLength } = headers;
      if (contentLength !== undefined) {
        const end = Math.max(offset + contentLength, declaredLength ?? 0);
        await this.checkBytes(owner, others, end);
        return { deferred: true, release: this.reserve(id, end) };
      }
      // A body of unknown length: it may fill what is left, and no more.
      const room = await this.room(owner, others);
      const end = Math.min(room.bytes, this.limits.maxUploadBytes);
      await this.checkBytes(owner, others, Math.max(offset + 1, declaredLength ?? 0));
      if (end >= this.limits.maxUploadBytes) {
        return { deferred: true, release: this.reserve(id, end) };
      }
      const refusal = room.refusal(end + 1, `more than ${size(end)}`);
      return { maxSize: end, refusal, deferred: true, release: this.reserve(id, end) };
    });
  }

  /** Refuses when one upload reaching `bytes` (beside `others` unfinished) passes a limit. */
  private async checkBytes(owner: string, others: number, bytes: number): Promise<void> {
    const room = await this.room(owner, others);
    if (bytes > room.bytes) throw room.refusal(bytes);
  }

  /** How large one more upload may be, and the refusal when it would be larger. */
  private async room(
    owner: string,
    others: number,
  ): Promise<{ bytes: number; refusal(bytes: number, described?: string): HttpError }> {
    const { unfinishedBytes, storedBytes } = this.limits;
    const byUnfinished = unfinishedBytes > 0 ? unfinishedBytes - others : Infinity;
    const stored = storedBytes > 0 ? await this.store.storedBytes(owner) : 0;
    const byStored = storedBytes > 0 ? storedBytes - stored - others : Infinity;
    const bytes = Math.max(0, Math.min(byUnfinished, byStored));
    const refusal = (wanted: number, described = size(wanted)): HttpError => {
      if (wanted > byStored) {
        return quotaExceeded(
          413,
          `You keep ${size(stored + others)} in videos and unfinished uploads; an upload of ` +
            `${described} would pass your ${size(storedBytes)} quota.`,
        );
      }
      // More than the whole quota: no amount of waiting makes it fit.
      if (wanted > unfinishedBytes) {
        return quotaExceeded(
          413,
          `An upload of ${described} is larger than the ${size(unfinishedBytes)} quota of ` +
            'unfinished uploads.',
        );
      }
      return quotaExceeded(
        429,
        `Your other unfinished uploads hold ${size(others)}; an upload of ${described} would ` +
          `pass the ${size(unfinishedBytes)} quota for unfinished uploads: finish or delete ` +
          'one, then try again.',
        QUOTA_RETRY_AFTER_S,
      );
    };
    return { bytes, refusal };
  }

  /** The bytes the given unfinished uploads hold or may reach by requests in flight. */
  private async bytesOf(ids: string[]): Promise<number> {
    if (this.limits.unfinishedBytes === 0 && this.limits.storedBytes === 0) return 0;
    const held = await Promise.all(
      ids.map(async (id) => {
        const pending = this.reserved.get(id)?.end ?? 0;
        // No info yet: a creation in flight, counted by its reservation.
        const info = await this.datastore.getUpload(id).catch(() => undefined);
        return Math.max(pending, info?.size ?? info?.offset ?? 0);
      }),
    );
    return held.reduce((sum, bytes) => sum + bytes, 0);
  }

  private reserve(id: string, end: number): () => void {
    const reservation: Reservation = { end };
    this.reserved.set(id, reservation);
    return () => {
      if (this.reserved.get(id) === reservation) this.reserved.delete(id);
    };
  }
}

/** Bytes for people: KB below a megabyte, else MB. */
function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}
