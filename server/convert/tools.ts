// Checked once at start-up, so a machine without ffmpeg refuses to serve instead of
// failing at the first upload.
import { ToolsMissingError } from './errors.js';
import { FfmpegProcess } from './ffmpeg-process.js';

const CHECK_TIMEOUT_MS = 10_000;

/** Versions of ffmpeg and ffprobe (e.g. '5.1.9-0+deb12u1'); throws ToolsMissingError. */
export async function checkTools(
  ffmpegPath: string,
  ffprobePath: string,
): Promise<{ ffmpeg: string; ffprobe: string }> {
  const [ffmpeg, ffprobe] = await Promise.all([
    versionOf(ffmpegPath, 'ffmpeg'),
    versionOf(ffprobePath, 'ffprobe'),
  ]);
  await requireEncoders(ffmpegPath);
  return { ffmpeg, ffprobe };
}

async function versionOf(path: string, name: string): Promise<string> {
  let output: string;
  try {
    output = await new FfmpegProcess({
      command: path,
      args: ['-hide_banner', '-version'],
      timeoutMs: CHECK_TIMEOUT_MS,
    }).run();
  } catch (error) {
    throw new ToolsMissingError(`${name} is not usable at "${path}" (${describe(error)}).`, {
      cause: error,
    });
  }
  const version = new RegExp(`^${name} version (\\S+)`).exec(output)?.[1];
  if (!version) throw new ToolsMissingError(`"${path}" does not look like ${name}.`);
  return version;
}

/** The pipeline needs libx264 and the AAC encoder; some minimal builds lack libx264. */
async function requireEncoders(ffmpegPath: string): Promise<void> {
  let output: string;
  try {
    output = await new FfmpegProcess({
      command: ffmpegPath,
      args: ['-hide_banner', '-encoders'],
      timeoutMs: CHECK_TIMEOUT_MS,
    }).run();
  } catch (error) {
    throw new ToolsMissingError(`ffmpeg at "${ffmpegPath}" cannot list its encoders.`, {
      cause: error,
    });
  }
  for (const encoder of ['libx264', 'aac']) {
    if (!new RegExp(`^\\s*\\S+\\s+${encoder}\\s`, 'm').test(output)) {
      throw new ToolsMissingError(`This ffmpeg has no ${encoder} encoder.`);
    }
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EACCES') return 'not executable';
  return error instanceof Error ? error.message : String(error);
}
