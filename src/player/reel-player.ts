import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { createRef, ref } from 'lit/directives/ref.js';
import { emit, type Clip } from '../internal/events.js';
import { format, mergeStrings } from '../internal/strings.js';
import { themeStyles } from '../internal/theme.js';
import { ConnectedElement } from '../internal/connected-element.js';
import { TransportController } from '../internal/transport-controller.js';
import { ReelError } from '../transport/errors.js';
import type { ReelEvent, ReelTransport, Video } from '../transport/types.js';
import type { EngineEvents, PlaybackEngine } from './engine.js';
import { mseSupported } from './hls-engine.js';
import styles from './reel-player.styles.js';
import { StitchEngine } from './stitch-engine.js';
import { playerStrings, type PlayerStrings } from './strings.js';
import { SwapEngine } from './swap-engine.js';
import { Timers } from './timers.js';
import { bufferedAhead, Watchdog, type Stall } from './watchdog.js';

const RATES = [1, 1.5, 2];
const HOLD_MS = 300;
const SWIPE_PX = 40;
/** A clip is watched once playback is this close to its end. */
const WATCHED_SLACK = 0.3;

/**
 * Plays a list of video clips back to back as one reel, stories style, with no visible gap
 * between clips: HLS clips are stitched into one playlist played by one hls.js instance
 * (loaded only when needed; native HLS where there is no MSE); plain files play through two
 * alternating `<video>` elements.
 *
 * The clips come from the `clips` property, from `<reel-clip>` children, or from a transport
 * (`transport`, `endpoint`, `token`, `conversation`, `owner`): then the owner's shared clips
 * are listed and new ones are appended as they become ready.
 *
 * @tagname reel-player
 * @summary A buddy's video clips, back to back, with per-clip progress and stories controls.
 *
 * @slot - `<reel-clip>` elements, one per clip (read, not displayed).
 *
 * @csspart base - The root: a focusable region that takes the keyboard shortcuts.
 * @csspart progress - The row of per-clip progress segments.
 * @csspart segment - One clip's progress segment (also `segment-watched`, `segment-failed`, `segment-current`).
 * @csspart segment-fill - The filled part of a segment.
 * @csspart stage - The picture area that takes taps, swipes and press-and-hold.
 * @csspart video - Each of the two `<video>` elements (only the one playing is visible).
 * @csspart controls - The row of buttons.
 * @csspart button - Every control button (also `back-button`, `play-button`, `mute-button`, `rate-button`, `next-button`).
 * @csspart icon - The icon inside a button.
 * @csspart overlay-button - The large play / unmute button over the picture.
 * @csspart note - The visible note about a clip that was skipped, the end of the reel, or no clips.
 * @csspart live-region - The visually hidden polite announcement of the current clip.
 *
 * @cssproperty --reel-player-aspect-ratio - Shape of the picture (default `16 / 9`).
 * @cssproperty --reel-player-background - Behind the picture (default `#000`).
 * @cssproperty --reel-player-radius - Corner radius (default `var(--reel-radius, 12px)`).
 * @cssproperty --reel-player-progress-color - Filled progress (default `#fff`).
 * @cssproperty --reel-player-progress-track - Unfilled progress (default `rgb(255 255 255 / 35%)`).
 * @cssproperty --reel-player-progress-height - Thickness of a segment (default `3px`).
 * @cssproperty --reel-player-control-color - Icons over the picture (default `#fff`).
 * @cssproperty --reel-color-danger - A failed clip's segment and note.
 *
 * @fires reel-clip-change - The current clip changed (`{index, clip}`), once per clip played.
 * @fires reel-clip-watched - A clip was played to its end (`{index, clip}`).
 * @fires reel-ended - The last clip ended (`{count}`: clips played).
 * @fires reel-error - A bad attribute, a clip that cannot play (skipped), or a transport failure (`{error}`).
 */
