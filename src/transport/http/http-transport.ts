import { throwIfAborted } from '../abort.js';
import { ReelError } from '../errors.js';
import { validateDraft, validateId, validateListOptions } from '../validate.js';
import type {
  ListOptions,
  Message,
  MessageDraft,
  Page,
  ReelEvent,
  ReelTransport,
  Session,
  TokenPurpose,
  TransportOptions,
  UploadOptions,
  UploadSource,
  Video,
} from '../types.js';
import type { WireEvent, WireMessagePage, WireSession, WireVideoPage } from '../wire.js';
import { ApiClient } from './api-client.js';
import { EventStream } from './event-stream.js';
import { TusUpload } from './tus-upload.js';

/** Videos per page when listing a reel (the server caps pages at 200, as for messages). */
const VIDEO_PAGE = 200;
/** A bound on pages per listing, so a server whose cursor never ends cannot loop us forever. */
const MAX_VIDEO_PAGES = 1000;

/**
 * Speaks the reference HTTP protocol (docs/protocol.md): JSON for messages and videos,
 * tus for uploads, server-sent events for live updates, bearer tokens throughout.
 */
export class HttpTransport implements ReelTransport {
  /** Requests that name no conversation (the session check); `api()` gives the others. */
  private readonly root: ApiClient;
  /** Which conversation a media folder's URLs belong to: mediaRequest picks the token by it. */
  private readonly mediaFolders = new Map<string, string>();
  private readonly streams = new Set<EventStream>();
  private readonly uploads = new Set<AbortController>();
  /** Aborted by close(): a request waiting out a server's Retry-After stops waiting. */
  private readonly closing = new AbortController();
  private closed = false;

