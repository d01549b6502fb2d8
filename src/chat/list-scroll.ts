import type { ChatSession } from './chat-session.js';

/** How close to the bottom (px) still counts as "at the bottom" for following new messages. */
const STICKY = 48;
/** How close to the top (px) loads older messages. */
const NEAR_TOP = 64;

/** What the message list's scrolling reads from its element. */
export interface ListScrollHost {
  list(): HTMLElement | undefined;
  session(): ChatSession | undefined;
  /** Resolves once the element has rendered what changed. */
  rendered(): Promise<unknown>;
  /** New messages arrived below what is on screen… */
  addUnseen(count: number): void;
  /** …or none are left unseen. */
  clearUnseen(): void;
}

/**
 * The message list's scrolling: following new messages while at the bottom (counting them
 * otherwise), loading older pages near the top, and keeping what is on screen in place
 * when a page is added above it.
 */
export class ListScroll {
  atBottom = true;
  /**
   * Watches the list's entries: one that grows after it was rendered (a video box once its
   * video is known, a poster, a player) pushes the newest message down without a scroll
   * event, so while at the bottom the list is taken there again.
   */
  private resizes?: ResizeObserver;

  constructor(private readonly host: ListScrollHost) {}

  /** After each render: watches the entries the list has now (observing one twice is a no-op). */
  rendered(): void {
    const list = this.host.list();
    if (!list || typeof ResizeObserver === 'undefined') return;
    this.resizes ??= new ResizeObserver(() => {
      const current = this.host.list();
      if (this.atBottom && current) current.scrollTop = current.scrollHeight;
    });
    for (const entry of list.children) this.resizes.observe(entry, { box: 'border-box' });
  }

  /** The element left the page. */
  disconnect(): void {
    this.resizes?.disconnect();
    this.resizes = undefined;
  }

  /** A new session: at the bottom, nothing unseen. */
  reset(): void {
    this.atBottom = true;
    this.host.clearUnseen();
  }

  toBottom(): void {
    const list = this.host.list();
    if (!list) return;
    list.scrollTop = list.scrollHeight;
    this.atBottom = true;
    this.host.clearUnseen();
  }

  /** Loads the page before the oldest message shown, keeping what is on screen in place. */
  async loadOlder(): Promise<void> {
    const session = this.host.session();
    if (!session) return;
    const list = this.host.list();
    let height = 0;
    let top = 0;
    const loaded = await session.loadOlder(() => {
      height = list?.scrollHeight ?? 0;
      top = list?.scrollTop ?? 0;
    });
    if (!loaded) return;
    await this.host.rendered();
    if (list) list.scrollTop = top + (list.scrollHeight - height);
  }

  /** After the first page: to the bottom, then older pages while the list does not fill its box. */
  async firstPage(session: ChatSession): Promise<void> {
    await this.host.rendered();
    if (this.host.session() !== session) return;
    this.toBottom();
    for (let i = 0; i < 10; i++) {
      const list = this.host.list();
      if (!list || !session.hasOlder || this.host.session() !== session) return;
      if (list.scrollHeight > list.clientHeight + NEAR_TOP) return;
      await this.loadOlder();
    }
  }

  /** Messages were added at the end: followed if at the bottom (or `follow`), else counted. */
  appended(count: number, follow: boolean): void {
    if (this.atBottom || follow) void this.host.rendered().then(() => this.toBottom());
    else this.host.addUnseen(count);
  }

  onScroll(): void {
    const list = this.host.list();
    if (!list) return;
    this.atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < STICKY;
    if (this.atBottom) this.host.clearUnseen();
    const session = this.host.session();
    if (list.scrollTop < NEAR_TOP && session?.hasOlder && session.loading === 'idle')
      void this.loadOlder();
  }
}