export class ReelPlayer extends ConnectedElement {
  static override styles = [themeStyles, styles];
  /** `player.focus()` focuses the reel itself, which takes the keyboard shortcuts. */
  static override shadowRootOptions: ShadowRootInit = {
    ...LitElement.shadowRootOptions,
    delegatesFocus: true,
  };

  /** Whose clips play (transport mode): a user id. */
  @property() owner?: string;
  /** The clips, when the host lists them itself (takes precedence over children and transport). */
  @property({ attribute: false }) clips?: Clip[];
  /** Replaces any of the texts (see `playerStrings`). */
  @property({ attribute: false }) strings?: Partial<PlayerStrings>;
  /** Starts playing as soon as the first clip can (muted if the browser requires it). */
  @property({ type: Boolean }) autoplay = false;
  /** Sound off. */
  @property({ type: Boolean, reflect: true }) muted = false;
  /** Playback speed, 0.25 to 4. */
  @property({ attribute: 'playback-rate', type: Number }) playbackRate = 1;
  /** Where the reel starts: `unwatched` (the first clip not yet watched) or a clip index. */
  @property() start = 'unwatched';

  @state() private list: Clip[] = [];
  @state() private index = -1;
  @state() private offset = 0;
  @state() private durations: number[] = [];
  @state() private failed: ReadonlySet<number> = new Set();
  @state() private paused = true;
  @state() private ended = false;
  @state() private needsUnmute = false;
  @state() private note = '';
  @state() private announcement = '';
  @state() private transportClips: Clip[] = [];
  @state() private childClips: Clip[] = [];

  private engine?: PlaybackEngine;
  private readonly timers = new Timers();
  private readonly watchdog = new Watchdog(
    this.timers,
    () => ({
      time: this.engine?.video.currentTime ?? 0,
      active: !!this.engine && !this.paused && !this.ended && !this.held,
      remaining: (this.durations[this.index] ?? Infinity) - this.offset,
      ahead: bufferedAhead(this.engine?.video),
    }),
    (stall) => this.onStall(stall),
  );
  private readonly controller = new TransportController(
    this,
    (transport) => void this.listFromTransport(transport),
    (error) => this.fail(error),
  );
  private readonly videoA = createRef<HTMLVideoElement>();
  private readonly videoB = createRef<HTMLVideoElement>();
  private readonly childObserver = new MutationObserver(() => this.readChildren());
  private rate = 1;
  private startAt: number | 'unwatched' = 'unwatched';
  private generation = 0;
  private listGeneration = 0;
  private navigating = false;
  private held = false;
  private wantPlay = false;
  private pointer?: { x: number; y: number; hold: number; held: boolean };
  private unsubscribe?: () => void;
  private pendingVideos = new Set<string>();
  private resume?: { id: string; offset: number; playing: boolean };
  /** The conversation and owner the transport clips were listed for. */
  private listedFor?: string;
  private validated?: { from: unknown; clips: Clip[] };

  /** Which engine plays the reel: `stitch` (one hls.js, gapless) or `swap` (two videos). */
  get mode(): 'stitch' | 'swap' | undefined {
    return this.engine?.kind;
  }

  /** Where playback is: the clip's index and the seconds into it. */
  get position(): { index: number; offset: number } {
    return { index: this.index, offset: this.offset };
  }

  /** The clips as the player has them now (with their `watched` state). */
  get playlist(): readonly Clip[] {
    return this.list;
  }

  private get text(): PlayerStrings {
    return mergeStrings(playerStrings, this.strings);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.childObserver.observe(this, { childList: true, subtree: true, attributes: true });
    this.readChildren();
    this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    const clip = this.list[this.index];
    if (clip && !this.ended)
      this.resume = { id: clip.id, offset: this.offset, playing: !this.paused };
    this.childObserver.disconnect();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.teardown();
    this.list = [];
  }

