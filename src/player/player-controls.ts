import { html, nothing, type TemplateResult } from 'lit';
import { adoptLazyStyles } from '../internal/lazy-styles.js';
import type { ReelPlayer } from './reel-player.js';
import type { ReelState } from './reel-state.js';
import type { PlayerStrings } from './strings.js';
import controlsStyles from './player-controls.styles.js';
import { icon, iconPlay } from './icons.js';
import { styleProps } from '../internal/style-props.js';

const RATES = [1, 1.5, 2];
/** The speed the person last chose, kept for every reel on the site (localStorage). */
const RATE_KEY = 'reelchat:playback-rate';

/** What the controls need of `<reel-player>` beyond its public side. */
export interface ControlsHooks {
  /** The texts, in the element's language. */
  text(): PlayerStrings;
  /** Fills a text's `{placeholders}` (in the element's language). */
  format(template: string, values: Record<string, string | number>): string;
  /** The element's locale (relative times). */
  locale(): string;
  /** The failure panel (playback-failure.ts), when playback failed. */
  failure(): TemplateResult | typeof nothing;
  /** The clip playing is still recorded: `edge` says so once playback caught up with it. */
  live(): { edge: string } | undefined;
}

/**
 * `<reel-player>`'s controls, loaded with the playback (the sequencer owns them): the
 * per-clip progress, the row of buttons, the unmute button and the keyboard shortcuts, with
 * their styles (added to the shadow root as a second stylesheet). Up front the element shows
 * only the picture and its play button: before playback is in, none of these could act.
 */
export class PlayerControls {
  constructor(
    private readonly host: ReelPlayer,
    private readonly reel: ReelState,
    private readonly hooks: ControlsHooks,
  ) {
    adoptLazyStyles(host.shadowRoot, controlsStyles);
    // The speed the person chose last time, unless the host set one.
    const saved = Number(readRate());
    if (RATES.includes(saved) && !host.hasAttribute('playback-rate') && host.playbackRate === 1)
      host.playbackRate = saved;
  }

