import type { ReactiveController } from 'lit';
import type { RecorderHost } from './recorder-view.js';

/** A press on Record longer than this is a hold: releasing it stops the take. */
export const HOLD_MS = 350;
/** A held press that slides this far from where it started cancels the take. */
export const SLIDE_CANCEL_PX = 80;

/**
 * Press-and-hold on Record, as phones' messengers do, beside tap-to-record: pressing Record
 * (pointer, or Space on the focused button) starts the take at once; released after
 * `HOLD_MS` it stops — then sends, or goes to review when confirmation is on — and sliding the
 * pointer `SLIDE_CANCEL_PX` away before releasing cancels it. A shorter press is a tap: the take
 * goes on until Stop. The click that ends either press is swallowed (the button under it is
 * Stop by then). Listens on the element's shadow root, so the button itself stays plain; loaded
 * with the take lifecycle.
 */
export class HoldToRecord implements ReactiveController {
  /** The press in progress: when it began, where, and by what. */
  private press?: { at: number; x: number; y: number; pointer?: number; cancelled?: boolean };
  /** The click the browser fires for the press that just ended: not a request. */
  private swallowClick = false;
  /** The take's start, which the release waits for (it may come before recording began). */
  private started: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: RecorderHost) {
    host.addController(this);
  }

  hostConnected(): void {
    const root = this.host.renderRoot;
    root.addEventListener('pointerdown', this.onPointerDown as EventListener);
    root.addEventListener('keydown', this.onKeyDown as EventListener);
    root.addEventListener('keyup', this.onKeyUp as EventListener);
    root.addEventListener('click', this.onClick, true);
  }

  hostDisconnected(): void {
    const root = this.host.renderRoot;
    root.removeEventListener('pointerdown', this.onPointerDown as EventListener);
    root.removeEventListener('keydown', this.onKeyDown as EventListener);
    root.removeEventListener('keyup', this.onKeyUp as EventListener);
    root.removeEventListener('click', this.onClick, true);
    this.unlisten();
    this.press = undefined;
  }

  private onRecordButton(event: Event): boolean {
    const target = event.target as Element | null;
    return this.host.state === 'previewing' && !!target?.closest?.('button.record');
  }

  private readonly onPointerDown = (event: PointerEvent): void => {
    if (event.button !== 0 || !this.onRecordButton(event)) return;
    this.press = {
      at: performance.now(),
      x: event.clientX,
      y: event.clientY,
      pointer: event.pointerId,
    };
    window.addEventListener('pointermove', this.onPointerMove);
    window.addEventListener('pointerup', this.onPointerUp);
    window.addEventListener('pointercancel', this.onPointerCancel);
    this.started = this.host.record();
  };

  private readonly onPointerMove = (event: PointerEvent): void => {
    const press = this.press;
    if (!press || press.cancelled || event.pointerId !== press.pointer) return;
    if (Math.hypot(event.clientX - press.x, event.clientY - press.y) < SLIDE_CANCEL_PX) return;
    // Cancelled now; the press stays until its release, so nothing it ends in starts a take.
    press.cancelled = true;
    void this.started.then(() => this.host.cancel());
  };

  private readonly onPointerUp = (event: PointerEvent): void => {
    if (event.pointerId !== this.press?.pointer) return;
    this.release();
  };

  private readonly onPointerCancel = (event: PointerEvent): void => {
    if (event.pointerId !== this.press?.pointer) return;
    this.end();
    void this.started.then(() => this.host.cancel());
  };

  private readonly onKeyDown = (event: KeyboardEvent): void => {
    if (event.key !== ' ' || event.repeat || this.press || !this.onRecordButton(event)) return;
    // Not the button's own activation (a click on keyup): this press is ours.
    event.preventDefault();
    this.press = { at: performance.now(), x: 0, y: 0 };
    this.started = this.host.record();
  };

  private readonly onKeyUp = (event: KeyboardEvent): void => {
    if (event.key !== ' ' || !this.press || this.press.pointer !== undefined) return;
    event.preventDefault();
    this.release();
  };

  /** The press ended where it began: a hold stops the take, a tap leaves it recording. */
  private release(): void {
    const press = this.press!;
    const held = !press.cancelled && performance.now() - press.at >= HOLD_MS;
    this.end();
    if (held) void this.started.then(() => this.host.stop());
  }

  private end(): void {
    this.press = undefined;
    this.unlisten();
    this.swallowClick = true;
    // The click (if any) comes in the same task as the release.
    setTimeout(() => (this.swallowClick = false));
  }

  private unlisten(): void {
    window.removeEventListener('pointermove', this.onPointerMove);
    window.removeEventListener('pointerup', this.onPointerUp);
    window.removeEventListener('pointercancel', this.onPointerCancel);
  }

  private readonly onClick = (event: Event): void => {
    if (!this.swallowClick && !this.press) return;
    event.stopPropagation();
    event.preventDefault();
  };
}
