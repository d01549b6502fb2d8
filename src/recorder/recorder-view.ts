import type { ReelError } from '../transport/errors.js';
import type { DeviceChoice } from './camera-recorder.js';
import type { RecorderState, ReelRecorder } from './reel-recorder.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Localizer } from '../internal/i18n.js';
import type { UpFrontRecorderStrings } from './strings.js';

/** What `<reel-recorder>` shows: set by its take lifecycle, rendered by the element. */
export interface RecorderView {
  state: RecorderState;
  elapsed: number;
  percent?: number;
  /**
   * Seconds until the server has all that is recorded, at the rate this take's upload
   * measured: while recording, set only when the link is slower than the recording (it says
   * so); while sending, the time left.
   */
  secondsLeft?: number;
  error?: ReelError;
  /** The text for `error` when its code alone does not say it (an empty take, a device lost). */
  errorText?: keyof UpFrontRecorderStrings | 'errorDeviceLost';
  reviewUrl?: string;
  /** Escape in review asked: "Discard this recording?" shows. */
  confirmDiscard?: boolean;
  mirrored: boolean;
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
  choice: DeviceChoice;
  facing?: 'user' | 'environment';
}

export const IDLE_VIEW: RecorderView = {
  state: 'idle',
  elapsed: 0,
  mirrored: true,
  cameras: [],
  microphones: [],
  choice: {},
};

/** The element's private side, as its take lifecycle reaches it. */
export interface RecorderPort {
  view(): RecorderView;
  setView(view: RecorderView): void;
  previewVideo(): HTMLVideoElement | undefined;
  /** The outbox the host gave, if any. */
  outbox(): Outbox | undefined;
}

export type RecorderHost = ReelRecorder;

/** A recorder text with its `{placeholders}` filled, in the element's language. */
export type RecorderText = ((
  key: keyof UpFrontRecorderStrings,
  values?: Record<string, string | number>,
) => string) & {
  /** The locale numbers and durations follow. */
  locale: string;
  /** The element's texts, for those that load with the take lifecycle (uplink-strings.ts). */
  i18n: Localizer<UpFrontRecorderStrings>;
};

/** One of the recorder's two buttons: what it is called and does. */
export interface RecorderAction {
  name: string;
  label: string;
  run: () => unknown;
  disabled?: boolean;
}
