// reelchat outbox: recordings persisted in IndexedDB before they are sent, and resumed after a reload.
export {
  Outbox,
  storageError,
  type OutboxOptions,
  type OutboxSource,
  type OutboxTake,
  type TakeState,
} from './outbox.js';
export {
  resumePendingUploads,
  sendTake,
  uploadTake,
  withTakeLock,
  type ResumeOptions,
  type ResumeResult,
  type TakeLockOptions,
  type UploadTakeOptions,
} from './deliver.js';
