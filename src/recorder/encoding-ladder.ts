/**
 * What a take is recorded at, for the uplink it has (issue 24): the short side is chosen at
 * the take's start (a new size mid-take would need a new decoder configuration in the file),
 * the video bitrate follows the take's own upload within it. The figures behind the ladder
 * (SSIM against bitrate at 360/480/720p) are in docs/recorder.md (bench/quality-ladder.mjs).
 * For the encoder recorder (WebCodecs); a MediaRecorder follows neither (same doc).
 */

/** Opus, always sent at this rate whatever the link. */
export const AUDIO_BPS = 32_000;
/** The share of the measured uplink the recording may take: the rest is round trips and swings. */
export const UPLINK_SHARE = 0.7;
/** No video bitrate below this, however slow the link: the picture would be mush. */
export const MIN_VIDEO_BPS = 100_000;

export interface Rung {
  /** The picture's short side in pixels. */
  shortSide: number;
  /** The video bitrates this short side is chosen for. */
  minBps: number;
  maxBps: number;
}

/** Smaller pictures win below ~500 kbit/s, 720p from ~750 kbit/s, little is gained past 1.2 Mbit/s. */
export const LADDER: readonly Rung[] = [
  { shortSide: 240, minBps: MIN_VIDEO_BPS, maxBps: 180_000 },
  { shortSide: 360, minBps: 180_000, maxBps: 450_000 },
  { shortSide: 480, minBps: 450_000, maxBps: 700_000 },
  { shortSide: 720, minBps: 700_000, maxBps: 1_500_000 },
];

/** A take with no earlier measurement starts here: it fits any uplink from ~1 Mbit/s. */
export const UNMEASURED_VIDEO_BPS = 600_000;

export interface Encoding {
  rung: Rung;
  videoBps: number;
}

/** The video bitrate an uplink of `uplinkBps` carries beside the audio. */
export function videoBudget(uplinkBps: number): number {
  return uplinkBps * UPLINK_SHARE - AUDIO_BPS;
}

/** What a take starts with, for the uplink an earlier take measured (undefined: none did). */
export function startingEncoding(uplinkBps?: number): Encoding {
  const wanted = uplinkBps === undefined ? UNMEASURED_VIDEO_BPS : videoBudget(uplinkBps);
  const rung = [...LADDER].reverse().find((r) => wanted >= r.minBps) ?? LADDER[0];
  return { rung, videoBps: Math.round(Math.min(rung.maxBps, Math.max(rung.minBps, wanted))) };
}

export interface UplinkNow {
  /** The rate this take's upload measured (bits per second), if it has. */
  uplinkBps?: number;
  /** Seconds to send what is recorded and not yet on the server. */
  backlogSeconds?: number;
  /** Seconds since the backlog was last over half a second. */
  keptUpSeconds: number;
}

/** Past this backlog the bitrate comes down to what the link carries. */
const STEP_DOWN_BACKLOG_S = 1.5;
/** Up only after this long with no backlog, by this much, when the link has this much room. */
const STEP_UP_AFTER_S = 6;
const STEP_UP = 1.15;
const ROOM_FOR_STEP_UP = 1.3;

/**
 * The video bitrate to go on with: down at once to the link's budget when the backlog grows
 * (below the rung's range if the link dropped that far, never under MIN_VIDEO_BPS), up by
 * 15 % at a time after a while with no backlog and room to spare, never past the rung.
 */
export function nextVideoBitrate(current: number, rung: Rung, now: UplinkNow): number {
  const { uplinkBps, backlogSeconds = 0, keptUpSeconds } = now;
  if (uplinkBps === undefined) return current;
  const budget = videoBudget(uplinkBps);
  if (backlogSeconds > STEP_DOWN_BACKLOG_S) {
    return Math.round(Math.max(MIN_VIDEO_BPS, Math.min(current * 0.85, budget)));
  }
  if (keptUpSeconds >= STEP_UP_AFTER_S && budget >= current * ROOM_FOR_STEP_UP) {
    return Math.round(Math.min(rung.maxBps, current * STEP_UP));
  }
  return current;
}
