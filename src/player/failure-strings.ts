/**
 * The texts of a failed playback (the player's failure panel) and of a live clip (its badge,
 * and the line once playback caught up with the recording), loaded with the playback:
 * a player that plays fine, or plays no live clip, never carries them up front. Part of `PlayerStrings` all the
 * same — a host replaces them with the `strings` property, and every shipped language has
 * them (src/i18n/).
 */
export const failureStrings = {
  failedNetwork: 'The video could not be loaded. Check the connection and try again.',
  failedNotFound: 'This video is no longer available.',
  failedMedia: 'This video cannot be played in this browser.',
  failedBlocked: 'This site’s security settings blocked the video.',
  failedBlockedDetail: 'Content-Security-Policy: {missing}',
  retry: 'Retry',
  live: 'Live',
  stillRecording: '{name} is still recording',
};

export type FailureStrings = typeof failureStrings;
