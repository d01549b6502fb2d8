// What the route handlers share: the stores, the token checks and the member log.
import type { MediaSigner } from '../auth/media-tokens.js';
import { isMember, type Identity, type TokenVerifier } from '../auth/tokens.js';
import { badRequest, forbidden } from '../http/errors.js';
import type { RequestContext } from '../http/router.js';
import { isId } from '../ids.js';
import type { LivePlaylists } from '../events/live-playlists.js';
import type { MediaStore } from '../media/store.js';
import type { MemberStore, MetadataStore, VideoRecord } from '../store/types.js';

/** The settings the route handlers read (from the configuration, by compose.ts). */
export interface ApiSettings {
  /** Characters a message's text may have. */
  maxText: number;
  /** The longest lifetime of a token the server accepts or hands out. */
  maxTokenLifetimeS: number;
}

export interface ApiContext {
  config: ApiSettings;
  store: MetadataStore;
  media: MediaStore;
  signer: MediaSigner;
  tokens: TokenVerifier;
  members: MemberLog;
  /** The playlists of takes shared while recorded (served before the media store's files). */
  live?: LivePlaylists;
  /**
   * Removes the files of a video whose rows are gone (unsend): stops its conversion, then
   * removes its media and upload bytes.
   */
  discardVideo(videoId: string): Promise<void>;
}

/** The caller, from `Authorization: Bearer` (401 without a valid token). */
export function authenticate(api: ApiContext, ctx: RequestContext): Promise<Identity> {
  return api.tokens.fromRequest(ctx.req);
}

/** The `:c` path parameter, checked for format (400) and membership (403). */
export async function memberOf(
  api: ApiContext,
  ctx: RequestContext,
): Promise<{ identity: Identity; conversation: string }> {
  const identity = await authenticate(api, ctx);
  const conversation = ctx.params.c!;
  if (!isId(conversation)) throw badRequest('Not a conversation id.');
  if (!isMember(identity, conversation)) throw forbidden();
  return { identity, conversation };
}

/**
 * Whether `user` (a member of the video's conversation) may see the video: its owner
 * always; the others only once it is attached to a message. A clip recorded and then
 * dropped, or whose message was never sent, stays private. Callers answer 404 otherwise,
 * so nobody learns that the clip exists.
 */
export async function canSeeVideo(
  api: ApiContext,
  video: VideoRecord,
  user: string,
): Promise<boolean> {
  return video.owner === user || (await api.store.messageWithVideo(video.id)) !== undefined;
}

/**
 * Remembers who was seen where (name, last seen). Writes at most once a minute per
 * member and conversation: a busy client should not turn every request into a write.
 */
export class MemberLog {
  private readonly recent = new Map<string, number>();

  constructor(private readonly store: MemberStore) {}

  async seen(identity: Identity, conversation: string): Promise<void> {
    const key = `${conversation}\n${identity.user}\n${identity.name}`;
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now - 60_000) return;
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(key, now);
    await this.store.touchMember(identity.user, identity.name, conversation);
  }
}
