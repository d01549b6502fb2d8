import { html, LitElement, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { emit, type Clip } from '../internal/events.js';
import { Localizer } from '../internal/i18n.js';
import { themeStyles } from '../internal/theme.js';
import { ConnectedElement } from '../internal/connected-element.js';
import { ReelError } from '../transport/errors.js';
import { checkClips, readClipChildren, sameClips } from './clip-list.js';
import { iconPlay } from './icons.js';
import type { TransportClips } from './player-transport.js';
import styles from './reel-player.styles.js';
import { playerStrings, type PlayerStrings, type UpFrontPlayerStrings } from './strings.js';
import { ReelState } from './reel-state.js';
import type { Sequencer } from './sequencer.js';

/** The playback (engines, sequencing, watchdog, controls), loaded once, as a player connects. */
let playback: Promise<typeof import('./sequencer.js')> | undefined;
function loadPlayback(): Promise<typeof import('./sequencer.js')> {
  // A failed load is tried again next time.
  playback ??= import('./sequencer.js').catch((error: unknown) => {
    playback = undefined;
    throw error;
  });
  return playback;
}

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
 * @csspart button - Every control button (also `back-button`, `play-button`, `mute-button`, `rate-button`, `next-button`, `retry-button`).
 * @csspart icon - The icon inside a button.
 * @csspart overlay-button - The large play / unmute button over the picture.
 * @csspart failure - The panel shown when playback failed: what happened, and Retry (`role="alert"`).
 * @csspart failure-message - The failure panel's sentence.
 * @csspart failure-detail - The Content-Security-Policy line the page lacks, when that is what failed.
 * @csspart note - The visible note about a clip that was skipped, the end of the reel, or no clips.
 * @csspart live-region - The visually hidden polite announcement of the current clip.
 * @csspart caption - Who recorded the clip on screen and how long ago, for clips with `createdAt` (`caption-name`: the name).
 * @csspart live - A clip still recorded: its badge and line, under the progress.
 * @csspart live-badge - The "Live" badge of a clip still recorded.
 * @csspart live-note - "{name} is still recording", once playback has caught up with the take.
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
 * @fires reel-error - A bad attribute, a clip that cannot play (skipped), or a transport failure (`{error}`). A reel that cannot play also shows a failure panel with Retry.
 */
export class ReelPlayer extends ConnectedElement {
  static override styles = [themeStyles, styles];
  /** `player.focus()` focuses the reel itself, which takes the keyboard shortcuts. */
  static override shadowRootOptions: ShadowRootInit = {
    ...LitElement.shadowRootOptions,
    delegatesFocus: true,
  };

  // Lit's static form, not decorators: each decorated field costs a call to TypeScript's
  // decorator helper, which esbuild puts in a chunk of its own up front (~0.3 KB gzip).
  static override properties: PropertyDeclarations = {
    owner: {},
    clips: { attribute: false },
    strings: { attribute: false },
    autoplay: { type: Boolean },
    muted: { type: Boolean, reflect: true },
    playbackRate: { attribute: 'playback-rate', type: Number },
    start: {},
    transportClips: { state: true, attribute: false },
    childClips: { state: true, attribute: false },
  };

  /** Whose clips play (transport mode): a user id. */
  owner?: string;
  /** The clips, when the host lists them itself (takes precedence over children and transport). */
  clips?: Clip[];
  /** Replaces any of the texts (see `playerStrings`). */
  strings?: Partial<PlayerStrings>;
  /** Starts playing as soon as the first clip can (muted if the browser requires it). */
  autoplay = false;
  /** Sound off. */
  muted = false;
  /** Playback speed, 0.25 to 4. */
  playbackRate = 1;
  /** Where the reel starts: `unwatched` (the first clip not yet watched) or a clip index. */
  start = 'unwatched';

  private transportClips: Clip[] = [];
  private childClips: Clip[] = [];

  /** Where the reel is (rendered here, moved on by the sequencer). */
  private readonly reel = new ReelState();
  /** The playback (engines, sequencing, watchdog, controls), loaded as the element connects. */
  private sequencer?: Sequencer;
  /** The transport mode, loaded once the element is given a transport. */
  private fromTransport?: TransportClips;
  private loadingTransport = false;
  private readonly childObserver = new MutationObserver(() => this.readChildren());
  private validated?: { from: unknown; clips: Clip[] };

  /** Which engine plays the reel: `stitch` (one hls.js, gapless) or `swap` (two videos). */
  get mode(): 'stitch' | 'swap' | undefined {
    return this.reel.engine?.kind;
  }

  /** Where playback is: the clip's index and the seconds into it. */
  get position(): { index: number; offset: number } {
    return { index: this.reel.index, offset: this.reel.offset };
  }

  /** The clips as the player has them now (with their `watched` state). */
  get playlist(): readonly Clip[] {
    return this.reel.list;
  }

  /** The texts in the element's language (`lang`, inherited), with `strings` on top. */
  private readonly i18n = new Localizer(this, 'player', playerStrings, () => this.strings);
  private readonly format = (template: string, values: Record<string, string | number>) =>
    this.i18n.format(template, values);

  private get text(): UpFrontPlayerStrings {
    return this.i18n.table;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.childObserver.observe(this, { childList: true, subtree: true, attributes: true });
    this.readChildren();
    this.requestUpdate();
    // The controls come with the playback: it loads now, not when the clips are known (a
    // failed load is reported by the reel's start, which tries again).
    this.loadSequencer().then(
      () => this.requestUpdate(),
      () => undefined,
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    const clip = this.reel.list[this.reel.index];
    if (clip && !this.reel.ended)
      this.reel.resume = { id: clip.id, offset: this.reel.offset, playing: !this.reel.paused };
    this.childObserver.disconnect();
    this.teardown();
    this.reel.list = [];
    this.requestUpdate();
  }

  /** Plays (or resumes); after the end, starts the reel over. */
  async play(): Promise<void> {
    this.reel.wantPlay = true;
    await this.sequencer?.play();
  }

  pause(): void {
    this.reel.wantPlay = false;
    this.sequencer?.pause();
  }

  /** Goes to the start of the next clip (the end of the reel after the last). */
  next(): void {
    this.goTo(this.reel.index + 1);
  }

  /** Goes to the start of the previous clip (or of the first). */
  back(): void {
    this.goTo(Math.max(0, this.reel.index - 1), -1);
  }

  /** Goes to the start of clip `index`, playing if the reel was playing. */
  goTo(index: number, direction = 1): void {
    this.sequencer?.goTo(index, direction);
  }

  /** Marks clip `index` watched or not (no event: events report what playback did). */
  setWatched(index: number, watched = true): void {
    if (!this.reel.list[index]) return;
    this.reel.list = this.reel.list.map((clip, i) => (i === index ? { ...clip, watched } : clip));
    this.requestUpdate();
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('playbackRate')) {
      const rate = this.playbackRate;
      if (typeof rate === 'number' && Number.isFinite(rate) && rate >= 0.25 && rate <= 4) {
        this.reel.rate = rate;
      } else {
        this.reel.rate = 1;
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
      if (value === 'unwatched' || value === '') this.reel.startAt = 'unwatched';
      else if (/^\d+$/.test(value)) this.reel.startAt = Number(value);
      else {
        this.reel.startAt = 'unwatched';
        this.fail(
          new ReelError(
            'bad-request',
            `start must be "unwatched" or a clip index, not "${value}".`,
          ),
        );
      }
    }
    if (this.transport && !this.loadingTransport) this.loadTransportMode();
    this.fromTransport?.refresh();
    if (
      changed.has('clips') ||
      changed.has('transport') ||
      changed.has('transportClips') ||
      changed.has('childClips') ||
      (this.reel.list.length === 0 && !this.reel.engine)
    ) {
      this.applyList(this.sourceClips());
    }
  }

  private loadTransportMode(): void {
    this.loadingTransport = true;
    import('./player-transport.js').then(
      ({ TransportClips }) => {
        this.fromTransport = new TransportClips(this, {
          clips: () => this.transportClips,
          setClips: (clips) => (this.transportClips = clips),
          fail: (error) => this.fail(error),
        });
      },
      (error: unknown) => {
        this.loadingTransport = false;
        this.fail(new ReelError('network', 'The player could not load.', { cause: error }));
      },
    );
  }

  private sourceClips(): Clip[] {
    if (this.clips !== undefined && this.clips !== null) return this.validClips(this.clips);
    if (this.transport) return this.transportClips;
    return this.childClips;
  }

  private validClips(value: unknown): Clip[] {
    // Checked once per array given, so a bad entry is reported once, not on every render.
    if (this.validated && value === this.validated.from) return this.validated.clips;
    const { clips, error } = checkClips(value);
    if (error) this.fail(error);
    this.validated = { from: value, clips };
    return clips;
  }

  private readChildren(): void {
    const clips = readClipChildren(this);
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
    const previous = this.reel.list;
    if (sameClips(next, previous)) {
      if (next.some((clip, i) => clip.watched !== previous[i].watched))
        this.reel.list = previous.map((clip, i) => ({ ...clip, watched: next[i].watched }));
      return;
    }
    const restart = () => void this.restart();
    // Playing: the sequencer keeps the reel's place (clips appended or left out).
    if (this.reel.engine && this.sequencer) {
      const grew = previous.length > 0 && sameClips(next.slice(0, previous.length), previous);
      this.sequencer.listChanged(next, grew, restart);
      return;
    }
    this.reel.list = next.map((clip) => ({ ...clip }));
    restart();
  }

  private teardown(): void {
    this.reel.generation++;
    this.sequencer?.teardown();
  }
  /** A new list: back to its start point, on a new engine (loading the playback first). */
  private async restart(): Promise<void> {
    this.teardown();
    const { reel } = this;
    reel.index = -1;
    reel.offset = 0;
    reel.ended = false;
    reel.paused = true;
    reel.note = '';
    reel.failed = new Set();
    reel.durations = reel.list.map((clip) => clip.duration ?? NaN);
    this.requestUpdate();
    if (reel.list.length === 0 || !this.isConnected) return;
    await this.updateComplete;
    const videos = [...this.renderRoot.querySelectorAll<HTMLVideoElement>('video.video')];
    if (!videos[0] || !videos[1] || !this.isConnected) return;
    const generation = reel.generation;
    let sequencer: Sequencer;
    try {
      sequencer = await this.loadSequencer();
    } catch (error) {
      if (generation === reel.generation)
        this.fail(new ReelError('network', 'The player could not load.', { cause: error }));
      return;
    }
    if (generation !== reel.generation || !this.isConnected) return;
    await sequencer.start(
      videos as [HTMLVideoElement, HTMLVideoElement],
      this.fromTransport?.transport,
    );
  }

  private async loadSequencer(): Promise<Sequencer> {
    const { Sequencer } = await loadPlayback();
    return (this.sequencer ??= new Sequencer(this, this.reel, {
      text: () => this.text,
      format: this.format,
      locale: () => this.i18n.locale,
      fail: (error) => this.fail(error),
      restart: () => void this.restart(),
      emit: (name, detail) => emit(this, name, detail),
    }));
  }

  private fail(error: ReelError): void {
    emit(this, 'reel-error', { error });
  }

  private onMediaEvent(event: Event): void {
    this.sequencer?.onMediaEvent(event);
  }

  /** Taps, swipes, press and hold: the playback's (before it is in, they would do nothing). */
  private readonly onPointer = (event: PointerEvent): void =>
    this.sequencer?.gestures.handle(event);

  /** The keyboard shortcuts: the controls' (loaded with the playback). */
  private readonly onKeyDown = (event: KeyboardEvent): void =>
    this.sequencer?.controls.onKeyDown(event);

  protected override render() {
    const s = this.text;
    const total = this.reel.list.length;
    const started = this.reel.index >= 0;
    const showPlay =
      !this.reel.needsUnmute &&
      !this.reel.failure &&
      total > 0 &&
      (this.reel.paused || this.reel.ended) &&
      !this.reel.held;
    const note = total === 0 ? s.empty : this.reel.note;
    // Up front: the picture and the play button. The progress, the row of buttons and the
    // unmute button are the controls', loaded with the playback a few ms later.
    const controls = this.sequencer?.controls;
    return html`
      <div
        part="base"
        class="base"
        role="region"
        aria-label=${s.label}
        lang=${this.i18n.locale}
        dir=${this.i18n.dir}
        tabindex="0"
        @keydown=${this.onKeyDown}
      >
        ${controls?.renderProgress()}
        <div
          part="stage"
          class="stage"
          @pointerdown=${this.onPointer}
          @pointerup=${this.onPointer}
          @pointercancel=${this.onPointer}
          @contextmenu=${(e: Event) => e.preventDefault()}
        >
          ${[0, 1].map(
            () =>
              html`<video
                part="video"
                class="video"
                playsinline
                disablepictureinpicture
                .muted=${this.muted}
                .defaultPlaybackRate=${this.reel.rate}
                .playbackRate=${this.reel.rate}
                @play=${this.onMediaEvent}
                @playing=${this.onMediaEvent}
                @pause=${this.onMediaEvent}
              ></video>`,
          )}
        </div>
        ${
          showPlay
            ? html`<button
                part="overlay-button"
                class="overlay"
                aria-label=${s.play}
                @click=${() => void this.play()}
              >
                ${iconPlay}
              </button>`
            : controls?.renderOverlay()
        }
        ${controls?.renderRow(showPlay)}
        ${note ? html`<p part="note" class="note" ?data-error=${this.reel.failed.size > 0 && note !== s.ended}>${note}</p>` : nothing}
        <div part="live-region" class="sr-only" aria-live="polite">
          ${started ? this.reel.announcement : ''}
        </div>
      </div>
    `;
  }
}
