// What the recorder's browser tests share (reel-recorder.test.ts, reel-recorder.failures.test.ts):
// the engine they run in, stand-in MediaRecorders, a memory transport that notes what the
// upload read, and the element's fixture and buttons.
import { expect, fixture, html } from '@open-wc/testing';
import { ifDefined } from 'lit/directives/if-defined.js';
import { nanoid } from 'nanoid';
import sinon from 'sinon';
import type { ReelEventDetails } from '../internal/events.js';
import { Outbox } from '../outbox/outbox.js';
import { waitUntil } from '../test-helpers/wait.js';
import { ReelError } from '../transport/errors.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type {
  ReelTransport,
  ResumableSource,
  UploadOptions,
  UploadSource,
  Video,
} from '../transport/types.js';
import { streamOf } from '../transport/upload-source.js';
import { STOP_TIMEOUT_MS, pickRecordingType } from './camera-recorder.js';
import type { ReelRecorder, RecorderState } from './reel-recorder.js';
import type { TakeShape } from './take-shape.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Engine = 'chromium' | 'firefox' | 'webkit';
/** The engine this file runs in (scripts/browsers.mjs: Chromium, Firefox, WebKitGTK). */
export const engine: Engine = /Firefox\//.test(navigator.userAgent)
  ? 'firefox'
  : /Chrome\//.test(navigator.userAgent)
    ? 'chromium'
    : 'webkit';

/** The best format each engine offers (docs/recorder.md, "Per engine"). */
export const BEST_FORMAT: Record<Engine, string> = {
  chromium: 'video/x-matroska;codecs=avc1,opus',
  firefox: 'video/webm;codecs=vp8,opus',
  webkit: 'video/mp4;codecs=avc1.42E01E,mp4a.40.2',
};

/** The engine's own MediaRecorder, whatever a test puts in its place. */
const engineRecorder = window.MediaRecorder;

let engineBytes: Promise<number> | undefined;
/**
 * How many bytes the engine's own MediaRecorder gives for 1.5 s of its fake camera, in the
 * format the recorder picks (measured once). WebKitGTK's gives none here (docs/recorder.md).
 */
export function engineRecordingBytes(): Promise<number> {
  engineBytes ??= (async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    try {
      const type = pickRecordingType();
      const recorder = new engineRecorder(stream, type ? { mimeType: type } : {});
      let bytes = 0;
      recorder.addEventListener('dataavailable', (event) => (bytes += event.data.size));
      const stopped = new Promise((resolve) => recorder.addEventListener('stop', resolve));
      recorder.start(500);
      await sleep(1500);
      recorder.stop();
      const ended = await Promise.race([stopped.then(() => true), sleep(STOP_TIMEOUT_MS)]);
      console.log(
        `${engine}: ${bytes} bytes, ${ended ? 'then stop' : `no stop in ${STOP_TIMEOUT_MS} ms`}`,
      );
      return bytes;
    } finally {
      for (const track of stream.getTracks()) track.stop();
    }
  })();
  return engineBytes;
}

/** WebKit's recorder format as ffmpeg writes it (scripts/fixtures.mjs): init, then fragments. */
async function webkitRecording(): Promise<{
  init: Uint8Array<ArrayBuffer>;
  fragments: Uint8Array<ArrayBuffer>[];
}> {
  const response = await fetch('/test-fixtures/video/webkit-recording.mp4');
  const bytes = new Uint8Array(await response.arrayBuffer());
  const view = new DataView(bytes.buffer);
  const boxes: { type: string; start: number; end: number }[] = [];
  for (let at = 0; at + 8 <= bytes.length;) {
    const size = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (size < 8) throw new Error(`webkit-recording.mp4: bad box at ${at}`);
    boxes.push({ type, start: at, end: at + size });
    at += size;
  }
  const firstMoof = boxes.findIndex((box) => box.type === 'moof');
  expect(boxes.slice(0, firstMoof).map((box) => box.type)).to.deep.equal(['ftyp', 'moov']);
  const fragments: Uint8Array<ArrayBuffer>[] = [];
  for (let i = firstMoof; i < boxes.length; i += 2) {
    expect([boxes[i].type, boxes[i + 1]?.type]).to.deep.equal(['moof', 'mdat']);
    fragments.push(bytes.subarray(boxes[i].start, boxes[i + 1].end));
  }
  return { init: bytes.subarray(0, boxes[firstMoof].start), fragments };
}

