import type { ReelError } from '../transport/errors.js';
import type { Message, MessageDraft, Video } from '../transport/types.js';

/** A clip as the player knows it (from a `clips` property, `<reel-clip>` children or a transport). */
export interface Clip {
  id: string;
  src: string;
  /** `hls` (default) or `file`, a plain video the browser plays itself. */
  type?: 'hls' | 'file';
  poster?: string;
  owner?: string;
  ownerName?: string;
  duration?: number;
  watched?: boolean;
  /** When it was recorded (ISO 8601): the reel says over it who and how long ago ("Bob · 2 minutes ago"). */
  createdAt?: string;
}

/** Every event reelchat fires, with its detail. All bubble and cross shadow roots. */
export interface ReelEventDetails {
  'reel-error': { error: ReelError };
  /** `clientId` names the take: its upload and its message. */
  'reel-record-start': { mimeType: string; clientId?: string };
  /** `blob` is the whole take, for hosts that handle the recording themselves. */
  'reel-record-stop': {
    duration: number;
    bytes: number;
    clientId?: string;
    mimeType?: string;
    blob?: Blob;
  };
  /** The person discarded the take (or closed the camera) before sending. */
  'reel-record-cancel': { clientId?: string };
  'reel-upload-progress': { sent: number; total?: number; clientId?: string };
  'reel-upload-complete': Video;
  'reel-clip-change': { index: number; clip: Clip };
  'reel-clip-watched': { index: number; clip: Clip };
  'reel-ended': { count: number };
  /** Cancelable: the host may veto the send, or edit `draft` in place. */
  'reel-request-send': { conversation: string; draft: MessageDraft };
  'reel-message': { message: Message };
}

export type ReelEventName = keyof ReelEventDetails;

declare global {
  interface GlobalEventHandlersEventMap {
    'reel-error': CustomEvent<ReelEventDetails['reel-error']>;
    'reel-record-start': CustomEvent<ReelEventDetails['reel-record-start']>;
    'reel-record-stop': CustomEvent<ReelEventDetails['reel-record-stop']>;
    'reel-record-cancel': CustomEvent<ReelEventDetails['reel-record-cancel']>;
    'reel-upload-progress': CustomEvent<ReelEventDetails['reel-upload-progress']>;
    'reel-upload-complete': CustomEvent<ReelEventDetails['reel-upload-complete']>;
    'reel-clip-change': CustomEvent<ReelEventDetails['reel-clip-change']>;
    'reel-clip-watched': CustomEvent<ReelEventDetails['reel-clip-watched']>;
    'reel-ended': CustomEvent<ReelEventDetails['reel-ended']>;
    'reel-request-send': CustomEvent<ReelEventDetails['reel-request-send']>;
    'reel-message': CustomEvent<ReelEventDetails['reel-message']>;
  }
}

/**
 * Fires a reelchat event from `target`. Returns false when a cancelable event was
 * cancelled by a listener (`preventDefault()`).
 */
export function emit<K extends ReelEventName>(
  target: EventTarget,
  name: K,
  detail: ReelEventDetails[K],
  options: { cancelable?: boolean } = {},
): boolean {
  const event = new CustomEvent(name, {
    detail,
    bubbles: true,
    composed: true,
    cancelable: options.cancelable ?? false,
  });
  return target.dispatchEvent(event);
}
