// What the recorder records and how its failures are named: small, so reelchat/recorder
// exports them up front while the CameraRecorder itself (with its timings) loads with the
// take lifecycle.
import { ReelError } from '../transport/errors.js';

/**
 * Recording formats in order of preference. H.264 first, so the server can remux instead
 * of transcoding; then VP9 and VP8 where the browser has no H.264 encoder. Matroska comes
 * before MP4 where both are offered (Chromium): its chunks arrive every second, while MP4's
 * arrive only at keyframes, one interval late, so less is left to send at stop
 * (bench/recorder.mjs; docs/recorder.md). Safari records MP4 only.
 */
export const RECORDING_TYPES = [
  'video/x-matroska;codecs=avc1,opus',
  'video/mp4;codecs=avc1.42E01E,mp4a.40.2',
  'video/mp4;codecs=avc1.42E01E,opus',
  'video/webm;codecs=h264,opus',
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8,opus',
  'video/webm',
  'video/mp4',
] as const;

/** The first recording type this browser's MediaRecorder supports, or '' for its default. */
export function pickRecordingType(): string {
  if (typeof MediaRecorder === 'undefined') return '';
  return RECORDING_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) ?? '';
}

/** getUserMedia's failures, as the codes a site can branch on. */
export function mediaError(error: unknown): ReelError {
  if (error instanceof ReelError) return error;
  const name = (error as { name?: string } | undefined)?.name;
  const message = error instanceof Error ? error.message : String(error);
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new ReelError('permission-denied', message, { cause: error });
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new ReelError('no-device', message, { cause: error });
    case 'NotReadableError':
    case 'AbortError':
      return new ReelError('device-busy', message, { cause: error });
    case 'NotSupportedError':
      return new ReelError('unsupported', message, { cause: error });
    default:
      return new ReelError('media', message, { cause: error });
  }
}
