// reelchat/recorder: <reel-recorder>, and the outbox it keeps takes in until they are sent.
import { defineElement } from '../internal/define.js';
import { ReelRecorder } from './reel-recorder.js';

export { ReelRecorder, type RecorderState } from './reel-recorder.js';
export { recorderStrings, type RecorderStrings } from './strings.js';
export {
  CameraRecorder,
  RECORDING_TYPES,
  pickRecordingType,
  mediaError,
  type DeviceChoice,
} from './camera-recorder.js';
export * from '../outbox/index.js';

defineElement('reel-recorder', ReelRecorder);

declare global {
  interface HTMLElementTagNameMap {
    'reel-recorder': ReelRecorder;
  }
}
