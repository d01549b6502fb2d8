// Converting while uploading in scaled mode, on a worker. The bytes arrive at whichever api
// instance the balancer picked and are stored in PostgreSQL (uploads/pg-upload-store.ts),
// which rings a doorbell (NOTIFY) per piece. Each worker hears it; the one that takes the
// upload's live lease (store/postgres-live.ts) copies the new bytes to a local file and feeds
// the same LiveConversions pool as the embedded server, which reads that file as it grows.
// When the upload is complete it hands the result to the worker like a job's; if anything
// goes wrong it lets the lease lapse and the durable job converts the stored bytes.
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isId } from '../ids.js';
import type { ConversionWorker } from './worker.js';
import type { PgLiveLeases } from '../store/postgres-live.js';
import type { UploadStore } from '../store/types.js';
import type { LocalCopy } from '../uploads/pg-upload-store.js';
import type { LiveConversions } from '../convert/live-pool.js';

export interface LiveRelayOptions {
  /** Subscribes to the upload store's doorbell (ids of uploads that got bytes or completed). */
  listen(onId: (id: string) => void, onReconnect: () => void): Promise<() => Promise<void>>;
  copyToLocal(id: string, path: string): Promise<LocalCopy>;
  store: Pick<UploadStore, 'getUpload'>;
  leases: PgLiveLeases;
  pool: LiveConversions;
  worker: Pick<ConversionWorker, 'recordConverted' | 'kick'>;
  /** The local file the pool reads for this upload (pool.uploadPath gives the same). */
  localPath(id: string): string;
  /** How long a lease lasts without news (renewed with every piece). */
  leaseMs: number;
}

const MAX_DECLINED = 10_000;

interface Relayed {
  owner?: string;
  /** Steps for one upload run one after another. */
  chain: Promise<void>;
  finished: boolean;
}

export class LiveRelay {
  private readonly relayed = new Map<string, Relayed>();
  /** Uploads given up on here (their jobs convert them): not tried again. Oldest first. */
  private readonly declined = new Set<string>();
  private unlisten: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(private readonly options: LiveRelayOptions) {}

  async start(): Promise<void> {
    this.unlisten = await this.options.listen(
      (id) => this.heard(id),
      // Pieces may have come meanwhile: look at every upload in hand again.
      () => [...this.relayed.keys()].forEach((id) => this.heard(id)),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.unlisten?.();
    await Promise.all([...this.relayed.values()].map((entry) => entry.chain));
    // Uploads still arriving: their leases go now, so their jobs (on another instance, once
    // the rest arrives there) need not wait for the leases to lapse.
    await Promise.all([...this.relayed].map(([id, entry]) => this.forget(id, entry)));
  }

  private heard(id: string): void {
    if (this.closed || !isId(id) || this.declined.has(id)) return;
    let entry = this.relayed.get(id);
    if (!entry) {
      entry = { chain: Promise.resolve(), finished: false };
      this.relayed.set(id, entry);
    }
    const current = entry;
    current.chain = current.chain
      .then(() => (current.finished ? undefined : this.step(id, current)))
      .catch((error: unknown) => {
        console.error(`reelchat: relaying upload ${id} to its live conversion failed`, error);
        return this.giveUp(id, current);
      });
  }

  private async step(id: string, entry: Relayed): Promise<void> {
    const { options } = this;
    if (entry.owner === undefined) {
      const upload = await options.store.getUpload(id);
      // Complete before we heard of it, or gone: its job converts it, as any upload.
      if (!upload || upload.complete || !(await options.leases.take(id, options.leaseMs))) {
        return this.forget(id, entry);
      }
      entry.owner = upload.owner;
      await mkdir(dirname(options.localPath(id)), { recursive: true });
    } else if (!(await options.leases.renew(id, options.leaseMs))) {
      return this.giveUp(id, entry);
    }
    const copy = await options.copyToLocal(id, options.localPath(id));
    if (copy.copied > 0) options.pool.written(id, entry.owner);
    if (!options.pool.isConverting(id)) return this.giveUp(id, entry); // pool full, or it gave up
    if (!copy.complete) return;
    entry.finished = true;
    const converted = options.pool.completed(id);
    if (!converted) return this.giveUp(id, entry);
    // The lease is kept until the result is recorded (the job row is gone by then), so no
    // other worker converts the stored bytes meanwhile.
    const recorded = await options.worker.recordConverted(id, converted);
    await this.forget(id, entry);
    if (!recorded) options.worker.kick();
  }

  /** Lets the job have it: the lease goes, the local copy too. */
  private async giveUp(id: string, entry: Relayed): Promise<void> {
    entry.finished = true;
    if (this.options.pool.isConverting(id)) this.options.pool.cancel(id);
    this.declined.add(id);
    if (this.declined.size > MAX_DECLINED)
      this.declined.delete(this.declined.values().next().value!);
    await this.forget(id, entry);
    this.options.worker.kick();
  }

  private async forget(id: string, entry: Relayed): Promise<void> {
    entry.finished = true;
    if (this.relayed.get(id) === entry) this.relayed.delete(id);
    if (entry.owner === undefined) return;
    await this.options.leases.release(id).catch((error: unknown) => {
      console.error(`reelchat: releasing the live lease of ${id} failed (it lapses)`, error);
    });
    await rm(this.options.localPath(id), { force: true });
  }
}
