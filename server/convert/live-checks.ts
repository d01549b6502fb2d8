// What a live conversion's end must show before its output counts, as the finished path
// judges a complete file (docs/conversion.md, "Converting while uploading"); anything short
// of it gives up (LiveGaveUp) and the durable job converts the stored bytes instead.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { measureLastSegment } from './last-segment.js';
import { checkFrameRate, checkTranscodeBudget } from './limits.js';
import { OUTPUT, type OutputPlan } from './pipeline.js';
import { damageReported, type PacketSummary, type ProbedVideo } from './probe.js';
import type { ClipLimits } from './types.js';

/** A reason to leave the upload to the durable job; logged, never shown to people. */
export class LiveGaveUp extends Error {
  override readonly name = 'LiveGaveUp';
}

const DURATION_TOLERANCE_S = 0.1;

/**
 * The live run's outputs judged: the packets of the complete file (the scan beside ffmpeg)
 * as the finished path judges them, nothing reported by ffmpeg, and the output whole.
 * Resolves with the output's duration.
 */
export async function checkLiveRun(run: {
  scan: PacketSummary;
  probed: ProbedVideo;
  plan: OutputPlan;
  limits: ClipLimits;
  temp: string;
  /** stderr of the HLS run and of the poster's. */
  reports: [hls: string, poster: string];
}): Promise<number> {
  const { scan, probed, plan, limits, temp } = run;
  if (scan.count === 0) throw new LiveGaveUp('no frames');
  checkFrameRate(scan.count, scan.durationS, limits);
  if (plan.copyVideo && scan.reordered) throw new LiveGaveUp('its frames are reordered');
  if (!plan.copyVideo) checkTranscodeBudget(probed.video, scan.count, scan.durationS, limits);
  // The poster read a stored file still growing: its end may cut a block (the poster is
  // then made of the frames before it; checkOutput requires one). Damage anywhere is the
  // HLS run's and the scan's to find, which read every byte.
  for (const report of [run.reports[0].trim(), damageReported(run.reports[1])]) {
    if (report) throw new LiveGaveUp(`ffmpeg reported: ${report}`);
  }
  await measureLastSegment(temp, OUTPUT);
  return checkOutput(temp, scan.durationS);
}

/**
 * The output is whole: the playlist ended, every segment it names is there, and the total
 * within 0.1 s of the video's length. Segment lengths are not held to exactly 2 s: a
 * recording with frame gaps (Chromium's VP8 under load) puts the keyframe forced at 2 s on
 * the next frame, 2.1–2.7 s in, exactly as the finished path does with the same file — which
 * accepts it; refusing it here only sent such takes to the slower fallback.
 * Resolves with that total, as the finished path reports it.
 */
async function checkOutput(temp: string, durationS: number): Promise<number> {
  const playlist = await readFile(join(temp, OUTPUT.playlist), 'utf8');
  if (!/^#EXT-X-ENDLIST\s*$/m.test(playlist)) throw new LiveGaveUp('the playlist did not end');
  const segments = [...playlist.matchAll(/^#EXTINF:([\d.]+),?\s*\n(\S+)/gm)].map((m) => ({
    seconds: Number(m[1]),
    name: m[2]!,
  }));
  if (segments.length === 0) throw new LiveGaveUp('no segments');
  for (const segment of segments) {
    if (!/^seg\d+\.m4s$/.test(segment.name)) throw new LiveGaveUp('an unexpected segment name');
    const size = (await stat(join(temp, segment.name)).catch(() => undefined))?.size ?? 0;
    if (size === 0 || !(segment.seconds > 0)) throw new LiveGaveUp('a segment is missing');
  }
  for (const name of [OUTPUT.init, OUTPUT.poster]) {
    if (!((await stat(join(temp, name)).catch(() => undefined))?.size ?? 0)) {
      throw new LiveGaveUp(`${name} is missing`);
    }
  }
  const total = segments.reduce((sum, s) => sum + s.seconds, 0);
  if (Math.abs(total - durationS) > DURATION_TOLERANCE_S) {
    throw new LiveGaveUp(`it lasts ${total.toFixed(3)} s, the video ${durationS.toFixed(3)} s`);
  }
  return Math.round(total * 1000) / 1000;
}
