import { LitElement } from 'lit';
import { property } from './decorators.js';
import type { ReelTransport } from '../transport/types.js';
import type { TransportConfig } from './transport-controller.js';

/**
 * The configuration every reelchat element takes, in one place: which backend, how to
 * authenticate, who this is and which conversation. Each element resolves it with a
 * `TransportController`.
 */
export class ConnectedElement extends LitElement implements TransportConfig {
  /** A registered transport's name (`http`, `memory`, …) as attribute, or a transport object as property. */
  @property() transport?: string | ReelTransport;
  /** The backend's base URL (http transport). */
  @property() endpoint?: string;
  /** A bearer token for the backend (or use `getToken`). */
  @property() token?: string;
  /** Called for a fresh token whenever the transport needs one (takes precedence over `token`). */
  @property({ attribute: false }) getToken?: () => string | Promise<string>;
  /** This person's user id, for transports without tokens (memory; http takes it from the token). */
  @property() user?: string;
  /** This person's display name (memory transport). */
  @property({ attribute: 'user-name' }) userName?: string;
  /** The in-page room a memory transport shares (default `default`). */
  @property() room?: string;
  /** The conversation the element works in. */
  @property({ reflect: true }) conversation?: string;
}
