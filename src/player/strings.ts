import type { FailureStrings } from './failure-strings.js';

/** Every text `<reel-player>` shows or announces; replace any of them with the `strings` property. */
export const playerStrings = {
  label: 'Video reel',
  clipProgress: 'Clip {n} of {total}',
  announce: 'Clip {n} of {total}, from {owner}, {duration}',
  announceNoOwner: 'Clip {n} of {total}, {duration}',
  play: 'Play',
  pause: 'Pause',
  next: 'Next clip',
  back: 'Previous clip',
  mute: 'Mute',
  unmute: 'Unmute',
  tapToUnmute: 'Tap to unmute',
  speed: 'Playback speed {rate}',
  rate: '{rate}×',
  skipped: 'Clip {n} could not be played and was skipped.',
  empty: 'No clips yet.',
  ended: 'End of the reel.',
  loading: 'Loading…',
};

/** The texts `<reel-player>` carries up front (`playerStrings`). */
export type UpFrontPlayerStrings = typeof playerStrings;

/** Every text, the failure panel's included (`failureStrings`, loaded with the playback). */
export type PlayerStrings = typeof playerStrings & FailureStrings;
