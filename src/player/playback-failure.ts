import { html, nothing, type TemplateResult } from 'lit';
import { ReelError } from '../transport/errors.js';
import { originOf, watchPolicy, type Blocked } from './csp-watch.js';
import { failureStrings } from './failure-strings.js';
import type { ReelPlayer } from './reel-player.js';
import type { ReelState } from './reel-state.js';
import type { PlayerStrings, UpFrontPlayerStrings } from './strings.js';

/** Why playback stopped, as the failure panel says it. */
export interface Failure {
  error: ReelError;
  /** Set when the page's Content-Security-Policy refused it: the line it lacks. */
  blocked?: Blocked;
}

export interface FailureHooks {
  text(): PlayerStrings;
  format(template: string, values: Record<string, string | number>): string;
  /** Plays the reel again from `index` (a new engine). */
  retry(index: number): void;
  /** Stops the picture (the policy refused what it needs). */
  stop(): void;
  changed(): void;
}

const full = new WeakMap<object, PlayerStrings>();
/**
 * The element's texts (English under its language's table under the host's `strings`) with
 * the failure panel's English under them: the element carries those only from here on.
 */
export function withFailureStrings(table: UpFrontPlayerStrings): PlayerStrings {
  let merged = full.get(table);
  if (!merged) full.set(table, (merged = { ...failureStrings, ...table } as PlayerStrings));
  return merged;
}

/**
 * A failed playback, shown to the person: when the reel ends on clips that would not play,
 * or the page's policy blocks what the player needs, a panel over the picture says what
 * happened in plain words, with a Retry button (which plays again from the first clip that
 * failed). Part of the playback (loaded with it); the sequencer feeds it.
 */
export class PlaybackFailure {
  private lastError?: ReelError;
  private unwatch?: () => void;

  constructor(
    private readonly host: ReelPlayer,
    private readonly reel: ReelState,
    private readonly hooks: FailureHooks,
  ) {}

  /** Listens for the page's policy refusing the player something (while it is on the page). */
  watch(): void {
    this.unwatch ??= watchPolicy({
      owns: (event, blocked) => this.owns(event, blocked),
      blocked: (blocked) => this.onBlocked(blocked),
    });
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** A new reel: nothing has failed yet. */
  reset(): void {
    this.lastError = undefined;
    this.reel.failure = undefined;
  }

  clipFailed(error: ReelError): void {
    this.lastError = error;
  }

  /**
   * The reel ended. True (and the panel shows) when it ended on clips that failed: none
   * played after the last failure, so the person is left with nothing but a failure.
   */
  ended(): boolean {
    const { reel } = this;
    const failedAhead = [...reel.failed].some((index) => index >= reel.index);
    if (!failedAhead || this.reel.failure) return !!this.reel.failure;
    this.reel.failure = {
      error: this.lastError ?? new ReelError('media', 'The reel could not be played.'),
    };
    return true;
  }

  private owns(event: SecurityPolicyViolationEvent, blocked: Blocked): boolean {
    if (!this.host.isConnected) return false;
    // Media and images are refused at the element (the path crosses the shadow root).
    if (event.composedPath().includes(this.host)) return true;
    // MSE's `blob:` source is refused at the document: every player playing through MSE is
    // refused alike by the one policy.
    if (blocked.directive === 'media-src' && blocked.missing === 'blob:') return !!this.reel.engine;
    if (blocked.directive !== 'connect-src' && blocked.directive !== 'media-src') return false;
    const origins = new Set(
      [...this.reel.list.map((clip) => clip.src), this.host.getAttribute('endpoint')].map(originOf),
    );
    return origins.has(originOf(event.blockedURI));
  }

  private onBlocked(blocked: Blocked): void {
    // Only what stops the picture: a poster refused (img-src) leaves the clip playable.
    if (blocked.directive === 'img-src' || this.reel.failure?.blocked) return;
    this.reel.failure = {
      error: new ReelError(
        'forbidden',
        `The page's Content-Security-Policy lacks ${blocked.line}.`,
      ),
      blocked,
    };
    this.hooks.stop();
    this.hooks.changed();
  }

  private retry(): void {
    const { reel } = this;
    const first = [...reel.failed].filter((index) => index >= reel.index).sort((a, b) => a - b)[0];
    this.reset();
    this.hooks.retry(first ?? Math.max(0, reel.index));
  }

  /** The panel over the picture: what happened, and Retry. */
  render(): TemplateResult | typeof nothing {
    const failure = this.reel.failure;
    if (!failure) return nothing;
    const s = this.hooks.text();
    const { code } = failure.error;
    const message = failure.blocked
      ? s.failedBlocked
      : code === 'not-found'
        ? s.failedNotFound
        : code === 'media' || code === 'unsupported'
          ? s.failedMedia
          : s.failedNetwork;
    return html`<div part="failure" class="failure" role="alert">
      <p part="failure-message" class="failure-message">${message}</p>
      ${
        failure.blocked
          ? html`<p part="failure-detail" class="failure-detail" dir="ltr">
              ${this.hooks.format(s.failedBlockedDetail, { missing: failure.blocked.line })}
            </p>`
          : nothing
      }
      <button part="button retry-button" class="retry" @click=${() => this.retry()}>
        ${s.retry}
      </button>
    </div>`;
  }
}
