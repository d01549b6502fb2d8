import { ReelError } from '../transport/errors.js';
import type { EncoderRecording } from './encoder-recorder.js';
import { mediaError, pickRecordingType } from './recording-format.js';
import type { UplinkEstimate } from './uplink-estimate.js';

export { RECORDING_TYPES, mediaError, pickRecordingType } from './recording-format.js';

/**
 * A chunk every half second: at Stop at most that much is left to upload, and for the server
 * to convert (a VP8 take is transcoded, ~0.2 s of work per second of video here).
 */
export const TIMESLICE_MS = 500;
/** A keyframe every 2 s: the server's remuxed HLS segments are ~2 s (Chromium honours it). */
export const KEYFRAME_INTERVAL_MS = 2000;
/** A take watched while it is recorded: 1 s segments (docs/protocol.md, "Live"). */
const LIVE_KEYFRAME_INTERVAL_MS = 1000;
/** …and its bytes sooner: a segment's end reaches the server within a quarter second. */
const LIVE_TIMESLICE_MS = 250;
/**
 * How long stop waits for the recorder's `stop` event. Chromium and Firefox flush the last
 * chunk well within a second, WebKitGTK here in ~2.4 s (with 0 bytes); a recorder that never
 * ends must not leave the element recording for ever.
 */
export const STOP_TIMEOUT_MS = 6000;

/** True where this browser can capture and record at all. */
export function canRecord(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    !!navigator.mediaDevices?.getUserMedia &&
    typeof MediaRecorder !== 'undefined'
  );
}

export interface DeviceChoice {
  camera?: string;
  microphone?: string;
}

export interface Devices {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
}

export interface RecordingHandlers {
  /** Each chunk, in order (never empty). */
  onChunk(chunk: Blob): void;
  /** The recorder or a track failed while recording. */
  onError(error: ReelError): void;
  /** A take shared live: a keyframe every second, so the server's segments are ~1 s. */
  live?: boolean;
}

type RecorderOptions = MediaRecorderOptions & { videoKeyFrameIntervalDuration?: number };

/** What the encoder recorder fits the take to (MediaRecorder follows neither). */
export interface UplinkFit {
  /** The take's own upload: the video bitrate follows it. */
  uplink?: UplinkEstimate;
  /** The uplink an earlier take measured: the take's size and first bitrate. */
  earlierUplinkBps?: number;
}

/** Matroska H.264 + Opus, the one type both of Chromium's ways record (so either can stand in). */
const ENCODED_TYPE = 'video/x-matroska;codecs=avc1,opus';

/**
 * True where the take goes through WebCodecs (the encoder recorder): the browser has the
 * encoders and the track reader, and its MediaRecorder writes the same type to fall back on.
 */
export function canEncode(): boolean {
  return (
    typeof VideoEncoder !== 'undefined' &&
    typeof AudioEncoder !== 'undefined' &&
    typeof MediaStreamTrackProcessor !== 'undefined' &&
    pickRecordingType() === ENCODED_TYPE
  );
}

type EncoderModule = typeof import('./encoder-recorder.js');
/** The encoder module once it has arrived (it is asked for while the camera previews). */
let encoderModule: EncoderModule | undefined;
const loadEncoder = () =>
  import('./encoder-recorder.js').then((module) => (encoderModule = module));

/**
 * Owns the camera and microphone stream and what records it — the encoder recorder where
 * the browser has WebCodecs (Chromium), else the MediaRecorder, which also stands in when the
 * encoders fail to start: opens, listens to and stops them in one place, so nothing stays on
 * (camera light, recorder) after `close()`.
 */
export class CameraRecorder {
  stream?: MediaStream;
  private recorder?: MediaRecorder;
  /** The encoder recorder while it starts (undefined once it fell back) and records. */
  private encoder?: Promise<EncoderRecording | undefined>;
  private handlers?: RecordingHandlers;
  private stopped?: { promise: Promise<void>; resolve(): void };
  private startedAt = 0;
  /** Bumped by close(): an open() still waiting for the browser then stops what it gets. */
  private generation = 0;
  private onTrackEnded = () =>
    this.handlers?.onError(new ReelError('no-device', 'The camera or microphone stopped.'));
  /** Set by the element: a track ended while previewing (device unplugged, permission revoked). */
  onDeviceLost?: () => void;

