// reelchat/recorder: <reel-recorder>, and the outbox it keeps takes in until they are sent.
// Up front only the element and what it shows first; its take lifecycle (the camera, the
// outbox, delivery) loads when it is first needed. So the outbox's and the camera's classes
// are exported here as types (`Outbox` itself comes from reelchat/outbox); the delivery
// functions load their module on first call.
import { defineElement } from '../internal/define.js';
import { ReelRecorder } from './reel-recorder.js';

export { ReelRecorder, type RecorderState } from './reel-recorder.js';
export { recorderStrings, type RecorderStrings } from './strings.js';
export { RECORDING_TYPES, pickRecordingType, mediaError } from './recording-format.js';
export type { CameraRecorder, DeviceChoice } from './camera-recorder.js';
export {
  resumePendingUploads,
  sendTake,
  uploadTake,
  withTakeLock,
  type Outbox,
  type OutboxOptions,
  type OutboxSource,
  type OutboxTake,
  type TakeState,
  type ResumeOptions,
  type ResumeResult,
  type TakeLockOptions,
  type UploadTakeOptions,
} from './outbox-exports.js';

defineElement('reel-recorder', ReelRecorder);

declare global {
  interface HTMLElementTagNameMap {
    'reel-recorder': ReelRecorder;
  }
}