  constructor(options: TransportOptions) {
    if (!options.endpoint)
      throw new ReelError('bad-request', 'The http transport needs an endpoint attribute.');
    let endpoint: URL;
    try {
      endpoint = new URL(options.endpoint, globalThis.location?.href);
    } catch (error) {
      throw new ReelError('bad-request', `"${options.endpoint}" is not a URL.`, { cause: error });
    }
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
      throw new ReelError(
        'bad-request',
        `The endpoint must be an http(s) URL, not "${options.endpoint}".`,
      );
    }
    const getToken = options.getToken ?? (() => options.token ?? '');
    this.root = new ApiClient(endpoint.href.replace(/\/$/, ''), getToken, this.closing.signal);
  }

  /** A client whose token is asked for this conversation and purpose. */
  private api(conversation: string, purpose: TokenPurpose = 'api'): ApiClient {
    return this.root.scoped({ conversation, purpose });
  }

  async connect(): Promise<Session> {
    this.check();
    const session = await this.root.json<WireSession>('GET', '/v1/session');
    return { user: session.user, name: session.name };
  }

  async listMessages(conversation: string, options: ListOptions = {}): Promise<Page<Message>> {
    this.check(conversation);
    const { limit } = validateListOptions(options);
    const query = new URLSearchParams({ limit: String(limit) });
    if (options.after !== undefined) query.set('after', options.after);
    if (options.before !== undefined) query.set('before', options.before);
    const page = await this.api(conversation).json<WireMessagePage>(
      'GET',
      `${conversationPath(conversation)}/messages?${query}`,
    );
    return { items: page.messages, next: page.next };
  }

  async sendMessage(conversation: string, draft: MessageDraft): Promise<Message> {
    this.check(conversation);
    validateDraft(draft, Number.MAX_SAFE_INTEGER);
    return this.api(conversation).json<Message>(
      'POST',
      `${conversationPath(conversation)}/messages`,
      {
        clientId: draft.clientId,
        ...(draft.video !== undefined ? { video: draft.video } : { text: draft.text }),
      },
    );
  }

  async upload(conversation: string, source: UploadSource, options: UploadOptions): Promise<Video> {
    this.check(conversation);
    validateId(options.clientId, 'clientId');
    const type = options.type ?? (source instanceof Blob ? source.type : '') ?? '';
    if (!type.startsWith('video/'))
      throw new ReelError('bad-request', `Only video can be uploaded, not "${type}".`);
    throwIfAborted(options.signal);
    // One controller per upload so close() can stop them all. Closing is not cancelling:
    // the server keeps those uploads, and the outbox resumes them on a later page.
    const closing = new AbortController();
    this.uploads.add(closing);
    try {
      const id = await new TusUpload(this.api(conversation, 'upload'), source, {
        conversation,
        clientId: options.clientId,
        type,
        signal: options.signal,
        closing: closing.signal,
        onProgress: options.onProgress,
        live: options.live,
        onCreated: options.onCreated,
      }).start();
      return await this.getVideo(conversation, id);
    } finally {
      this.uploads.delete(closing);
    }
  }

  async getVideo(conversation: string, id: string): Promise<Video> {
    this.check(conversation);
    validateId(id, 'video');
    const video = await this.api(conversation).json<Video>(
      'GET',
      `${conversationPath(conversation)}/videos/${id}`,
    );
    return this.withMedia(conversation, [video]).then(([resolved]) => resolved!);
  }

  async listVideos(conversation: string, owner: string): Promise<Video[]> {
    this.check(conversation);
    validateId(owner, 'owner');
    // Paged like messages: the newest page first, then older ones through `before=next`,
    // until `next` is null (a server without paging sends everything and no `next`).
    const base = `${conversationPath(conversation)}/videos?owner=${encodeURIComponent(owner)}`;
    let pages: Video[][] = [];
    const seen = new Set<string>();
    let before: string | null | undefined;
    for (let page = 0; page < MAX_VIDEO_PAGES; page++) {
      const query = new URLSearchParams({ limit: String(VIDEO_PAGE) });
      if (before) query.set('before', before);
      const { videos, next } = await this.api(conversation).json<WireVideoPage>(
        'GET',
        `${base}&${query}`,
      );
      pages = [videos.filter((video) => !seen.has(video.id)), ...pages];
      for (const video of videos) seen.add(video.id);
      if (!next || next === before) break;
      before = next;
    }
    return this.withMedia(conversation, pages.flat());
  }

  async deleteMessage(conversation: string, id: string): Promise<void> {
    this.check(conversation);
    validateId(id, 'message');
    await this.api(conversation).json<void>(
      'DELETE',
      `${conversationPath(conversation)}/messages/${id}`,
    );
  }

  async markWatched(conversation: string, videoId: string): Promise<void> {
    this.check(conversation);
    validateId(videoId, 'video');
    await this.api(conversation).json<void>(
      'PUT',
      `${conversationPath(conversation)}/videos/${videoId}/watched`,
    );
  }

  subscribe(conversation: string, onEvent: (event: ReelEvent) => void): () => void {
    this.check(conversation);
    const stream = new EventStream(
      this.api(conversation, 'events'),
      `/v1/events?conversation=${encodeURIComponent(conversation)}`,
      {
        onEvent: (raw) => {
          const event = parseEvent(raw.data);
          if (!event) return;
          if (event.type === 'video.updated')
            event.video = this.resolveUrls(conversation, event.video);
          onEvent(event);
        },
        onConnection: (online) =>
          onEvent({ type: 'connection', state: online ? 'online' : 'offline' }),
        onFatal: () => onEvent({ type: 'connection', state: 'offline' }),
      },
    );
    this.streams.add(stream);
    return () => {
      stream.close();
      this.streams.delete(stream);
    };
  }

  /**
   * hls.js adds these to its playlist and segment requests (the bearer header): the media
   * token of the conversation the URL's video came from, else that conversation's API token,
   * else (a URL this transport did not hand out) the token the session was checked with.
   */
  mediaRequest(url: string): RequestInit {
    if (!this.root.owns(url)) return {};
    const conversation = this.mediaFolders.get(folderOf(url));
    const token =
      (conversation !== undefined &&
        (this.root.cachedTokenFor({ conversation, purpose: 'media' }) ??
          this.root.cachedTokenFor({ conversation, purpose: 'api' }))) ||
      this.root.cachedToken;
    if (!token) return {};
    return { headers: { Authorization: `Bearer ${token}` } };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    for (const stream of this.streams) stream.close();
    this.streams.clear();
    for (const upload of this.uploads) upload.abort();
    this.uploads.clear();
  }

  /**
   * Videos with absolute URLs, once the conversation's media token is at hand (mediaRequest
   * cannot wait for one). A host that gives no media token leaves the API token in use.
   */
  private async withMedia(conversation: string, videos: Video[]): Promise<Video[]> {
    const resolved = videos.map((video) => this.resolveUrls(conversation, video));
    if (resolved.some((video) => video.playlist)) {
      await this.api(conversation, 'media')
        .currentToken()
        .catch(() => undefined);
    }
    return resolved;
  }

  private resolveUrls(conversation: string, video: Video): Video {
    if (video.playlist)
      this.mediaFolders.set(folderOf(this.root.url(video.playlist)), conversation);
    return {
      ...video,
      mediaType: video.mediaType ?? 'hls',
      playlist: video.playlist ? this.root.url(video.playlist) : undefined,
      poster: video.poster ? this.root.url(video.poster) : undefined,
    };
  }

  private check(conversation?: string): void {
    if (this.closed) throw new ReelError('aborted', 'This transport has been closed.');
    if (conversation !== undefined) validateId(conversation, 'conversation');
  }
}

/** A URL's folder (origin and path up to the last slash): a video's playlist and segments share it. */
function folderOf(url: string): string {
  const { origin, pathname } = new URL(url);
  return origin + pathname.slice(0, pathname.lastIndexOf('/') + 1);
}

function conversationPath(conversation: string): string {
  return `/v1/conversations/${encodeURIComponent(conversation)}`;
}

/** A server event's JSON, checked for the fields the elements rely on. */
function parseEvent(data: string): Exclude<ReelEvent, { type: 'connection' }> | undefined {
  try {
    const event = JSON.parse(data) as WireEvent;
    if (event.type === 'message.created' && typeof event.message?.id === 'string') return event;
    if (event.type === 'message.deleted' && typeof event.message?.id === 'string') return event;
    if (event.type === 'video.updated' && typeof event.video?.id === 'string') return event;
    if (event.type === 'video.watched' && typeof event.watch?.video === 'string') return event;
  } catch {
    // A malformed event is dropped, not fatal to the stream.
  }
  return undefined;
}