  /** Plays (or resumes); after the end, starts the reel over. */
  async play(): Promise<void> {
    this.wantPlay = true;
    const engine = this.engine;
    if (!engine) return;
    if (this.ended) {
      this.ended = false;
      engine.seek(0);
    }
    const video = engine.video;
    try {
      await video.play();
    } catch (error) {
      if (engine !== this.engine) return;
      if (error instanceof DOMException && error.name === 'NotAllowedError' && !this.muted) {
        // The browser allows autoplay only without sound: play muted, offer to unmute.
        this.muted = true;
        video.muted = true;
        this.needsUnmute = true;
        await video.play().catch(() => undefined);
      } else if (!(error instanceof DOMException && error.name === 'AbortError')) {
        this.fail(ReelError.from(error, 'media'));
      }
    }
  }

  pause(): void {
    this.wantPlay = false;
    if (!this.engine) return;
    this.engine.video.pause();
    this.paused = true;
    this.watchdog.stop();
  }

  /** Goes to the start of the next clip (the end of the reel after the last). */
  next(): void {
    this.goTo(this.index + 1);
  }

  /** Goes to the start of the previous clip (or of the first). */
  back(): void {
    this.goTo(Math.max(0, this.index - 1), -1);
  }

  /** Goes to the start of clip `index`, playing if the reel was playing. */
  goTo(index: number, direction = 1): void {
    const engine = this.engine;
    if (!engine || !Number.isInteger(index) || index < 0) return;
    let target = index;
    while (this.failed.has(target) && target >= 0 && target < this.list.length) target += direction;
    if (target < 0) target = index + 1;
    const wasEnded = this.ended;
    this.navigating = true;
    try {
      engine.seek(target);
    } finally {
      this.navigating = false;
    }
    if (wasEnded && !this.ended && this.wantPlay) void this.play();
  }