  /** The keyboard shortcuts on the focused reel: arrows, space or k, m. */
  onKeyDown(event: KeyboardEvent): void {
    const onButton = (event.composedPath()[0] as Element)?.localName === 'button';
    switch (event.key) {
      case 'ArrowRight':
        this.host.next();
        break;
      case 'ArrowLeft':
        this.host.back();
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

  private togglePlay(): void {
    if (this.reel.paused || this.reel.ended) void this.host.play();
    else this.host.pause();
  }

  private toggleMute(): void {
    this.host.muted = !this.host.muted;
    this.reel.needsUnmute = false;
    this.host.requestUpdate();
  }

  private unmute(): void {
    this.host.muted = false;
    this.reel.needsUnmute = false;
    this.host.requestUpdate();
    if (this.reel.paused) void this.host.play();
  }

  private cycleRate(): void {
    const at = RATES.indexOf(this.reel.rate);
    const rate = RATES[(at + 1) % RATES.length];
    this.host.playbackRate = rate;
    try {
      localStorage.setItem(RATE_KEY, String(rate));
    } catch {
      // No storage (a sandboxed frame, storage off): the speed holds for this reel only.
    }
  }

  /**
   * Who recorded the clip on screen and how long ago ("Bob · 2 minutes ago"), over the picture
   * under the progress, as Stories do: for clips that say when they were recorded (a reel's;
   * a chat's inline player sits in a bubble that says it already). A live clip has its badge.
   */
  private renderCaption(): TemplateResult | typeof nothing {
    const clip = this.reel.list[Math.max(0, this.reel.index)];
    if (!clip?.createdAt || this.hooks.live() || this.reel.note) return nothing;
    const when = Date.parse(clip.createdAt);
    if (Number.isNaN(when)) return nothing;
    const name = clip.ownerName ?? clip.owner;
    return html`<p part="caption" class="caption">
      ${name ? html`<span part="caption-name" class="name">${name}</span> · ` : nothing}<time
        datetime=${clip.createdAt}
        >${ago(Date.now() - when, this.hooks.locale())}</time
      >
    </p>`;
  }

  /**
   * A clip still recorded: the Live badge and, once playback caught up with the recording,
   * "{name} is still recording" (the sequencer announces it once).
   */
  private renderLive(): TemplateResult | typeof nothing {
    const live = this.hooks.live();
    if (!live) return nothing;
    return html`<p part="live" class="live">
      <span part="live-badge" class="badge">${this.hooks.text().live}</span>
      ${live.edge ? html`<span part="live-note">${live.edge}</span>` : nothing}
    </p>`;
  }

  /** One segment per clip: full when played, filling while it plays; the Live badge below. */
  renderProgress(): TemplateResult {
    const { reel } = this;
    const total = reel.list.length;
    // Media stay left to right in any language (they follow time, as players everywhere do).
    return html`${this.renderLive()} ${this.renderCaption()}
      <div part="progress" class="progress" dir="ltr">
        ${reel.list.map((clip, i) => {
          const duration = reel.durations[i];
          const value =
            i < reel.index || (i === reel.index && reel.ended)
              ? 100
              : i === reel.index && duration > 0
                ? Math.min(100, Math.round((reel.offset / duration) * 100))
                : 0;
          const failed = reel.failed.has(i);
          const parts = [
            'segment',
            clip.watched ? 'segment-watched' : '',
            failed ? 'segment-failed' : '',
            i === reel.index ? 'segment-current' : '',
          ].join(' ');
          return html`<div
            part=${parts}
            class="segment"
            role="progressbar"
            aria-label=${this.hooks.format(this.hooks.text().clipProgress, { n: i + 1, total })}
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=${value}
            ?data-failed=${failed}
          >
            <div part="segment-fill" class="fill" ${styleProps({ width: `${value}%` })}></div>
          </div>`;
        })}
      </div>`;
  }

  /**
   * What goes over the picture when not the play button: the failure panel when playback
   * failed, the unmute button when autoplay had to mute.
   */
  renderOverlay(): TemplateResult | typeof nothing {
    if (this.reel.failure) return this.hooks.failure();
    if (!this.reel.needsUnmute) return nothing;
    return html`<button
      part="overlay-button unmute-button"
      class="overlay"
      @click=${() => this.unmute()}
    >
      ${iconMuted} <span>${this.hooks.text().tapToUnmute}</span>
    </button>`;
  }

  /** The row of buttons: back, play / pause, mute, speed, next. */
  renderRow(playShown: boolean): TemplateResult {
    const s = this.hooks.text();
    // Under the failure panel the reel is stopped: the row says Play, as it would paused.
    const showPlay = playShown || !!this.reel.failure;
    const { format } = this.hooks;
    const empty = this.reel.list.length === 0;
    const { muted } = this.host;
    const rateText = format(s.rate, { rate: this.reel.rate });
    return html`<div part="controls" class="controls" dir="ltr">
      <button
        part="button back-button"
        aria-label=${s.back}
        ?disabled=${empty}
        @click=${() => this.host.back()}
      >
        ${iconBack}
      </button>
      <button
        part="button play-button"
        aria-label=${showPlay ? s.play : s.pause}
        ?disabled=${empty}
        @click=${() => this.togglePlay()}
      >
        ${showPlay ? iconPlay : iconPause}
      </button>
      <button
        part="button mute-button"
        aria-label=${muted ? s.unmute : s.mute}
        aria-pressed=${muted ? 'true' : 'false'}
        @click=${() => this.toggleMute()}
      >
        ${muted ? iconMuted : iconSound}
      </button>
      <button
        part="button rate-button"
        aria-label=${format(s.speed, { rate: rateText })}
        @click=${() => this.cycleRate()}
      >
        <span part="icon">${rateText}</span>
      </button>
      <button
        part="button next-button"
        aria-label=${s.next}
        ?disabled=${empty}
        @click=${() => this.host.next()}
      >
        ${iconNext}
      </button>
    </div>`;
  }
}

function readRate(): string | null {
  try {
    return localStorage.getItem(RATE_KEY);
  } catch {
    return null;
  }
}

/** `ms` ago in words, in the locale ("2 minutes ago", "yesterday"), in the largest whole unit. */
function ago(ms: number, locale: string): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (seconds >= size) return format.format(-Math.floor(seconds / size), unit);
  }
  return format.format(-seconds, 'second');
}

const iconPause = icon('M6 5h4v14H6zm8 0h4v14h-4z');
const iconBack = icon('M6 6h2v12H6zm3.5 6 8.5 6V6z');
const iconNext = icon('M16 6h2v12h-2zM6 18l8.5-6L6 6z');
const iconSound = icon('M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z');
const iconMuted = icon(
  'M16.5 12A4.5 4.5 0 0 0 14 8v2.2l2.5 2.5v-.7zM19 12c0 .9-.2 1.8-.5 2.6l1.5 1.5A8.8 8.8 0 0 0 21 12a9 9 0 0 0-7-8.8v2.1A7 7 0 0 1 19 12zM4.3 3 3 4.3 7.7 9H3v6h4l5 5v-6.7l4.3 4.3c-.7.5-1.4.9-2.3 1.2v2.1a9 9 0 0 0 3.7-1.8l2 2 1.3-1.3-9-9L4.3 3zM12 4 9.9 6.1 12 8.2V4z',
);
