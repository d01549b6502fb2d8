// reelchat/recorder: <reel-recorder>. Up front only the element and what it shows first; its
// take lifecycle (the camera, the outbox, delivery) loads when it is first needed, so the
// outbox's and the camera's classes are types here. The outbox and its delivery functions
// (`resumePendingUploads`, `sendTake`, `uploadTake`, `withTakeLock`) are reelchat/outbox's:
// one module owns them (src/outbox/deliver.ts), which the recorder's and the chat's lazily
// loaded parts import, so a bundler puts it in a chunk of its own beside them.
import { defineElement } from '../internal/define.js';
import { ReelRecorder } from './reel-recorder.js';

export { ReelRecorder, type RecorderState } from './reel-recorder.js';
export { recorderStrings, type RecorderStrings } from './strings.js';
export { RECORDING_TYPES, pickRecordingType, mediaError } from './recording-format.js';
export type { CameraRecorder, DeviceChoice } from './camera-recorder.js';
export type { Outbox, OutboxOptions, OutboxTake } from '../outbox/outbox.js';

defineElement('reel-recorder', ReelRecorder);

declare global {
  interface HTMLElementTagNameMap {
    'reel-recorder': ReelRecorder;
  }
}