  /** Marks clip `index` watched or not (no event: events report what playback did). */
  setWatched(index: number, watched = true): void {
    if (!this.list[index]) return;
    this.list = this.list.map((clip, i) => (i === index ? { ...clip, watched } : clip));
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('playbackRate')) {
      const rate = this.playbackRate;
      if (typeof rate === 'number' && Number.isFinite(rate) && rate >= 0.25 && rate <= 4) {
        this.rate = rate;
      } else {
        this.rate = 1;
        this.fail(
          new ReelError(
            'bad-request',
            `playback-rate must be a number from 0.25 to 4, not "${this.getAttribute('playback-rate') ?? rate}".`,
          ),
        );
      }
    }
    if (changed.has('start')) {
      const value = String(this.start ?? 'unwatched').trim();
      if (value === 'unwatched' || value === '') this.startAt = 'unwatched';
      else if (/^\d+$/.test(value)) this.startAt = Number(value);
      else {
        this.startAt = 'unwatched';
        this.fail(
          new ReelError(
            'bad-request',
            `start must be "unwatched" or a clip index, not "${value}".`,
          ),
        );
      }
    }
    const transport = this.controller.transport;
    if (
      transport &&
      this.listedFor !== undefined &&
      this.listedFor !== `${this.conversation}\n${this.owner}`
    ) {
      void this.listFromTransport(transport);
    }
    if (
      changed.has('clips') ||
      changed.has('transport') ||
      changed.has('transportClips') ||
      changed.has('childClips') ||
      (this.list.length === 0 && !this.engine)
    ) {
      this.applyList(this.sourceClips());
    }
  }

  private sourceClips(): Clip[] {
    if (this.clips !== undefined && this.clips !== null) return this.validClips(this.clips);
    if (this.transport) return this.transportClips;
    return this.childClips;
  }

  private validClips(value: unknown): Clip[] {
    // Checked once per array given, so a bad entry is reported once, not on every render.
    if (this.validated && value === this.validated.from) return this.validated.clips;
    const clips = this.checkClips(value);
    this.validated = { from: value, clips };
    return clips;
  }

  private checkClips(value: unknown): Clip[] {
    if (!Array.isArray(value)) {
      this.fail(new ReelError('bad-request', 'clips must be an array of {id, src, …} objects.'));
      return [];
    }
    const good: Clip[] = [];
    const bad: number[] = [];
    value.forEach((item: Partial<Clip> | null, i) => {
      const ok =
        item !== null &&
        typeof item === 'object' &&
        typeof item.src === 'string' &&
        item.src !== '' &&
        (item.type === undefined || item.type === 'hls' || item.type === 'file');
      if (ok)
        good.push({
          ...item,
          id: typeof item.id === 'string' && item.id ? item.id : item.src,
        } as Clip);
      else bad.push(i);
    });
    if (bad.length) {
      this.fail(
        new ReelError(
          'bad-request',
          `clips[${bad.join(', ')}] left out: a clip needs a src and a type of "hls" or "file".`,
        ),
      );
    }
    return good;
  }

  private readChildren(): void {
    const children = [...this.querySelectorAll(':scope > reel-clip')];
    const clips: Clip[] = [];
    for (const child of children) {
      const src = child.getAttribute('src');
      if (!src) continue;
      const type = child.getAttribute('type');
      const duration = Number(child.getAttribute('duration'));
      clips.push({
        id: child.getAttribute('clip-id') || child.id || src,
        src,
        type: type === 'file' ? 'file' : 'hls',
        poster: child.getAttribute('poster') ?? undefined,
        owner: child.getAttribute('owner') ?? undefined,
        ownerName: child.getAttribute('owner-name') ?? undefined,
        duration: Number.isFinite(duration) && duration > 0 ? duration : undefined,
        watched: child.hasAttribute('watched'),
      });
    }
    if (
      !sameClips(clips, this.childClips) ||
      clips.some((c, i) => c.watched !== this.childClips[i].watched)
    ) {
      this.childClips = clips;
    }
  }

  /** The source list changed: append to the reel when it only grew, else start over. */
  private applyList(next: Clip[]): void {
    if (!this.isConnected) return;
    const previous = this.list;
    if (sameClips(next, previous)) {
      if (next.some((clip, i) => clip.watched !== previous[i].watched)) {
        this.list = previous.map((clip, i) => ({ ...clip, watched: next[i].watched }));
      }
      return;
    }
    this.list = next.map((clip) => ({ ...clip }));
    const grew = previous.length > 0 && sameClips(next.slice(0, previous.length), previous);
    if (grew && this.engine) {
      this.durations = [
        ...this.durations,
        ...next.slice(previous.length).map((c) => c.duration ?? NaN),
      ];
      if (this.ended) this.note = '';
      void this.engine.append(this.list);
      return;
    }
    void this.restart();
  }

  private teardown(): void {
    this.generation++;
    this.engine?.destroy();
    this.engine = undefined;
    this.watchdog.stop();
    this.timers.clearAll();
    this.pointer = undefined;
    this.held = false;
  }

  private async restart(): Promise<void> {
    this.teardown();
    this.index = -1;
    this.offset = 0;
    this.ended = false;
    this.paused = true;
    this.note = '';
    this.failed = new Set();
    this.durations = this.list.map((clip) => clip.duration ?? NaN);
    if (this.list.length === 0 || !this.isConnected) return;
    await this.updateComplete;
    const videos = [this.videoA.value, this.videoB.value];
    if (!videos[0] || !videos[1] || !this.isConnected) return;
    const { index, offset, playing } = this.startPoint();
    const stitchable = mseSupported() && this.list.every((clip) => (clip.type ?? 'hls') === 'hls');
    const transport = this.controller.transport;
    const options = {
      videos: videos as [HTMLVideoElement, HTMLVideoElement],
      events: this.engineEvents(),
      request: transport?.mediaRequest ? (url: string) => transport.mediaRequest!(url) : undefined,
    };
    const engine = stitchable ? new StitchEngine(options) : new SwapEngine(options);
    this.engine = engine;
    const generation = this.generation;
    await engine.load(this.list, index, offset);
    if (generation !== this.generation) return;
    if (this.autoplay || playing || this.wantPlay) void this.play();
  }

  private startPoint(): { index: number; offset: number; playing: boolean } {
    const resume = this.resume;
    this.resume = undefined;
    if (resume) {
      const index = this.list.findIndex((clip) => clip.id === resume.id);
      if (index >= 0) return { index, offset: resume.offset, playing: resume.playing };
    }
    if (this.startAt === 'unwatched') {
      const index = this.list.findIndex((clip) => !clip.watched);
      return { index: Math.max(0, index), offset: 0, playing: false };
    }
    if (this.startAt >= this.list.length) {
      this.fail(
        new ReelError(
          'bad-request',
          `start="${this.startAt}" is past the last clip (${this.list.length}).`,
        ),
      );
      return { index: 0, offset: 0, playing: false };
    }
    return { index: this.startAt, offset: 0, playing: false };
  }

  private engineEvents(): EngineEvents {
    const generation = this.generation;
    const live = () => generation === this.generation;
    return {
      time: (index, offset) => live() && this.onTime(index, offset),
      duration: (index, seconds) => {
        if (!live() || this.durations[index] === seconds) return;
        const durations = [...this.durations];
        durations[index] = seconds;
        this.durations = durations;
      },
      ended: () => live() && this.onEnded(),
      clipFailed: (index, error, reported) => live() && this.onClipFailed(index, error, reported),
      error: (error) => live() && this.fail(error),
    };
  }

  private onTime(index: number, offset: number): void {
    if (index !== this.index) {
      const previous = this.index;
      if (previous >= 0 && index === previous + 1 && !this.navigating) this.markWatched(previous);
      this.index = index;
      this.offset = offset;
      this.ended = false;
      const clip = this.list[index];
      if (clip) {
        this.announce(index);
        emit(this, 'reel-clip-change', { index, clip });
      }
    } else {
      this.offset = offset;
    }
    const duration = this.durations[index];
    if (duration > 0 && offset >= duration - WATCHED_SLACK && !this.navigating)
      this.markWatched(index);
  }

  private onEnded(): void {
    if (this.ended) return;
    if (this.index >= 0) this.markWatched(this.index);
    this.ended = true;
    this.paused = true;
    this.watchdog.stop();
    // Skipped past the last clip while it played: stop the picture too.
    const video = this.engine?.video;
    if (video && !video.paused && !video.ended) video.pause();
    this.note = this.text.ended;
    this.announcement = this.text.ended;
    emit(this, 'reel-ended', { count: this.list.length - this.failed.size });
  }

  private onClipFailed(index: number, error: ReelError, reported = false): void {
    this.failed = new Set([...this.failed, index]);
    this.note = format(this.text.skipped, { n: index + 1 });
    if (!reported) this.fail(error);
  }

  /** Playback stopped moving although it should not (watchdog.ts): get it going, and say so. */
  private onStall(stall: Stall): void {
    const where = `${this.offset.toFixed(1)} s into clip ${this.index + 1}`;
    if (stall.nearEnd || stall.repeat > 0) {
      // Stuck at a join, on a last segment that never finishes, or still stuck after a nudge.
      this.fail(new ReelError('media', `Playback stalled ${where}; went on to the next clip.`));
      if (stall.nearEnd) this.markWatched(this.index);
      // Skipping a clip stuck mid-way is not watching it.
      this.navigating = true;
      try {
        this.engine?.seek(this.index + 1);
      } finally {
        this.navigating = false;
      }
      return;
    }
    // Stuck with media buffered ahead (WebKit, now and then, before its first frame): moving
    // the clock a hair gets the pipeline going.
    this.fail(new ReelError('media', `Playback stalled ${where}; nudged it on.`));
    this.engine?.nudge();
  }

  private markWatched(index: number): void {
    const clip = this.list[index];
    if (!clip || clip.watched) return;
    const watched = { ...clip, watched: true };
    this.list = this.list.map((c, i) => (i === index ? watched : c));
    emit(this, 'reel-clip-watched', { index, clip: watched });
  }

  private announce(index: number): void {
    const clip = this.list[index];
    const seconds = Math.round(this.durations[index] || clip.duration || 0);
    const values = {
      n: index + 1,
      total: this.list.length,
      owner: clip.ownerName ?? clip.owner ?? '',
      seconds,
    };
    this.announcement = format(
      clip.ownerName || clip.owner ? this.text.announce : this.text.announceNoOwner,
      values,
    );
  }

  private fail(error: ReelError): void {
    emit(this, 'reel-error', { error });
  }

  // Transport mode ------------------------------------------------------------------------

  private async listFromTransport(transport: ReelTransport): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const { conversation, owner } = this;
    const key = `${conversation}\n${owner}`;
    if (key !== this.listedFor) {
      this.transportClips = [];
      this.pendingVideos.clear();
    }
    this.listedFor = key;
    if (!conversation || !owner) {
      this.fail(
        new ReelError(
          'bad-request',
          'reel-player needs conversation and owner attributes to list clips from a transport.',
        ),
      );
      return;
    }
    const generation = ++this.listGeneration;
    try {
      this.unsubscribe = transport.subscribe(conversation, (event) => {
        if (generation === this.listGeneration) this.onTransportEvent(transport, event);
      });
      const videos = await transport.listVideos(conversation, owner);
      if (generation !== this.listGeneration) return;
      const listed = videos.map(toClip).filter((clip): clip is Clip => !!clip);
      const extra = this.transportClips.filter((clip) => !listed.some((c) => c.id === clip.id));
      this.transportClips = [...listed, ...extra];
    } catch (error) {
      if (generation === this.listGeneration) this.fail(ReelError.from(error, 'network'));
    }
  }

  private onTransportEvent(transport: ReelTransport, event: ReelEvent): void {
    const { conversation, owner } = this;
    if (!conversation || !owner) return;
    if (event.type === 'message.created' && event.message.author === owner && event.message.video) {
      const id = event.message.video;
      this.pendingVideos.add(id);
      transport.getVideo(conversation, id).then(
        (video) => this.addTransportVideo(video),
        (error: unknown) => this.fail(ReelError.from(error, 'network')),
      );
    } else if (
      event.type === 'video.updated' &&
      event.video.owner === owner &&
      this.pendingVideos.has(event.video.id)
    ) {
      this.addTransportVideo(event.video);
    }
  }

  private addTransportVideo(video: Video): void {
    const clip = toClip(video);
    if (!clip || this.transportClips.some((c) => c.id === clip.id)) return;
    this.pendingVideos.delete(video.id);
    this.transportClips = [...this.transportClips, clip];
  }

  // Controls ------------------------------------------------------------------------------

  private togglePlay(): void {
    if (this.paused || this.ended) void this.play();
    else this.pause();
  }

  private toggleMute(): void {
    this.muted = !this.muted;
    this.needsUnmute = false;
  }

  private unmute(): void {
    this.muted = false;
    this.needsUnmute = false;
    if (this.paused) void this.play();
  }

  private cycleRate(): void {
    const at = RATES.indexOf(this.rate);
    this.playbackRate = RATES[(at + 1) % RATES.length];
  }

  private onKeyDown(event: KeyboardEvent): void {
    const onButton = (event.composedPath()[0] as Element)?.localName === 'button';
    switch (event.key) {
      case 'ArrowRight':
        this.next();
        break;
      case 'ArrowLeft':
        this.back();
        break;
      case ' ':
      case 'k':
        if (onButton && event.key === ' ') return;
        this.togglePlay();
        break;
      case 'm':
        this.toggleMute();
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  private onPointerDown(event: PointerEvent): void {
    if (event.button !== 0 || !event.isPrimary) return;
    this.timers.clear(this.pointer?.hold);
    const pointer = { x: event.clientX, y: event.clientY, held: false, hold: 0 };
    pointer.hold = this.timers.set(() => {
      // Press and hold: paused while held.
      if (this.paused) return;
      pointer.held = true;
      this.held = true;
      this.engine?.video.pause();
    }, HOLD_MS);
    this.pointer = pointer;
  }

  private onPointerUp(event: PointerEvent): void {
    const pointer = this.pointer;
    if (!pointer) return;
    this.pointer = undefined;
    this.timers.clear(pointer.hold);
    if (pointer.held) {
      this.held = false;
      void this.play();
      return;
    }
    const dx = event.clientX - pointer.x;
    const dy = event.clientY - pointer.y;
    if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(dy)) {
      if (dx < 0) this.next();
      else this.back();
      return;
    }
    const stage = event.currentTarget as HTMLElement;
    const { left, width } = stage.getBoundingClientRect();
    if (event.clientX - left < width / 3) this.back();
    else this.next();
  }

  private onPointerCancel(): void {
    const pointer = this.pointer;
    this.pointer = undefined;
    this.timers.clear(pointer?.hold);
    if (pointer?.held) {
      this.held = false;
      void this.play();
    }
  }

  private onMediaEvent(event: Event): void {
    if (event.currentTarget !== this.engine?.video) return;
    const video = event.currentTarget as HTMLVideoElement;
    switch (event.type) {
      case 'play':
      case 'playing':
        this.paused = false;
        this.ended = false;
        if (this.note === this.text.ended) this.note = '';
        this.watchdog.start();
        break;
      case 'pause':
        // The swap engine pauses the old video as it changes clips: that is no pause.
        if (video.ended) return;
        this.paused = true;
        if (!this.held) this.watchdog.stop();
        break;
    }
  }

  protected override render() {
    const s = this.text;
    const total = this.list.length;
    const started = this.index >= 0;
    const showPlay = !this.needsUnmute && total > 0 && (this.paused || this.ended) && !this.held;
    const note = total === 0 ? s.empty : this.note;
    return html`
      <div
        part="base"
        class="base"
        role="region"
        aria-label=${s.label}
        tabindex="0"
        @keydown=${this.onKeyDown}
      >
        <div part="progress" class="progress">
          ${this.list.map((clip, i) => {
            const duration = this.durations[i];
            const value =
              i < this.index || (i === this.index && this.ended)
                ? 100
                : i === this.index && duration > 0
                  ? Math.min(100, Math.round((this.offset / duration) * 100))
                  : 0;
            const parts = [
              'segment',
              clip.watched ? 'segment-watched' : '',
              this.failed.has(i) ? 'segment-failed' : '',
              i === this.index ? 'segment-current' : '',
            ].join(' ');
            return html`<div
              part=${parts}
              class="segment"
              role="progressbar"
              aria-label=${format(s.clipProgress, { n: i + 1, total })}
              aria-valuemin="0"
              aria-valuemax="100"
              aria-valuenow=${value}
              ?data-failed=${this.failed.has(i)}
            >
              <div part="segment-fill" class="fill" style="width: ${value}%"></div>
            </div>`;
          })}
        </div>
        <div
          part="stage"
          class="stage"
          @pointerdown=${this.onPointerDown}
          @pointerup=${this.onPointerUp}
          @pointercancel=${this.onPointerCancel}
          @contextmenu=${(e: Event) => e.preventDefault()}
        >
          ${[this.videoA, this.videoB].map(
            (videoRef) =>
              html`<video
                ${ref(videoRef)}
                part="video"
                class="video"
                playsinline
                disablepictureinpicture
                .muted=${this.muted}
                .defaultPlaybackRate=${this.rate}
                .playbackRate=${this.rate}
                @play=${this.onMediaEvent}
                @playing=${this.onMediaEvent}
                @pause=${this.onMediaEvent}
              ></video>`,
          )}
        </div>
        ${
          this.needsUnmute
            ? html`<button
                part="overlay-button unmute-button"
                class="overlay"
                @click=${this.unmute}
              >
                ${iconMuted} <span>${s.tapToUnmute}</span>
              </button>`
            : showPlay
              ? html`<button
                  part="overlay-button"
                  class="overlay"
                  aria-label=${s.play}
                  @click=${this.togglePlay}
                >
                  ${iconPlay}
                </button>`
              : nothing
        }
        <div part="controls" class="controls">
          <button
            part="button back-button"
            aria-label=${s.back}
            ?disabled=${total === 0}
            @click=${this.back}
          >
            ${iconBack}
          </button>
          <button
            part="button play-button"
            aria-label=${showPlay ? s.play : s.pause}
            ?disabled=${total === 0}
            @click=${this.togglePlay}
          >
            ${showPlay ? iconPlay : iconPause}
          </button>
          <button
            part="button mute-button"
            aria-label=${this.muted ? s.unmute : s.mute}
            aria-pressed=${this.muted ? 'true' : 'false'}
            @click=${this.toggleMute}
          >
            ${this.muted ? iconMuted : iconSound}
          </button>
          <button
            part="button rate-button"
            aria-label=${format(s.speed, { rate: format(s.rate, { rate: this.rate }) })}
            @click=${this.cycleRate}
          >
            <span part="icon">${format(s.rate, { rate: this.rate })}</span>
          </button>
          <button
            part="button next-button"
            aria-label=${s.next}
            ?disabled=${total === 0}
            @click=${this.next}
          >
            ${iconNext}
          </button>
        </div>
        ${note ? html`<p part="note" class="note" ?data-error=${this.failed.size > 0 && note !== s.ended}>${note}</p>` : nothing}
        <div part="live-region" class="sr-only" aria-live="polite">
          ${started ? this.announcement : ''}
        </div>
      </div>
    `;
  }
}

