// The outbox's functions as reelchat/recorder exports them: each loads the delivery module
// on its first call (they all return promises already), so the entry does not carry it up
// front. `Outbox` is a type here (its class: reelchat/outbox); the element makes its default one.
import type * as Deliver from '../outbox/deliver.js';

export type {
  Outbox,
  OutboxOptions,
  OutboxSource,
  OutboxTake,
  TakeState,
} from '../outbox/outbox.js';
export type {
  ResumeOptions,
  ResumeResult,
  TakeLockOptions,
  UploadTakeOptions,
} from '../outbox/deliver.js';

// Through the take lifecycle's module, which has them already: one chunk, not two.
const deliver = () => import('./recorder-session.js');

export const resumePendingUploads: typeof Deliver.resumePendingUploads = async (...args) =>
  (await deliver()).resumePendingUploads(...args);
export const sendTake: typeof Deliver.sendTake = async (...args) =>
  (await deliver()).sendTake(...args);
export const uploadTake: typeof Deliver.uploadTake = async (...args) =>
  (await deliver()).uploadTake(...args);
export const withTakeLock: typeof Deliver.withTakeLock = async (...args) =>
  (await deliver()).withTakeLock(...args);
