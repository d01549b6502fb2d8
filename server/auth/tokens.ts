// Bearer tokens: a JWT the host site signs (HS256 with a shared secret, or EdDSA with its
// private key; we hold the public key). Claims: sub (user id), name, conversations, exp.
import type { IncomingMessage } from 'node:http';
import { decodeProtectedHeader, importSPKI, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { isId } from '../ids.js';
import { unauthorized } from '../http/errors.js';

export interface Identity {
  user: string;
  name: string;
  conversations: string[];
  /** Seconds since the epoch at which the token stops being valid. */
  exp: number;
}

export interface TokenKeys {
  secret?: string;
  publicKey?: string;
}

export interface TokenLimits {
  /**
   * Longest accepted lifetime (s): a token whose exp is further than this from now is
   * refused, so a leaked token (or one signed with exp: 1e300) cannot work for ever.
   */
  maxLifetimeS?: number;
}

/** Default of REELCHAT_MAX_TOKEN_LIFETIME_S: 24 h. */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 24 * 3600;
/** Clock skew allowed between the host site and this server, both ways (s). */
const CLOCK_TOLERANCE_S = 5;

export class TokenVerifier {
  private readonly secret?: Uint8Array;
  private readonly publicKey?: Promise<CryptoKey>;
  private readonly maxLifetimeS: number;

  constructor(keys: TokenKeys, limits: TokenLimits = {}) {
    this.maxLifetimeS = limits.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S;
    if (keys.secret) this.secret = new TextEncoder().encode(keys.secret);
    if (keys.publicKey) this.publicKey = importSPKI(keys.publicKey, 'EdDSA');
  }

  /** Resolves to who the token names, or throws 401. */
  async verify(token: string): Promise<Identity> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized('The token is not a JWT.');
    }
    let payload: Record<string, unknown>;
    try {
      if (alg === 'HS256' && this.secret) {
        ({ payload } = await jwtVerify(token, this.secret, {
          algorithms: ['HS256'],
          requiredClaims: ['sub', 'exp'],
          clockTolerance: CLOCK_TOLERANCE_S,
        }));
      } else if (alg === 'EdDSA' && this.publicKey) {
        ({ payload } = await jwtVerify(token, await this.publicKey, {
          algorithms: ['EdDSA'],
          requiredClaims: ['sub', 'exp'],
          clockTolerance: CLOCK_TOLERANCE_S,
        }));
      } else {
        throw unauthorized(`Tokens signed with ${alg ?? 'no algorithm'} are not accepted.`);
      }
    } catch (error) {
      if (error instanceof Error && error.name === 'HttpError') throw error;
      const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw unauthorized(expired ? 'The token has expired.' : 'The token is not valid.');
    }
    this.checkLifetime(payload.exp);
    return identityFrom(payload);
  }

  /** Refuses an exp that is not a time, or further away than the longest lifetime. */
  private checkLifetime(exp: unknown): void {
    // jose checks that exp is a number and not past; 1e400 in JSON parses to Infinity.
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      throw unauthorized('The token\'s "exp" must be a time (seconds since the epoch).');
    }
    const latest = Date.now() / 1000 + this.maxLifetimeS + CLOCK_TOLERANCE_S;
    if (exp > latest) {
      throw unauthorized(
        `The token lives too long: its "exp" may be at most ${this.maxLifetimeS} s from now.`,
      );
    }
  }

  /** Reads the token from `Authorization: Bearer …` (or, where allowed, a query parameter). */
  async fromRequest(req: IncomingMessage, queryToken?: string | null): Promise<Identity> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw unauthorized('Authorization must be "Bearer <token>".');
      return this.verify(match[1]!);
    }
    if (queryToken) return this.verify(queryToken);
    throw unauthorized();
  }
}

function identityFrom(payload: Record<string, unknown>): Identity {
  const { sub, name, conversations, exp } = payload;
  if (!isId(sub)) throw unauthorized('The token\'s "sub" must be a user id (A-Z a-z 0-9 _ -).');
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw unauthorized('The token needs a "name" (1–200 characters).');
  }
  if (!Array.isArray(conversations) || !conversations.every(isId)) {
    throw unauthorized('The token\'s "conversations" must be a list of conversation ids.');
  }
  return { user: sub, name, conversations: [...new Set(conversations)], exp: exp as number };
}

/** Signs an HS256 token the way a host site would (dev tokens and tests). */
export async function signToken(
  secret: string,
  claims: { user: string; name: string; conversations: string[] },
  ttlS = 12 * 3600,
): Promise<string> {
  return new SignJWT({ name: claims.name, conversations: claims.conversations })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.user)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlS)
    .sign(new TextEncoder().encode(secret));
}

export function isMember(identity: Identity, conversation: string): boolean {
  return identity.conversations.includes(conversation);
}
