// The errors both metadata stores throw, for their callers to tell apart.

/** Thrown by createMessage when the video is already attached to another message. */
export class VideoTakenError extends Error {
  override readonly name = 'VideoTakenError';
}

/** A page cursor (`after`, `before`) that is not of this conversation. */
export class UnknownCursorError extends Error {
  override readonly name = 'UnknownCursorError';
}