/**
 * A MediaRecorder that writes what WebKit's (and Safari's) writes: it offers only
 * `video/mp4;codecs=avc1.42E01E,mp4a.40.2`, and each timeslice hands over the next
 * one-second fragment of a real H.264/AAC fragmented MP4 (the first with the init segment),
 * the last at stop, then `stop`. Stands in where WebKit's own recorder gives no bytes.
 */
function webkitFormatRecorder(file: {
  init: Uint8Array<ArrayBuffer>;
  fragments: Uint8Array<ArrayBuffer>[];
}) {
  return class WebKitFormatRecorder extends EventTarget {
    static isTypeSupported(type: string): boolean {
      return type === BEST_FORMAT.webkit;
    }
    state: RecordingState = 'inactive';
    readonly mimeType: string;
    private timer?: ReturnType<typeof setInterval>;
    private next = 0;
    constructor(
      readonly stream: MediaStream,
      options: MediaRecorderOptions = {},
    ) {
      super();
      if (options.mimeType && !WebKitFormatRecorder.isTypeSupported(options.mimeType))
        throw new DOMException(`${options.mimeType} is not supported`, 'NotSupportedError');
      this.mimeType = options.mimeType || BEST_FORMAT.webkit;
    }
    start(timeslice = 1000): void {
      this.state = 'recording';
      this.timer = setInterval(() => this.chunk(), timeslice);
    }
    stop(): void {
      if (this.state === 'inactive') return;
      clearInterval(this.timer);
      this.state = 'inactive';
      setTimeout(() => {
        this.chunk();
        this.dispatchEvent(new Event('stop'));
      });
    }
    private chunk(): void {
      const fragment = file.fragments[this.next];
      if (!fragment) return; // the file is longer than any take here
      const parts: BlobPart[] = this.next === 0 ? [file.init, fragment] : [fragment];
      this.next++;
      const data = new Blob(parts, { type: this.mimeType });
      this.dispatchEvent(new BlobEvent('dataavailable', { data }));
    }
  };
}

/** A transport that notes when the upload's stream yielded each chunk, and how each upload ended. */
export class WatchedTransport {
  readonly yields: { at: number; bytes: number }[] = [];
  readonly results: { video?: Video; error?: ReelError }[] = [];
  readonly transport: ReelTransport;

  constructor(readonly inner: MemoryTransport) {
    this.transport = Object.assign(Object.create(inner) as ReelTransport, {
      upload: (conversation: string, source: UploadSource, options: UploadOptions) =>
        this.upload(conversation, source, options),
    });
  }

  private async upload(conversation: string, source: UploadSource, options: UploadOptions) {
    const watched: ResumableSource = {
      read: (offset: number) => this.logged(streamOf(source as ResumableSource, offset)),
    };
    try {
      const video = await this.inner.upload(conversation, watched, options);
      this.results.push({ video });
      return video;
    } catch (error) {
      this.results.push({ error: ReelError.from(error) });
      throw error;
    }
  }

  private async *logged(stream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) {
      this.yields.push({ at: performance.now(), bytes: chunk.byteLength });
      yield chunk;
    }
  }
}

/**
 * Records with `recorder` in place of the engine's MediaRecorder: the encoder recorder
 * (Chromium's WebCodecs path) is put out of reach, so the take goes through the stand-in.
 */
export function recordWith(recorder: unknown): void {
  sinon.stub(window, 'MediaRecorder').value(recorder);
  if ('VideoEncoder' in window) sinon.stub(window, 'VideoEncoder').value(undefined);
}

/**
 * A MediaRecorder whose chunks are `bytes` long each (0: it records nothing, as one whose
 * camera gives no frames). Stands in where the test is about what follows the recording,
 * the same in every engine.
 */
