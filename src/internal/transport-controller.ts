import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ReelError } from '../transport/errors.js';
import { createTransport, hasTransport } from '../transport/registry.js';
import type { GetToken, ReelTransport, Session } from '../transport/types.js';

/** The configuration attributes and properties every reelchat element takes. */
export interface TransportConfig {
  /** A registered transport's name (`http`, `memory`, …) or a transport object. */
  transport?: string | ReelTransport;
  endpoint?: string;
  token?: string;
  getToken?: GetToken;
  user?: string;
  /** The conversation the element works in: what getToken is asked for when a request names none. */
  conversation?: string;
  userName?: string;
  room?: string;
}

type Host = ReactiveControllerHost & HTMLElement & TransportConfig;

const BUILT_IN_TRANSPORTS = ['http', 'memory'];

/**
 * Resolves an element's transport from its attributes and owns the one it created:
 * made when the element connects (or its configuration changes), closed when it leaves.
 * A transport object given as a property belongs to whoever gave it and is never closed here.
 */
export class TransportController implements ReactiveController {
  transport?: ReelTransport;
  session?: Session;
  error?: ReelError;
  private owned = false;
  /** The configuration the current transport was made from (a transport object, or its attributes). */
  private configKey: unknown = '';
  private generation = 0;
  private readonly holds = new Set<Promise<void>>();

  constructor(
    private readonly host: Host,
    private readonly onReady: (transport: ReelTransport, session: Session) => void,
    private readonly onError: (error: ReelError) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    // Resolve on the next update, not now: properties set before the element upgraded
    // (a getToken callback, say) are only restored by then.
    this.host.requestUpdate();
  }

  hostUpdate(): void {
    this.sync();
  }

  hostDisconnected(): void {
    this.release();
  }

  private sync(): void {
    const { transport, endpoint, user, userName, room } = this.host;
    const key =
      typeof transport === 'object'
        ? transport
        : JSON.stringify([transport, endpoint, user, userName, room]);
    if (key === this.configKey || !this.host.isConnected) return;
    this.release();
    this.configKey = key;
    if (!transport) return;
    const generation = this.generation;
    if (typeof transport === 'object') {
      this.transport = transport;
      void this.connect(transport, generation);
      return;
    }
    this.create(transport).then(
      (created) => {
        if (generation !== this.generation) return void created.close();
        this.transport = created;
        this.owned = true;
        void this.connect(created, generation);
      },
      (error: unknown) => {
        if (generation === this.generation) this.fail(ReelError.from(error));
      },
    );
  }

  private async create(name: string): Promise<ReelTransport> {
    // The built-in transports load on first use, so an entry point that may not need
    // them (the player given a clip list) does not carry them.
    if (!hasTransport(name) && BUILT_IN_TRANSPORTS.includes(name)) {
      await import('../transport/index.js');
    }
    const { endpoint, user, userName, room } = this.host;
    return createTransport(name, {
      endpoint,
      user,
      userName,
      room,
      // Read live, so a refreshed token (or a new conversation) reaches the transport
      // without rebuilding it.
      getToken: (request) => {
        const { getToken, token, conversation } = this.host;
        if (!getToken) return token ?? '';
        return getToken({ ...request, conversation: request.conversation ?? conversation });
      },
    });
  }

  private async connect(transport: ReelTransport, generation: number): Promise<void> {
    try {
      const session = await transport.connect();
      if (generation !== this.generation) return;
      // With a token the backend says who this is; a `user` attribute that names someone
      // else is a host's mistake (a token fetched for the wrong person), said at once.
      const { user } = this.host;
      if (this.owned && user && session.user !== user) {
        throw new ReelError(
          'unauthorized',
          `The token is for "${session.user}", but the element's user attribute says "${user}".`,
        );
      }
      this.session = session;
      this.error = undefined;
      this.onReady(transport, session);
      this.host.requestUpdate();
    } catch (error) {
      if (generation === this.generation) this.fail(ReelError.from(error, 'network'));
    }
  }

  private fail(error: ReelError): void {
    this.error = error;
    this.onError(error);
    this.host.requestUpdate();
  }

  /**
   * Work that needs the transport to finish (a clip the person sent, still uploading): if the
   * element leaves or its configuration changes meanwhile, the transport closes after it.
   */
  keepOpenUntil(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.holds.add(settled);
    void settled.then(() => this.holds.delete(settled));
  }

  private release(): void {
    this.generation++;
    if (this.transport && this.owned) {
      const transport = this.transport;
      void Promise.all(this.holds).then(() => transport.close());
    }
    this.transport = undefined;
    this.session = undefined;
    this.owned = false;
    this.configKey = '';
  }
}
