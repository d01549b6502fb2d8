import { ReelError } from '../transport/errors.js';
import type { RecorderText } from './recorder-view.js';

/**
 * A camera or microphone that stops while the preview shows (its track ended): the person
 * withdrew the site's access, or the device went (unplugged, taken by another app). Not "No
 * camera or microphone was found" — there was one a moment ago. Loaded with the take
 * lifecycle, like the uplink's texts; part of `RecorderStrings`, in every shipped language.
 */
export const deviceLostStrings = {
  errorDeviceLost:
    'The camera or microphone stopped: it was unplugged or another app took it. Connect it, then try again.',
};

export type DeviceLostStrings = typeof deviceLostStrings;

/**
 * Why the preview's device stopped: `permission-denied` where the browser says the camera's or
 * microphone's permission is now denied (a withdrawal reads like that), else `no-device`.
 */
export async function deviceLostError(): Promise<ReelError> {
  const withdrawn = await Promise.all(
    (['camera', 'microphone'] as const).map((name) =>
      navigator.permissions
        .query({ name: name as PermissionName })
        .then((status) => status.state === 'denied'),
    ),
  ).then(
    (states) => states.includes(true),
    // A browser that cannot be asked (a name it does not know): the device went.
    () => false,
  );
  return withdrawn
    ? new ReelError('permission-denied', 'Access to the camera or microphone was withdrawn.')
    : new ReelError('no-device', 'The camera or microphone stopped.');
}

/** The lost device's text in the element's language. */
export function deviceLostText(t: RecorderText): string {
  const table = t.i18n.table as Partial<DeviceLostStrings>;
  return table.errorDeviceLost ?? deviceLostStrings.errorDeviceLost;
}
