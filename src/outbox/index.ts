// reelchat/outbox: recordings persisted in IndexedDB before they are sent, and resumed after a
// reload — the one public home of the outbox and its delivery functions (deliver.ts owns them;
// <reel-recorder> and <reel-chat> import that module from their lazily loaded parts).
export {
  Outbox,
  storageError,
  type OutboxOptions,
  type OutboxSource,
  type OutboxTake,
  type TakeState,
} from './outbox.js';
export {
  defaultOutbox,
  resumePendingUploads,
  sendTake,
  uploadTake,
  withTakeLock,
  type ResumeOptions,
  type ResumeResult,
  type TakeLockOptions,
  type UploadTakeOptions,
} from './deliver.js';