function sameClips(a: readonly Clip[], b: readonly Clip[]): boolean {
  return (
    a.length === b.length && a.every((clip, i) => clip.id === b[i].id && clip.src === b[i].src)
  );
}

function toClip(video: Video): Clip | undefined {
  if (video.state !== 'ready' || !video.playlist) return undefined;
  return {
    id: video.id,
    src: video.playlist,
    type: video.mediaType ?? 'hls',
    poster: video.poster,
    owner: video.owner,
    duration: video.duration,
  };
}

const icon = (path: string) =>
  html`<svg part="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <path d=${path}></path>
  </svg>`;
const iconPlay = icon('M8 5v14l11-7z');
const iconPause = icon('M6 5h4v14H6zm8 0h4v14h-4z');
const iconBack = icon('M6 6h2v12H6zm3.5 6 8.5 6V6z');
const iconNext = icon('M16 6h2v12h-2zM6 18l8.5-6L6 6z');
const iconSound = icon('M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z');
const iconMuted = icon(
  'M16.5 12A4.5 4.5 0 0 0 14 8v2.2l2.5 2.5v-.7zM19 12c0 .9-.2 1.8-.5 2.6l1.5 1.5A8.8 8.8 0 0 0 21 12a9 9 0 0 0-7-8.8v2.1A7 7 0 0 1 19 12zM4.3 3 3 4.3 7.7 9H3v6h4l5 5v-6.7l4.3 4.3c-.7.5-1.4.9-2.3 1.2v2.1a9 9 0 0 0 3.7-1.8l2 2 1.3-1.3-9-9L4.3 3zM12 4 9.9 6.1 12 8.2V4z',
);
