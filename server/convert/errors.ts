// The two ways a conversion fails that the rest of the server must tell apart:
// the upload is bad (mark the video failed, show `reason`), or the machine lacks ffmpeg
// (refuse to start). Anything else thrown by the converter is a fault worth retrying.

/** The uploaded file is not an acceptable video. `reason` is written for people to read. */
export class ConvertError extends Error {
  override readonly name = 'ConvertError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

export const INSTALL_ADVICE =
  'Install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg), ' +
  'or point FFMPEG_PATH and FFPROBE_PATH at the binaries.';

/** ffmpeg or ffprobe is missing or unusable. The message says how to install them. */
export class ToolsMissingError extends Error {
  override readonly name = 'ToolsMissingError';
  constructor(problem: string, options?: { cause?: unknown }) {
    super(`${problem} ${INSTALL_ADVICE}`, options);
  }
}
