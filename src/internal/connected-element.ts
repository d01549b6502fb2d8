import { LitElement, type PropertyDeclarations } from 'lit';
import type { GetToken, ReelTransport } from '../transport/types.js';
import type { TransportConfig } from './transport-controller.js';

/**
 * The configuration every reelchat element takes, in one place: which backend, how to
 * authenticate, who this is and which conversation. Each element resolves it with a
 * `TransportController`.
 */
export class ConnectedElement extends LitElement implements TransportConfig {
  // Lit's static form, not decorators: a decorated field costs a call to TypeScript's
  // decorator helper, in a chunk of its own up front for an element that has no other.
  static override properties: PropertyDeclarations = {
    transport: {},
    endpoint: {},
    token: {},
    getToken: { attribute: false },
    user: {},
    userName: { attribute: 'user-name' },
    room: {},
    conversation: { reflect: true },
  };

  /** A registered transport's name (`http`, `memory`, …) as attribute, or a transport object as property. */
  transport?: string | ReelTransport;
  /** The backend's base URL (http transport). */
  endpoint?: string;
  /** A bearer token for the backend (or use `getToken`). */
  token?: string;
  /**
   * Called for a fresh token whenever the transport needs one (takes precedence over `token`),
   * with `{conversation, purpose}`: the element's conversation (or the one a request is about)
   * and what the token is for (`api`, `events`, `upload`, `media`). Resolves to the bare token.
   */
  getToken?: GetToken;
  /** This person's user id, for transports without tokens (memory; http takes it from the token). */
  user?: string;
  /** This person's display name (memory transport). */
  userName?: string;
  /** The in-page room a memory transport shares (default `default`). */
  room?: string;
  /** The conversation the element works in. */
  conversation?: string;
}
