import type { DeviceLostStrings } from './device-lost.js';
import type { UplinkStrings } from './uplink-strings.js';

/** Every text `<reel-recorder>` shows or announces; replace any of them with the `strings` property. */
export const recorderStrings = {
  label: 'Video recorder',
  start: 'Turn on camera',
  record: 'Record',
  stop: 'Stop',
  cancel: 'Cancel',
  send: 'Send',
  retake: 'Retake',
  retry: 'Try again',
  again: 'Record another',
  switchCamera: 'Switch camera',
  camera: 'Camera',
  microphone: 'Microphone',
  preview: 'Camera preview',
  review: 'Your recording',
  idle: 'Record a video message of up to {max}.',
  askingPermission: 'Allow access to your camera and microphone to record.',
  previewing: 'Ready. Up to {max}.',
  recording: 'Recording',
  elapsed: '{time}',
  remaining: '{time} left',
  reviewing: 'Watch your video, then send it or record it again.',
  uploading: 'Sending… {percent}',
  uploadingUnknown: 'Sending…',
  progress: 'Sending progress',
  sent: 'Sent.',
  errorPermissionDenied:
    "Camera and microphone access is blocked. Allow it in your browser's site settings, then try again.",
  errorNoDevice: 'No camera or microphone was found. Connect one, then try again.',
  errorDeviceBusy:
    'The camera or microphone is in use by another app or tab. Close it, then try again.',
  errorUnsupported:
    'This browser cannot record video here. Use a current browser on a secure (https) page.',
  errorQuota:
    'There is not enough storage space on this device to keep the recording. Free some space, then try again.',
  errorNotConfigured: 'This recorder has nowhere to send videos (no transport or conversation).',
  errorUpload: 'The video could not be sent. It is kept on this device; try again.',
  errorLimit: '{reason} The video is kept on this device; try again later.',
  errorMedia: 'Recording failed. Try again.',
  errorEmpty: 'Nothing was recorded: the camera gave no picture or sound. Try again.',
  play: 'Play',
  pause: 'Pause',
  seek: 'Position in your recording',
  reviewTime: '{time} of {length}',
  discardQuestion: 'Discard this recording?',
  discard: 'Discard',
  keep: 'Keep',
};

/** The texts `<reel-recorder>` carries up front (`recorderStrings`). */
export type UpFrontRecorderStrings = typeof recorderStrings;

/**
 * Every text, with those loaded with the take lifecycle: the slow uplink's (`uplinkStrings`)
 * and a device lost mid-preview (`deviceLostStrings`).
 */
export type RecorderStrings = typeof recorderStrings & UplinkStrings & DeviceLostStrings;
