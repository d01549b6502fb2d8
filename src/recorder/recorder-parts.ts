import { html, nothing, type TemplateResult } from 'lit';
import { renderReview } from './review-part.js';
import { clock } from '../internal/clock.js';
import type { RecorderSession } from './recorder-session.js';
import type { RecorderText as T, RecorderView } from './recorder-view.js';

/**
 * The parts of `<reel-recorder>` shown only once its camera is on (the timer, the device
 * choices, the review and the progress bar), its texts and buttons after the first state,
 * and their styles: loaded with the take lifecycle, not up front.
 */
import { primaryAction, secondaryAction, statusText } from './recorder-controls.js';

export { default as recorderPartStyles } from './recorder-parts.styles.js';

export function renderTimer(
  view: RecorderView,
  maxSeconds: number,
  t: T,
): TemplateResult | typeof nothing {
  if (view.state !== 'recording') return nothing;
  const left = Math.max(0, maxSeconds - view.elapsed);
  const ending = left <= 10;
  return html`<div part="timer" class="timer" role="timer">
    <span part="indicator" class="indicator" aria-hidden="true"></span>
    <span part="elapsed" class="elapsed"
      >${t('elapsed', { time: clock(view.elapsed, t.locale) })}</span
    >
    <span
      part=${ending ? 'countdown countdown-ending' : 'countdown'}
      class="countdown ${ending ? 'ending' : ''}"
      >${t('remaining', { time: clock(Math.ceil(left), t.locale) })}</span
    >
  </div>`;
}

export function renderProgress(view: RecorderView, t: T): TemplateResult | typeof nothing {
  return view.state === 'uploading'
    ? html`<progress
        part="progress"
        class="progress"
        max="100"
        .value=${view.percent ?? 0}
        aria-label=${t('progress')}
      ></progress>`
    : nothing;
}

/** Phones name their cameras' directions: they get a switch instead of a list. */
function canSwitch(cameras: MediaDeviceInfo[]): boolean {
  return (
    cameras.length > 1 &&
    cameras.some((camera) => {
      const capabilities = (camera as InputDeviceInfo).getCapabilities?.();
      return (capabilities?.facingMode?.length ?? 0) > 0;
    })
  );
}

export function renderDevices(
  view: RecorderView,
  t: T,
  session: RecorderSession,
): TemplateResult | typeof nothing {
  if (view.state !== 'previewing') return nothing;
  const switchable = canSwitch(view.cameras);
  const cameraList = !switchable && view.cameras.length > 1;
  const micList = view.microphones.length > 1;
  if (!switchable && !cameraList && !micList) return nothing;
  const options = (devices: MediaDeviceInfo[], selected: string | undefined, fallback: string) =>
    devices.map(
      (device, index) =>
        html`<option value=${device.deviceId} ?selected=${device.deviceId === selected}>
          ${device.label || `${fallback} ${index + 1}`}
        </option>`,
    );
  return html`<div part="devices" class="devices">
    ${
      cameraList
        ? html`<label part="device-label"
            >${t('camera')}
            <select
              part="camera-select"
              @change=${(event: Event) =>
                session.chooseDevice('camera', (event.target as HTMLSelectElement).value)}
            >
              ${options(view.cameras, view.choice.camera, t('camera'))}
            </select></label
          >`
        : nothing
    }
    ${
      micList
        ? html`<label part="device-label"
            >${t('microphone')}
            <select
              part="microphone-select"
              @change=${(event: Event) =>
                session.chooseDevice('microphone', (event.target as HTMLSelectElement).value)}
            >
              ${options(view.microphones, view.choice.microphone, t('microphone'))}
            </select></label
          >`
        : nothing
    }
    ${
      switchable
        ? html`<button
            part="button switch-button"
            type="button"
            @click=${() => session.switchCamera()}
          >
            ${t('switchCamera')}
          </button>`
        : nothing
    }
  </div>`;
}

/**
 * What the element renders through its take lifecycle (an object, not the module's
 * namespace: that would bring a bundler helper up front).
 */
export const recorderParts = {
  renderReview,
  renderTimer,
  renderProgress,
  renderDevices,
  statusText,
  primaryAction,
  secondaryAction,
};