export function stubRecorder(bytes: number, { fireStop = true } = {}) {
  return class StubMediaRecorder extends EventTarget {
    static isTypeSupported(): boolean {
      return true;
    }
    state: RecordingState = 'inactive';
    readonly mimeType = 'video/webm';
    private timer?: ReturnType<typeof setInterval>;
    constructor(readonly stream: MediaStream) {
      super();
    }
    start(timeslice = 1000): void {
      this.state = 'recording';
      this.timer = setInterval(() => this.chunk(), timeslice);
    }
    stop(): void {
      if (this.state === 'inactive') return;
      clearInterval(this.timer);
      this.state = 'inactive';
      // As a real recorder: the last chunk, then `stop`, after stop() returns (unless this
      // one stands for a recorder that never finishes).
      setTimeout(() => {
        if (!fireStop) return;
        this.chunk();
        this.dispatchEvent(new Event('stop'));
      });
    }
    private chunk(): void {
      const data = new Blob([new Uint8Array(bytes)], { type: this.mimeType });
      this.dispatchEvent(new BlobEvent('dataavailable', { data }));
    }
  };
}

export function setup(options: { user?: string; room?: string; outbox?: Outbox } = {}) {
  const room = options.room ?? `rec-${nanoid(6)}`;
  const memory = new MemoryTransport({ user: options.user ?? 'alice', room, processingDelay: 5 });
  return {
    room,
    memory,
    watched: new WatchedTransport(memory),
    outbox: options.outbox ?? new Outbox({ name: `rec-test-${nanoid(6)}` }),
  };
}

export type Events = { [K in keyof ReelEventDetails]: ReelEventDetails[K][] };

export function listen(el: HTMLElement): Events {
  const names: (keyof ReelEventDetails)[] = [
    'reel-record-start',
    'reel-record-stop',
    'reel-record-cancel',
    'reel-upload-progress',
    'reel-upload-complete',
    'reel-message',
    'reel-error',
  ];
  const seen = {} as Record<string, unknown[]>;
  for (const name of names) {
    seen[name] = [];
    el.addEventListener(name, (event) => seen[name].push((event as CustomEvent).detail));
  }
  return seen as unknown as Events;
}

export function part(el: ReelRecorder, name: string): HTMLElement | null {
  return el.shadowRoot!.querySelector(`[part~="${name}"]`);
}

export function press(el: ReelRecorder, name: string): void {
  const button = part(el, name) as HTMLButtonElement | null;
  expect(button, `${name} is shown in state ${el.state}`).to.not.equal(null);
  button!.click();
}

/** Waits for the element's state (10 s by default, as every wait: test-helpers/wait.ts). */
export async function reach(
  el: ReelRecorder,
  state: RecorderState,
  timeout?: number,
): Promise<void> {
  await waitUntil(() => el.state === state, `expected state ${state}, still ${el.state}`, {
    timeout,
  });
  await el.updateComplete;
}

export async function recorder(
  ctx: ReturnType<typeof setup>,
  attrs: {
    noConfirm?: boolean;
    maxDuration?: number;
    conversation?: string;
    shape?: TakeShape;
  } = {},
): Promise<ReelRecorder> {
  const el = await fixture<ReelRecorder>(
    html`<reel-recorder
      shape=${ifDefined(attrs.shape)}
      conversation=${attrs.conversation ?? 'c1'}
      max-duration=${attrs.maxDuration ?? 30}
      ?no-confirm=${attrs.noConfirm ?? false}
      autostart
      .transport=${ctx.watched.transport}
      .outbox=${ctx.outbox}
    ></reel-recorder>`,
  );
  await reach(el, 'previewing');
  return el;
}

/**
 * The hooks of a describe whose tests record with the engine's MediaRecorder: in WebKit, where
 * its own gives no bytes here, the H.264/AAC stand-in takes its place for each test; after each
 * test the engine's own is back and sinon's stubs are restored.
 */
export function recordInEveryEngine(): void {
  /** WebKit's format from a real file, where WebKit's own recorder gives no bytes here. */
  let standIn: typeof MediaRecorder | undefined;
  before(async function () {
    this.timeout(20_000);
    if (engine === 'webkit' && (await engineRecordingBytes()) === 0) {
      standIn = webkitFormatRecorder(await webkitRecording()) as unknown as typeof MediaRecorder;
      console.log('webkit: recording through the H.264/AAC fragmented MP4 stand-in');
    }
  });
  beforeEach(() => {
    if (standIn) window.MediaRecorder = standIn;
  });
  afterEach(() => {
    sinon.restore();
    window.MediaRecorder = engineRecorder;
  });
}
