// The encoder recorder (issue 24): WebCodecs' VideoEncoder (H.264) and AudioEncoder (Opus),
// fed by MediaStreamTrackProcessor, muxed as it goes by mediabunny into append-only Matroska,
// the format Chromium's MediaRecorder sends. Unlike a MediaRecorder it records at the size
// and bitrate asked, and its bitrate can change mid-take without a new file
// (docs/recorder.md, "Fitting the uplink"). Loaded on demand by CameraRecorder (mediabunny's
// muxer is ~23 KB gzipped), never up front.
import {
  AppendOnlyStreamTarget,
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  MkvOutputFormat,
  Output,
} from 'mediabunny';
import { ReelError } from '../transport/errors.js';
import { nextVideoBitrate, startingEncoding, AUDIO_BPS, type Encoding } from './encoding-ladder.js';
import type { UplinkEstimate } from './uplink-estimate.js';

/** What this recorder writes: what Chromium's MediaRecorder writes, so a fallback is the same type. */
export const ENCODER_TYPE = 'video/x-matroska;codecs=avc1,opus';
/** How often the bitrate is judged against the take's upload. */
const BITRATE_EVERY_MS = 1000;
/** A backlog over this many seconds counts as not keeping up (for the step up). */
const KEPT_UP_BACKLOG_S = 0.5;
/** Frames waiting for the encoder past this are dropped: a slow machine records fewer frames, not late ones. */
const MAX_ENCODE_QUEUE = 4;

export interface EncoderRecordingOptions {
  stream: MediaStream;
  /** The take's own upload, which the video bitrate follows. */
  uplink?: UplinkEstimate;
  /** The uplink an earlier take measured (bits per second): the take's size and first bitrate. */
  earlierUplinkBps?: number;
  timesliceMs: number;
  keyframeIntervalMs: number;
  onChunk(chunk: Blob): void;
  onError(error: ReelError): void;
}

/** The picture size for a short side, keeping the camera's shape (even sides, never enlarged). */
function scaledSize(width: number, height: number, shortSide: number) {
  const scale = Math.min(1, shortSide / Math.min(width, height));
  const even = (n: number) => Math.max(2, 2 * Math.round((n * scale) / 2));
  return { width: even(width), height: even(height) };
}

/** One take through the encoders. `start` throws when any part refuses to start. */
export class EncoderRecording {
  private stopping = false;
  private pieces: Uint8Array[] = [];
  private muxing = Promise.resolve();
  private readers: { cancel(): Promise<void> }[] = [];
  private loops: Promise<void>[] = [];
  private timers: ReturnType<typeof setInterval>[] = [];
  private failed = false;
  /** Bits per second the video encoder is asked for now (follows the upload). */
  videoBps: number;

  private constructor(
    private readonly options: EncoderRecordingOptions,
    readonly encoding: Encoding,
    private readonly output: Output,
    private readonly video: VideoEncoder,
    private readonly audio: AudioEncoder,
    private readonly videoConfig: VideoEncoderConfig,
  ) {
    this.videoBps = encoding.videoBps;
  }

  static async start(options: EncoderRecordingOptions): Promise<EncoderRecording> {
    const [videoInput] = options.stream.getVideoTracks();
    const [audioInput] = options.stream.getAudioTracks();
    if (!videoInput || !audioInput) throw new ReelError('media', 'No camera or microphone track.');
    const encoding = startingEncoding(options.earlierUplinkBps);
    const settings = videoInput.getSettings();
    const size = scaledSize(
      settings.width ?? 1280,
      settings.height ?? 720,
      encoding.rung.shortSide,
    );
    const videoConfig: VideoEncoderConfig = {
      codec: 'avc1.42001f', // baseline 3.1: up to 1280×720 at 30 frames a second
      ...size,
      bitrate: encoding.videoBps,
      framerate: 30,
      latencyMode: 'realtime',
      avc: { format: 'avc' },
    };
    const audioSettings = audioInput.getSettings();
    const audioConfig: AudioEncoderConfig = {
      codec: 'opus',
      sampleRate: audioSettings.sampleRate || 48_000,
      numberOfChannels: audioSettings.channelCount || 1,
      bitrate: AUDIO_BPS,
    };
    const [videoOk, audioOk] = await Promise.all([
      VideoEncoder.isConfigSupported(videoConfig),
      AudioEncoder.isConfigSupported(audioConfig),
    ]);
    if (!videoOk.supported || !audioOk.supported) {
      throw new ReelError('unsupported', 'This browser cannot encode H.264 and Opus here.');
    }
    // The encoders' callbacks reach the recording once it exists (their first output comes later).
    const ref: { started?: EncoderRecording } = {};
    const fail = (error: unknown) => ref.started?.fail(error);
    const pieces: Uint8Array[] = [];
    const output = new Output({
      format: new MkvOutputFormat({ appendOnly: true, minimumClusterDuration: 0.5 }),
      target: new AppendOnlyStreamTarget(
        new WritableStream<Uint8Array>({
          write: (data) => void pieces.push(data.slice()),
        }),
      ),
    });
    const videoTrack = new EncodedVideoPacketSource('avc');
    const audioTrack = new EncodedAudioPacketSource('opus');
    // No frameRate: mediabunny would snap timestamps to its grid, a late frame onto its neighbour's.
    output.addVideoTrack(videoTrack);
    output.addAudioTrack(audioTrack);
    const video = new VideoEncoder({
      output: (chunk, meta) => ref.started?.mux(videoTrack, chunk, meta),
      error: fail,
    });
    const audio = new AudioEncoder({
      output: (chunk, meta) => ref.started?.mux(audioTrack, chunk, meta),
      error: fail,
    });
    try {
      video.configure(videoConfig);
      audio.configure(audioConfig);
      await output.start();
    } catch (error) {
      for (const encoder of [video, audio]) if (encoder.state !== 'closed') encoder.close();
      throw error;
    }
    const started = new EncoderRecording(options, encoding, output, video, audio, videoConfig);
    ref.started = started;
    started.pieces = pieces;
    started.run(videoInput, audioInput);
    return started;
  }

