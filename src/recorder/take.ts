import { emit } from '../internal/events.js';
import { sendTake, uploadTake } from '../outbox/deliver.js';
import { ReelError } from '../transport/errors.js';
import type { ReelTransport, Video } from '../transport/types.js';
import type { RecorderSession } from './recorder-session.js';
import { storeUplink, type UplinkEstimate } from './uplink-estimate.js';

/** One recording, from the press of record until its message is sent or it is discarded. */
export interface Take {
  clientId: string;
  conversation: string;
  transport: ReelTransport;
  user?: string;
  mimeType: string;
  blobs: Blob[];
  bytes: number;
  duration?: number;
  approved: boolean;
  /** True while `deliver` is waiting for the upload or the message. */
  delivering: boolean;
  controller: AbortController;
  /** The chain of outbox writes: begin, each chunk, finish. */
  written: Promise<void>;
  upload?: Promise<Video>;
  uploadError?: ReelError;
  sent: number;
  /** What this take's upload measures of the uplink (the time left to send, shown). */
  uplink: UplinkEstimate;
  /** Shared while recorded (`<reel-recorder live>`): its message goes as the upload starts. */
  live?: boolean;
  /** The message sent at Record for a live take (withdrawn if the take is discarded). */
  message?: string;
  /** Releases the take's lock (held while this page owns the take). */
  release(): void;
}

/**
 * A take's way to the server: each chunk written to the outbox, the upload from the outbox
 * while it records, and, once the person chose to send it, its message.
 */
export class TakeDelivery {
  constructor(private readonly session: RecorderSession) {}

  onChunk(take: Take, chunk: Blob): void {
    const { outbox } = this.session;
    take.blobs.push(chunk);
    take.bytes += chunk.size;
    take.uplink.chunk(chunk.size);
    const written = take.written.then(() => outbox.append(take.clientId, chunk));
    take.written = written;
    written.catch((error: unknown) => void this.session.takeFailed(take, ReelError.from(error)));
  }

  /** Starts (or restarts) uploading the take from the outbox, live while it records. */
  startUpload(take: Take): void {
    const { outbox } = this.session;
    take.uploadError = undefined;
    take.upload = take.written.then(async () => {
      const record = await outbox.get(take.clientId);
      if (!record) throw new ReelError('aborted', 'The take was discarded.');
      return uploadTake(take.transport, outbox, record, {
        signal: take.controller.signal,
        duration: () => take.duration,
        onProgress: (sent, total) => this.onProgress(take, sent, total),
        live: take.live,
        onCreated: take.live ? (id) => void this.sendAtOnce(take, id) : undefined,
      });
    });
    // The next take's starting estimate (its warning before it has measured anything).
    take.upload.then(
      () => storeUplink(take.uplink.bitsPerSecond ?? 0),
      () => undefined,
    );
    take.upload.catch((error: unknown) => {
      // Kept for send(): a failure while recording is retried from the outbox then.
      take.uploadError = ReelError.from(error);
    });
  }

  /**
   * A live take's message, sent as soon as its video exists (before its first byte): the
   * buddy sees it at once and can watch. The same clientId as the send after the upload,
   * which then answers this message.
   */
  private async sendAtOnce(take: Take, video: string): Promise<void> {
    try {
      const message = await take.transport.sendMessage(take.conversation, {
        clientId: take.clientId,
        video,
      });
      if (take.controller.signal.aborted) return;
      take.message = message.id;
      emit(this.session.element, 'reel-message', { message });
    } catch (error) {
      this.session.report(ReelError.from(error));
    }
  }

  private onProgress(take: Take, sent: number, total?: number): void {
    take.sent = sent;
    take.uplink.confirmed(sent);
    if (!take.approved) return;
    const known = total ?? take.bytes;
    this.session.set({
      percent: known ? Math.min(100, Math.round((sent / known) * 100)) : undefined,
      secondsLeft: take.uplink.secondsToSend(),
    });
    emit(this.session.element, 'reel-upload-progress', {
      sent,
      total: known,
      clientId: take.clientId,
    });
  }

  /**
   * Waits for the upload of an approved take, sends its message, deletes it from the outbox.
   * The person pressed send: it finishes even if the element leaves the page meanwhile.
   */
  deliver(take: Take): Promise<void> {
    const work = this.deliverNow(take);
    this.session.keepOpenUntil(work);
    return work;
  }

  private async deliverNow(take: Take): Promise<void> {
    const { session } = this;
    const { outbox, element } = session;
    session.setReviewUrl(undefined);
    session.set({ error: undefined, state: 'uploading' });
    this.onProgress(take, take.sent);
    take.delivering = true;
    try {
      // An upload that failed (while recording, or before) starts again from the outbox.
      if (take.uploadError) this.startUpload(take);
      const video = await take.upload!;
      const record = await outbox.get(take.clientId);
      if (!record) throw new ReelError('not-found', 'The take is no longer in the outbox.');
      const message = await sendTake(take.transport, outbox, record, video.id);
      take.release();
      this.onProgress(take, take.bytes, take.bytes);
      emit(element, 'reel-upload-complete', video);
      emit(element, 'reel-message', { message });
      if (session.take === take) {
        session.take = undefined;
        session.set({ state: 'sent' });
      }
    } catch (error) {
      const reelError = ReelError.from(error);
      if (reelError.code === 'aborted' && take.controller.signal.aborted) return;
      if (session.take === take) session.fail(reelError);
      else {
        take.release();
        session.report(reelError);
      }
    } finally {
      take.delivering = false;
    }
  }
}
