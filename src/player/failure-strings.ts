/**
 * The texts of a failed playback (the player's failure panel), loaded with the playback:
 * a player that plays fine never carries them up front. Part of `PlayerStrings` all the
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
};

export type FailureStrings = typeof failureStrings;
