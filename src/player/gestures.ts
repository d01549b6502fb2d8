import type { ReelState } from './reel-state.js';
import { Timers } from './timers.js';

const HOLD_MS = 300;
const SWIPE_PX = 40;

/** What the gestures ask of `<reel-player>`. */
export interface GestureActions {
  next(): void;
  back(): void;
  play(): void;
  /** The reel's state changed (held or not): render again. */
  changed(): void;
}

/**
 * The player's stories gestures on the picture: a tap on the left third goes back, elsewhere
 * on; a swipe goes back or on; press and hold pauses while held. Loaded with the playback
 * (the sequencer owns them): before it is in, none of them would do anything. The keyboard
 * shortcuts are the controls' (`player-controls.ts`).
 */
export class Gestures {
  private readonly timers = new Timers();
  private pointer?: { x: number; y: number; hold: number; held: boolean };

  constructor(
    private readonly reel: ReelState,
    private readonly actions: GestureActions,
  ) {}

  /** Forgets a press under way (the reel starts over or leaves the page). */
  reset(): void {
    this.timers.clearAll();
    this.pointer = undefined;
    this.reel.held = false;
  }

  /** The stage's pointer events, as the element forwards them. */
  handle(event: PointerEvent): void {
    if (event.type === 'pointerdown') this.pointerDown(event);
    else if (event.type === 'pointerup') this.pointerUp(event);
    else this.pointerCancel();
  }

  private pointerDown(event: PointerEvent): void {
    if (event.button !== 0 || !event.isPrimary) return;
    this.timers.clear(this.pointer?.hold);
    const pointer = { x: event.clientX, y: event.clientY, held: false, hold: 0 };
    pointer.hold = this.timers.set(() => {
      // Press and hold: paused while held.
      if (this.reel.paused) return;
      pointer.held = true;
      this.reel.held = true;
      this.reel.engine?.video.pause();
      this.actions.changed();
    }, HOLD_MS);
    this.pointer = pointer;
  }

  private pointerUp(event: PointerEvent): void {
    const pointer = this.pointer;
    if (!pointer) return;
    this.pointer = undefined;
    this.timers.clear(pointer.hold);
    if (pointer.held) {
      this.reel.held = false;
      this.actions.changed();
      this.actions.play();
      return;
    }
    const dx = event.clientX - pointer.x;
    const dy = event.clientY - pointer.y;
    if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(dy)) {
      if (dx < 0) this.actions.next();
      else this.actions.back();
      return;
    }
    const stage = event.currentTarget as HTMLElement;
    const { left, width } = stage.getBoundingClientRect();
    if (event.clientX - left < width / 3) this.actions.back();
    else this.actions.next();
  }

  private pointerCancel(): void {
    const pointer = this.pointer;
    this.pointer = undefined;
    this.timers.clear(pointer?.hold);
    if (pointer?.held) {
      this.reel.held = false;
      this.actions.changed();
      this.actions.play();
    }
  }
}
