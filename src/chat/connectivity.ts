/** Waits between probes while requests fail with network errors: 2 s, 4 s … at most 15 s. */
const PROBE_MS = [2000, 4000, 8000, 15_000];

export type ConnectionState = 'connecting' | 'online' | 'offline';

/**
 * Whether the conversation can reach its backend, from three witnesses: the transport's
 * live stream (`connection` events: the server went away), the browser (`offline` and
 * `online` on window: the network went away) and the requests this session makes (a
 * network error while the stream still looks open). Any of them down shows the dialog
 * offline; it comes back by itself — on the stream's or the browser's `online`, or on the
 * next request that succeeds, which a probe makes while requests fail.
 */
export class Connectivity {
  private stream: ConnectionState = 'connecting';
  private browserOffline = false;
  private requestsFailing = false;
  private probes = 0;
  private probeTimer?: ReturnType<typeof setTimeout>;
  private last: ConnectionState = 'connecting';

  constructor(
    private readonly hooks: {
      /** The state shown changed. */
      changed(state: ConnectionState): void;
      /** Back online from any witness: send what waits, catch up. */
      recovered(): void;
      /** Requests are failing: try one (the caller's cheapest that shows the way is open). */
      probe(): void;
    },
  ) {}

  get state(): ConnectionState {
    return this.last;
  }

  start(): void {
    if (typeof window === 'undefined') return;
    this.browserOffline = navigator.onLine === false;
    window.addEventListener('offline', this.onBrowser);
    window.addEventListener('online', this.onBrowser);
    this.update();
  }

  stop(): void {
    if (typeof window !== 'undefined') {
      window.removeEventListener('offline', this.onBrowser);
      window.removeEventListener('online', this.onBrowser);
    }
    clearTimeout(this.probeTimer);
  }

  /** The transport's stream opened or closed. An open stream is a request that succeeded. */
  streamChanged(state: 'online' | 'offline'): void {
    this.stream = state;
    if (state === 'online') {
      this.requestsFailing = false;
      clearTimeout(this.probeTimer);
    }
    this.update(state === 'online');
  }

  /** A request failed for want of a network (not a refusal by the server). */
  requestFailed(): void {
    if (!this.requestsFailing) this.probes = 0;
    this.requestsFailing = true;
    this.update();
    this.scheduleProbe();
  }

  /** A request went through: the way to the server is open. */
  requestSucceeded(): void {
    if (!this.requestsFailing) return;
    this.requestsFailing = false;
    clearTimeout(this.probeTimer);
    this.update();
  }

  private readonly onBrowser = (event: Event): void => {
    this.browserOffline = event.type === 'offline';
    // The browser says it is back: what failed goes again now, not at the next probe.
    if (!this.browserOffline) this.requestsFailing = false;
    this.update(!this.browserOffline);
  };

  private scheduleProbe(): void {
    clearTimeout(this.probeTimer);
    const delay = PROBE_MS[Math.min(this.probes++, PROBE_MS.length - 1)];
    this.probeTimer = setTimeout(() => {
      if (this.requestsFailing && !this.browserOffline) this.hooks.probe();
      else if (this.requestsFailing) this.scheduleProbe();
    }, delay);
  }

  /** `recover`: a witness came back; recovered() runs if the dialog is online now. */
  private update(recover = false): void {
    const next: ConnectionState =
      this.browserOffline || this.requestsFailing ? 'offline' : this.stream;
    const was = this.last;
    this.last = next;
    if (next !== was) this.hooks.changed(next);
    if (next === 'online' && (recover || was === 'offline')) this.hooks.recovered();
  }
}