  /**
   * Opens the camera and microphone: the chosen ones if they are still there, else the
   * defaults; the picture in `aspectRatio` (width / height) where the camera can crop to it.
   */
  async open(
    choice: DeviceChoice = {},
    facingMode?: 'user' | 'environment',
    aspectRatio = 16 / 9,
  ): Promise<MediaStream> {
    if (!canRecord()) {
      throw new ReelError(
        'unsupported',
        'This browser cannot record video (no camera access or MediaRecorder).',
      );
    }
    this.close();
    // Loaded while the person frames the shot, so Record does not wait for it.
    if (canEncode()) void loadEncoder().catch(() => undefined);
    const generation = this.generation;
    // Within 1280 × 720, whatever the shape (406 × 720 upright, 720 × 720 square): Chromium's
    // H.264 encoder gave no bytes at all for 720 × 1280 (406 × 720 records).
    const video: MediaTrackConstraints = {
      width: { ideal: Math.round(Math.min(1280, 720 * aspectRatio)) },
      height: { ideal: 720 },
      aspectRatio: { ideal: aspectRatio },
      frameRate: { ideal: 30 },
    };
    if (facingMode) video.facingMode = { ideal: facingMode };
    const audio: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true };
    const chosen = !facingMode && choice.camera ? choice.camera : undefined;
    const ask = (withChoice: boolean) =>
      navigator.mediaDevices.getUserMedia({
        video: withChoice && chosen ? { ...video, deviceId: { exact: chosen } } : video,
        audio:
          withChoice && choice.microphone
            ? { ...audio, deviceId: { exact: choice.microphone } }
            : audio,
      });
    let stream: MediaStream;
    try {
      stream = await ask(true);
    } catch (error) {
      const code = mediaError(error).code;
      // A remembered device that is gone (unplugged, or ids reset): the defaults will do.
      if (code !== 'no-device' || !(chosen || choice.microphone)) throw mediaError(error);
      try {
        stream = await ask(false);
      } catch (again) {
        throw mediaError(again);
      }
    }
    if (generation !== this.generation) {
      // close() (or another open()) came while the browser was asking: this stream is not wanted.
      for (const track of stream.getTracks()) track.stop();
      throw new ReelError('aborted', 'The camera was closed while it was opening.');
    }
    this.stream = stream;
    for (const track of stream.getTracks()) track.addEventListener('ended', this.trackEnded);
    return stream;
  }

  /** The devices of each kind (labels are empty until permission has been granted once). */
  static async devices(): Promise<Devices> {
    if (!navigator.mediaDevices?.enumerateDevices) return { cameras: [], microphones: [] };
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      cameras: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
      microphones: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
    };
  }

  /** The devices the open stream actually uses. */
  current(): DeviceChoice & { facingMode?: string } {
    const videoTrack = this.stream?.getVideoTracks()[0];
    const audioTrack = this.stream?.getAudioTracks()[0];
    return {
      camera: videoTrack?.getSettings().deviceId,
      microphone: audioTrack?.getSettings().deviceId,
      facingMode: videoTrack?.getSettings().facingMode,
    };
  }

  get recording(): boolean {
    return !!this.encoder || this.recorder?.state === 'recording';
  }

  /** Seconds since recording started. */
  get elapsed(): number {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  /** Starts recording the open stream; returns the MIME type the recorder really uses. */
  start(handlers: RecordingHandlers, fit: UplinkFit = {}): string {
    const stream = this.stream;
    if (!stream) throw new ReelError('media', 'The camera is not open.');
    // A Record pressed before the encoder module arrived goes to MediaRecorder, which starts
    // at once: waiting for the module (0.8 s on a loaded machine) would lose the take's start.
    const loaded = encoderModule;
    if (!canEncode() || !loaded) return this.startRecorder(handlers);
    this.handlers = handlers;
    this.startedAt = performance.now();
    const generation = this.generation;
    const encoder = loaded.EncoderRecording.start({
      ...fit,
      stream,
      timesliceMs: handlers.live ? LIVE_TIMESLICE_MS : TIMESLICE_MS,
      keyframeIntervalMs: handlers.live ? LIVE_KEYFRAME_INTERVAL_MS : KEYFRAME_INTERVAL_MS,
      onChunk: (chunk) => this.handlers?.onChunk(chunk),
      onError: (error) => this.handlers?.onError(error),
    }).then(
      (recording) => {
        // Stopped or closed while it started: it is not wanted.
        if (this.encoder !== encoder || generation !== this.generation) {
          recording.abort();
          return undefined;
        }
        // The take's length counts from when the encoders started, not from the press.
        this.startedAt = performance.now();
        return recording;
      },
      (error: unknown) => {
        if (this.encoder !== encoder || generation !== this.generation) return undefined;
        console.warn('reelchat: the encoders did not start; recording with MediaRecorder', error);
        this.encoder = undefined;
        const started = this.startedAt;
        try {
          this.startRecorder(handlers);
          this.startedAt = started;
        } catch (failed) {
          this.handlers?.onError(ReelError.from(failed, 'media'));
        }
        return undefined;
      },
    );
    this.encoder = encoder;
    return ENCODED_TYPE;
  }

  private startRecorder(handlers: RecordingHandlers): string {
    if (!this.stream) throw new ReelError('media', 'The camera is not open.');
    const options: RecorderOptions = {
      videoBitsPerSecond: 2_500_000,
      audioBitsPerSecond: 128_000,
      videoKeyFrameIntervalDuration: handlers.live
        ? LIVE_KEYFRAME_INTERVAL_MS
        : KEYFRAME_INTERVAL_MS,
    };
    const type = pickRecordingType();
    if (type) options.mimeType = type;
    let recorder: MediaRecorder;
    try {
      recorder = new MediaRecorder(this.stream, options);
    } catch (error) {
      throw new ReelError('unsupported', `MediaRecorder refused to start: ${String(error)}`, {
        cause: error,
      });
    }
    this.recorder = recorder;
    this.handlers = handlers;
    let resolve = () => {};
    const promise = new Promise<void>((done) => (resolve = done));
    this.stopped = { promise, resolve };
    recorder.addEventListener('dataavailable', this.dataAvailable);
    recorder.addEventListener('error', this.recorderError);
    recorder.addEventListener('stop', this.recorderStopped);
    recorder.start(handlers.live ? LIVE_TIMESLICE_MS : TIMESLICE_MS);
    this.startedAt = performance.now();
    return recorder.mimeType || type || 'video/webm';
  }

  /**
   * Stops recording. Resolves after the last chunk has been handed to `onChunk`; returns
   * the recording's length in seconds. With `discard`, no further chunks are delivered.
   * Rejects with `media` when the recorder does not finish within `STOP_TIMEOUT_MS` (the
   * take may lack its end); a discarded take just stops waiting.
   */
  async stop(options: { discard?: boolean; timeoutMs?: number } = {}): Promise<number> {
    const duration = this.elapsed;
    if (this.encoder) return this.stopEncoder(this.encoder, duration, options);
    const recorder = this.recorder;
    if (!recorder) return duration;
    if (options.discard) this.handlers = undefined;
    if (recorder.state !== 'inactive') recorder.stop();
    else this.stopped?.resolve();
    const timeoutMs = options.timeoutMs ?? STOP_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      this.stopped?.promise.then(() => true) ?? true,
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    // Nothing more is taken from a recorder that did not finish: its late chunks would
    // land after the take was judged.
    this.handlers = undefined;
    this.releaseRecorder();
    if (!finished && !options.discard) {
      throw new ReelError(
        'media',
        `The browser's recorder did not finish the recording (no stop within ${timeoutMs} ms).`,
      );
    }
    return duration;
  }

  /** `stop` for the encoder recorder (or the MediaRecorder it fell back to while starting). */
  private async stopEncoder(
    encoder: Promise<EncoderRecording | undefined>,
    duration: number,
    options: { discard?: boolean; timeoutMs?: number },
  ): Promise<number> {
    if (options.discard) this.handlers = undefined;
    const recording = await encoder;
    if (this.encoder !== encoder) {
      // It fell back to a MediaRecorder while starting: that one is stopped as usual.
      if (this.recorder) return this.stop(options);
      return duration;
    }
    this.encoder = undefined;
    if (!recording) return duration;
    if (options.discard) {
      recording.abort();
      this.startedAt = 0;
      return duration;
    }
    const timeoutMs = options.timeoutMs ?? STOP_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      recording.stop().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.handlers = undefined;
    this.startedAt = 0;
    if (!finished) {
      recording.abort();
      throw new ReelError(
        'media',
        `The encoders did not finish the recording within ${timeoutMs} ms.`,
      );
    }
    return duration;
  }

  /** Stops everything: recorder, tracks, listeners. Safe to call at any time, repeatedly. */
  close(): void {
    this.generation++;
    if (this.encoder) {
      const encoder = this.encoder;
      this.encoder = undefined;
      this.handlers = undefined;
      this.startedAt = 0;
      void encoder.then((recording) => recording?.abort());
    }
    if (this.recorder) {
      this.handlers = undefined;
      if (this.recorder.state !== 'inactive') this.recorder.stop();
      this.stopped?.resolve();
      this.releaseRecorder();
    }
    if (this.stream) {
      for (const track of this.stream.getTracks()) {
        track.removeEventListener('ended', this.trackEnded);
        track.stop();
      }
      this.stream = undefined;
    }
  }

  private releaseRecorder(): void {
    const recorder = this.recorder;
    if (!recorder) return;
    recorder.removeEventListener('dataavailable', this.dataAvailable);
    recorder.removeEventListener('error', this.recorderError);
    recorder.removeEventListener('stop', this.recorderStopped);
    this.recorder = undefined;
    this.handlers = undefined;
    this.stopped = undefined;
    this.startedAt = 0;
  }

  private dataAvailable = (event: BlobEvent) => {
    if (event.data.size > 0) this.handlers?.onChunk(event.data);
  };

  private recorderError = (event: Event) => {
    const cause = (event as ErrorEvent).error ?? event;
    this.handlers?.onError(new ReelError('media', `Recording failed: ${String(cause)}`, { cause }));
  };

  // `stop` follows the final `dataavailable`, so every chunk has been delivered by now.
  private recorderStopped = () => this.stopped?.resolve();

  private trackEnded = () => {
    if (this.recording) this.onTrackEnded();
    else this.onDeviceLost?.();
  };
}
