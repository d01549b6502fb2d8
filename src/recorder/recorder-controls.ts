import { spokenDuration } from '../internal/durations.js';
import { percentText } from '../internal/percent.js';
import type { ReelErrorCode } from '../transport/errors.js';
import type { RecorderSession } from './recorder-session.js';
import type { RecorderAction, RecorderText, RecorderView } from './recorder-view.js';
import type { UpFrontRecorderStrings } from './strings.js';
import { uplinkText } from './uplink-strings.js';
import { deviceLostText } from './device-lost.js';

/**
 * What `<reel-recorder>` says and which buttons it offers once its take lifecycle is in
 * (every state after the first): loaded with it, so the element carries up front only its
 * first state's text and button.
 */

const ERROR_STRINGS: Partial<Record<ReelErrorCode, keyof UpFrontRecorderStrings>> = {
  'permission-denied': 'errorPermissionDenied',
  'no-device': 'errorNoDevice',
  'device-busy': 'errorDeviceBusy',
  unsupported: 'errorUnsupported',
  'quota-exceeded': 'errorQuota',
  media: 'errorMedia',
};

export function statusText(view: RecorderView, t: RecorderText, session: RecorderSession): string {
  const max = spokenDuration(session.maxSeconds, t.locale);
  switch (view.state) {
    case 'idle':
      return t('idle', { max });
    case 'asking-permission':
      return t('askingPermission');
    case 'previewing':
      return t('previewing', { max });
    case 'recording':
      // The link is slower than the recording: how long the wait after Stop will be.
      return view.secondsLeft === undefined
        ? t('recording')
        : uplinkText(t, 'recordingSlow', { time: waitText(view.secondsLeft, t) });
    case 'reviewing':
      return t('reviewing');
    case 'uploading':
      if (view.percent === undefined) return t('uploadingUnknown');
      // The time left only when it is worth saying (a second or more).
      return view.secondsLeft !== undefined && view.secondsLeft >= 1
        ? uplinkText(t, 'uploadingTimeLeft', {
            percent: percentText(view.percent, t.locale),
            time: waitText(view.secondsLeft, t),
          })
        : t('uploading', { percent: percentText(view.percent, t.locale) });
    case 'sent':
      return t('sent');
    case 'error': {
      if (view.errorText === 'errorDeviceLost') return deviceLostText(t);
      if (view.errorText) return t(view.errorText);
      const code = view.error?.code;
      // The server's limits (it answered): its message says which and for how long;
      // the device's own storage quota has no status.
      if (code === 'quota-exceeded' && view.error?.status !== undefined)
        return t('errorLimit', { reason: view.error.message });
      const key = code ? ERROR_STRINGS[code] : undefined;
      if (key) return t(key);
      if (code === 'bad-request' && !session.take) return t('errorNotConfigured');
      return t('errorUpload');
    }
  }
}

/**
 * A wait in words, rounded up to a step (a wait is never shorter than said): 5 s up to
 * half a minute, 15 s up to two, then whole minutes. The status is a live region, and a
 * figure that moved every second would be read out every second.
 */
function waitText(seconds: number, t: RecorderText): string {
  const step = seconds <= 30 ? 5 : seconds <= 120 ? 15 : 60;
  return spokenDuration(Math.max(step, Math.ceil(seconds / step) * step), t.locale);
}

// The primary button is one element whose job changes with the state, so keyboard
// focus stays on it from record to stop to send.
export function primaryAction(
  view: RecorderView,
  t: RecorderText,
  session: RecorderSession,
): RecorderAction {
  const host = session.element;
  switch (view.state) {
    case 'idle':
      return { name: 'start', label: t('start'), run: () => host.open() };
    case 'asking-permission':
      return { name: 'start', label: t('start'), run: () => undefined, disabled: true };
    case 'previewing':
      return { name: 'record', label: t('record'), run: () => host.record() };
    case 'recording':
      return { name: 'stop', label: t('stop'), run: () => host.stop() };
    case 'reviewing':
      return { name: 'send', label: t('send'), run: () => host.send() };
    case 'uploading':
      return { name: 'send', label: t('send'), run: () => undefined, disabled: true };
    case 'sent':
      return { name: 'again', label: t('again'), run: () => host.open(view.facing) };
    case 'error':
      return { name: 'retry', label: t('retry'), run: () => session.retry() };
  }
}

export function secondaryAction(
  view: RecorderView,
  t: RecorderText,
  session: RecorderSession,
): RecorderAction | undefined {
  const host = session.element;
  switch (view.state) {
    case 'previewing':
    case 'recording':
      return { name: 'cancel', label: t('cancel'), run: () => host.cancel() };
    case 'reviewing':
      return { name: 'retake', label: t('retake'), run: () => host.retake() };
    case 'error':
      return session.take
        ? { name: 'retake', label: t('retake'), run: () => session.retakeFailed() }
        : undefined;
    default:
      return undefined;
  }
}