  private run(videoInput: MediaStreamTrack, audioInput: MediaStreamTrack): void {
    const { options } = this;
    // Each track counts from its own first timestamp: Chromium's audio and video clocks differ.
    const firsts: { video?: number; audio?: number } = {};
    const since = (kind: 'video' | 'audio', timestamp: number) =>
      timestamp - (firsts[kind] ??= timestamp);
    const frames = new MediaStreamTrackProcessor({
      track: videoInput as MediaStreamVideoTrack,
    }).readable.getReader();
    const sound = new MediaStreamTrackProcessor({
      track: audioInput as MediaStreamAudioTrack,
    }).readable.getReader();
    this.readers = [frames, sound];
    let lastVideoUs = -1;
    let lastKeyUs = -Infinity;
    const pictures = async () => {
      for (;;) {
        const { value, done } = await frames.read();
        if (done || this.stopping) {
          value?.close();
          return;
        }
        const us = since('video', value.timestamp);
        // Matroska counts in milliseconds: a frame within 1 ms of the last would share its time.
        if (us - lastVideoUs < 1000 || this.video.encodeQueueSize > MAX_ENCODE_QUEUE) {
          value.close();
          continue;
        }
        lastVideoUs = us;
        const frame = new VideoFrame(value, { timestamp: us });
        value.close();
        const keyFrame = us - lastKeyUs >= options.keyframeIntervalMs * 1000;
        if (keyFrame) lastKeyUs = us;
        this.video.encode(frame, { keyFrame });
        frame.close();
      }
    };
    const sounds = async () => {
      for (;;) {
        const { value, done } = await sound.read();
        if (done || this.stopping) {
          value?.close();
          return;
        }
        const samples = new Float32Array(value.numberOfFrames * value.numberOfChannels);
        value.copyTo(samples, { planeIndex: 0, format: 'f32' });
        const data = new AudioData({
          format: 'f32',
          sampleRate: value.sampleRate,
          numberOfFrames: value.numberOfFrames,
          numberOfChannels: value.numberOfChannels,
          timestamp: since('audio', value.timestamp),
          data: samples,
        });
        value.close();
        this.audio.encode(data);
        data.close();
      }
    };
    this.loops = [pictures(), sounds()].map((loop) => loop.catch((error) => this.fail(error)));
    this.timers.push(setInterval(() => this.handOver(), options.timesliceMs));
    let keptUpSince = performance.now();
    this.timers.push(
      setInterval(() => {
        const { uplink } = options;
        if (!uplink) return;
        const backlogSeconds = uplink.secondsToSend(options.earlierUplinkBps);
        const now = performance.now();
        if (backlogSeconds === undefined || backlogSeconds > KEPT_UP_BACKLOG_S) keptUpSince = now;
        this.setBitrate(
          nextVideoBitrate(this.videoBps, this.encoding.rung, {
            uplinkBps: uplink.bitsPerSecond,
            backlogSeconds,
            keptUpSeconds: (now - keptUpSince) / 1000,
          }),
        );
      }, BITRATE_EVERY_MS),
    );
  }

  private setBitrate(bps: number): void {
    if (bps === this.videoBps || this.video.state !== 'configured') return;
    this.videoBps = bps;
    this.video.configure({ ...this.videoConfig, bitrate: bps });
  }

  // The muxer takes packets one at a time, in order.
  private mux(
    track: EncodedVideoPacketSource | EncodedAudioPacketSource,
    chunk: EncodedVideoChunk | EncodedAudioChunk,
    meta?: EncodedVideoChunkMetadata | EncodedAudioChunkMetadata,
  ): void {
    const packet = EncodedPacket.fromEncodedChunk(chunk);
    this.muxing = this.muxing
      .then(() =>
        (track as EncodedVideoPacketSource).add(packet, meta as EncodedVideoChunkMetadata),
      )
      .catch((error: unknown) => this.fail(error));
  }

  /** What the muxer wrote since the last hand-over, as one chunk. */
  private handOver(): void {
    if (this.failed || this.pieces.length === 0) return;
    const chunk = new Blob(this.pieces as BlobPart[], { type: ENCODER_TYPE });
    this.pieces.length = 0;
    this.options.onChunk(chunk);
  }

  /** Ends the take: the encoders flushed, the file finished, its last bytes handed over. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const reader of this.readers) void reader.cancel().catch(() => undefined);
    await Promise.all(this.loops);
    for (const timer of this.timers) clearInterval(timer);
    if (this.failed) return;
    await Promise.all([this.video.flush(), this.audio.flush()]);
    await this.muxing;
    await this.output.finalize();
    this.handOver();
    this.close();
  }

  /** Stops everything at once; nothing more is handed over. */
  abort(): void {
    this.failed = true;
    this.stopping = true;
    for (const reader of this.readers) void reader.cancel().catch(() => undefined);
    for (const timer of this.timers) clearInterval(timer);
    this.close();
    void this.output.cancel().catch(() => undefined);
  }

  private close(): void {
    for (const encoder of [this.video, this.audio]) if (encoder.state !== 'closed') encoder.close();
  }

  private fail(error: unknown): void {
    if (this.failed || this.stopping) return;
    this.abort();
    this.options.onError(
      new ReelError('media', `Recording failed: ${String(error)}`, { cause: error }),
    );
  }
}
