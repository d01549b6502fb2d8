import { nanoid } from 'nanoid';
import { throwIfAborted } from './abort.js';
import { ReelError } from './errors.js';
import { readUploadSource } from './upload-source.js';
import { validateDraft, validateId, validateListOptions } from './validate.js';
import type {
  ConnectionState,
  ListOptions,
  Message,
  MessageDraft,
  Page,
  ReelEvent,
  ReelTransport,
  Session,
  TransportOptions,
  UploadOptions,
  UploadSource,
  Video,
} from './types.js';

type LiveEvent = Exclude<ReelEvent, { type: 'connection' }>;
type LiveEventDraft = LiveEvent extends infer E
  ? E extends unknown
    ? Omit<E, 'id'>
    : never
  : never;

interface Listener {
  user: string;
  conversation: string;
  onEvent(event: ReelEvent): void;
}

/** An event and who may hear it: a user id, or undefined for every member of the conversation. */
interface RoomEvent {
  conversation: string;
  audience?: string;
  event: LiveEvent;
}

/**
 * One in-page backend shared by every MemoryTransport with the same room name, so two
 * elements on one page (Alice's and Bob's dialogs) see each other's messages.
 */
class Room {
  readonly messages = new Map<string, Message[]>();
  readonly videos = new Map<string, Video>();
  /** Upload idempotency: `${owner}\n${clientId}` → video id. */
  readonly uploads = new Map<string, string>();
  /** Who watched each video (video id → user ids, in the order they first did). */
  readonly watched = new Map<string, string[]>();
  readonly listeners = new Set<Listener>();
  online = true;
  private seq = 0;
  /** Events held back while the room is offline, delivered in order when it comes back. */
  private held: RoomEvent[] = [];

  conversationMessages(conversation: string): Message[] {
    let list = this.messages.get(conversation);
    if (!list) this.messages.set(conversation, (list = []));
    return list;
  }

  /** Sends an event to the conversation's listeners, or to `audience`'s only when given. */
  publish(conversation: string, event: LiveEventDraft, audience?: string): void {
    const roomEvent: RoomEvent = {
      conversation,
      audience,
      event: { ...event, id: String(++this.seq) } as LiveEvent,
    };
    if (!this.online) {
      this.held.push(roomEvent);
      return;
    }
    this.deliver(roomEvent);
  }

  /**
   * The server's rule: a video is its owner's alone until it is attached to a message (a
   * clip recorded and then dropped stays private); from then on every member sees it.
   */
  canSee(video: Video, user: string): boolean {
    return video.owner === user || this.isAttached(video);
  }

  /** A video.updated event of the video's current state, heard by those who may see it. */
  publishVideo(video: Video): void {
    this.publish(
      video.conversation,
      { type: 'video.updated', video: structuredClone(video) },
      this.isAttached(video) ? undefined : video.owner,
    );
  }

  /**
   * The video as `user` may know it: the owner is told everyone who watched it, anyone else
   * only whether they have (as the reference server answers).
   */
  viewFor(video: Video, user: string): Video {
    const watchers = this.watched.get(video.id) ?? [];
    return structuredClone({
      ...video,
      watchedBy: video.owner === user ? watchers : watchers.filter((u) => u === user),
    });
  }

  /** Unsend: the clip and everything of it go; a conversion still running cannot bring it back. */
  removeVideo(id: string): void {
    const video = this.videos.get(id);
    if (!video) return;
    this.videos.delete(id);
    this.watched.delete(id);
    for (const [key, value] of this.uploads) if (value === id) this.uploads.delete(key);
    if (video.mediaType === 'file' && video.playlist?.startsWith('blob:'))
      URL.revokeObjectURL(video.playlist);
  }

  private isAttached(video: Video): boolean {
    return this.conversationMessages(video.conversation).some(
      (message) => message.video === video.id,
    );
  }

  setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    const state: ConnectionState = online ? 'online' : 'offline';
    for (const listener of this.listeners)
      later(() => listener.onEvent({ type: 'connection', state }));
    if (online) {
      const held = this.held;
      this.held = [];
      for (const event of held) this.deliver(event);
    }
  }

  private deliver({ conversation, audience, event }: RoomEvent): void {
    // Like a network: listeners hear about it after the call that caused it has returned.
    for (const listener of this.listeners) {
      if (listener.conversation !== conversation) continue;
      if (audience !== undefined && listener.user !== audience) continue;
      later(() => listener.onEvent(structuredClone(event)));
    }
  }
}

const rooms = new Map<string, Room>();

function roomNamed(name: string): Room {
  let room = rooms.get(name);
  if (!room) rooms.set(name, (room = new Room()));
  return room;
}

function later(task: () => void): void {
  setTimeout(task, 0);
}

export interface MemoryTransportOptions extends TransportOptions {
  /** Milliseconds a video stays `processing` before it is `ready` (default 50). */
  processingDelay?: number;
  maxUploadBytes?: number;
  maxText?: number;
}

/**
 * A complete backend inside the page: for tests, demos and offline use. Videos play
 * straight from the recorded Blob (`mediaType: 'file'`), nothing is converted.
 */
export class MemoryTransport implements ReelTransport {
  readonly user: string;
  private readonly userName?: string;
  private readonly conversations?: Set<string>;
  private readonly room: Room;
  private readonly ownListeners = new Set<Listener>();
  private readonly processingDelay: number;
  private readonly maxUploadBytes: number;
  private readonly maxText: number;
  private closed = false;

  constructor(options: MemoryTransportOptions = {}) {
    this.user = options.user ?? 'me';
    this.userName = options.userName;
    this.conversations = options.conversations ? new Set(options.conversations) : undefined;
    this.room = roomNamed(options.room ?? 'default');
    this.processingDelay = options.processingDelay ?? 50;
    this.maxUploadBytes = options.maxUploadBytes ?? 200 * 1024 * 1024;
    this.maxText = options.maxText ?? 4000;
  }

  /** Simulates losing and regaining the network for every transport in a room. */
  static setOnline(room: string, online: boolean): void {
    roomNamed(room).setOnline(online);
  }

  /** Forgets a room's contents (tests). */
  static resetRoom(room: string): void {
    rooms.delete(room);
  }

  async connect(): Promise<Session> {
    this.check();
    return { user: this.user, name: this.userName };
  }

  async listMessages(conversation: string, options: ListOptions = {}): Promise<Page<Message>> {
    this.check(conversation);
    const { limit } = validateListOptions(options);
    const all = this.room.conversationMessages(conversation);
    const indexOf = (cursor: string) => {
      const index = all.findIndex((message) => message.id === cursor);
      if (index < 0)
        throw new ReelError('bad-request', `No message "${cursor}" in this conversation.`);
      return index;
    };
    let start: number;
    let end: number;
    let more: boolean;
    if (options.after !== undefined) {
      start = indexOf(options.after) + 1;
      end = Math.min(all.length, start + limit);
      more = end < all.length;
    } else {
      end = options.before !== undefined ? indexOf(options.before) : all.length;
      start = Math.max(0, end - limit);
      more = start > 0;
    }
    const items = all.slice(start, end).map((message) => structuredClone(message));
    const next =
      !more || items.length === 0
        ? null
        : options.after !== undefined
          ? items.at(-1)!.id
          : items[0].id;
    return { items, next };
  }

  async sendMessage(conversation: string, draft: MessageDraft): Promise<Message> {
    this.check(conversation);
    const clean = validateDraft(draft, this.maxText);
    const list = this.room.conversationMessages(conversation);
    const existing = list.find((m) => m.author === this.user && m.clientId === clean.clientId);
    if (existing) return structuredClone(existing);
    if (clean.video !== undefined) {
      const video = this.room.videos.get(clean.video);
      if (!video || video.conversation !== conversation || video.owner !== this.user) {
        throw new ReelError(
          'bad-request',
          'A video message needs one of your own uploads in this conversation.',
        );
      }
    }
    const message: Message = {
      id: nanoid(),
      conversation,
      clientId: clean.clientId,
      author: this.user,
      authorName: this.userName,
      ...(clean.video !== undefined ? { video: clean.video } : { text: clean.text }),
      createdAt: new Date().toISOString(),
    };
    list.push(message);
    this.room.publish(conversation, { type: 'message.created', message: structuredClone(message) });
    return structuredClone(message);
  }

  async upload(conversation: string, source: UploadSource, options: UploadOptions): Promise<Video> {
    this.check(conversation);
    validateId(options.clientId, 'clientId');
    if (options.type !== undefined && !options.type.startsWith('video/')) {
      throw new ReelError('bad-request', `Only video can be uploaded, not "${options.type}".`);
    }
    const key = `${this.user}\n${options.clientId}`;
    const done = this.room.uploads.get(key);
    if (done) return this.room.viewFor(this.room.videos.get(done)!, this.user);

    const blob = await readUploadSource(source, {
      signal: options.signal,
      maxBytes: this.maxUploadBytes,
      type: options.type,
      onProgress: options.onProgress,
    });
    throwIfAborted(options.signal);
    if (blob.size === 0) throw new ReelError('bad-request', 'The recording is empty.');

    const video: Video = {
      id: nanoid(),
      owner: this.user,
      conversation,
      state: 'processing',
      bytes: blob.size,
      duration: options.duration,
      mediaType: 'file',
      createdAt: new Date().toISOString(),
    };
    this.room.videos.set(video.id, video);
    this.room.uploads.set(key, video.id);
    this.room.publishVideo(video);
    setTimeout(() => {
      // Unsent while "converting": nothing comes back (as on the server).
      if (this.room.videos.get(video.id) !== video) return;
      // The room keeps the URL for as long as the page lives, as a server keeps the file.
      const url = URL.createObjectURL(blob);
      Object.assign(video, { state: 'ready', playlist: url, readyAt: new Date().toISOString() });
      this.room.publishVideo(video);
    }, this.processingDelay);
    return this.room.viewFor(video, this.user);
  }

  async getVideo(conversation: string, id: string): Promise<Video> {
    this.check(conversation);
    const video = this.room.videos.get(id);
    // Another member's clip not yet attached to a message is not found, as on the server.
    if (!video || video.conversation !== conversation || !this.room.canSee(video, this.user))
      throw new ReelError('not-found', `No video "${id}".`);
    return this.room.viewFor(video, this.user);
  }

  async listVideos(conversation: string, owner: string): Promise<Video[]> {
    this.check(conversation);
    const shared = this.room
      .conversationMessages(conversation)
      .filter((message) => message.author === owner && message.video !== undefined)
      .map((message) => this.room.videos.get(message.video!))
      .filter((video): video is Video => video?.state === 'ready');
    return [...new Map(shared.map((video) => [video.id, video])).values()].map((video) =>
      this.room.viewFor(video, this.user),
    );
  }

  async deleteMessage(conversation: string, id: string): Promise<void> {
    this.check(conversation);
    validateId(id, 'message');
    const list = this.room.conversationMessages(conversation);
    const index = list.findIndex((message) => message.id === id);
    if (index < 0) throw new ReelError('not-found', `No message "${id}" in this conversation.`);
    const message = list[index];
    if (message.author !== this.user)
      throw new ReelError('forbidden', 'Only its author can unsend a message.');
    if (message.deleted) return;
    // What is left keeps its place: id, author, time; the text or the clip is gone.
    const { text: _text, video, ...kept } = message;
    const deleted: Message = { ...kept, deleted: true, deletedAt: new Date().toISOString() };
    list[index] = deleted;
    if (video !== undefined) this.room.removeVideo(video);
    this.room.publish(conversation, { type: 'message.deleted', message: structuredClone(deleted) });
  }

  async markWatched(conversation: string, videoId: string): Promise<void> {
    validateId(videoId, 'video');
    // Not found for a clip the caller may not see, exactly as getVideo answers.
    const { owner } = await this.getVideo(conversation, videoId);
    const watchers = this.room.watched.get(videoId) ?? [];
    if (watchers.includes(this.user)) return;
    this.room.watched.set(videoId, [...watchers, this.user]);
    const watch = {
      video: videoId,
      conversation,
      user: this.user,
      watchedAt: new Date().toISOString(),
    };
    // To the owner, and to the watcher's other transports (their other devices).
    for (const audience of new Set([owner, this.user]))
      this.room.publish(conversation, { type: 'video.watched', watch }, audience);
  }

  subscribe(conversation: string, onEvent: (event: ReelEvent) => void): () => void {
    this.check(conversation);
    const listener: Listener = { user: this.user, conversation, onEvent };
    this.room.listeners.add(listener);
    this.ownListeners.add(listener);
    const state: ConnectionState = this.room.online ? 'online' : 'offline';
    later(() => {
      if (this.ownListeners.has(listener)) onEvent({ type: 'connection', state });
    });
    return () => {
      this.room.listeners.delete(listener);
      this.ownListeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const listener of this.ownListeners) this.room.listeners.delete(listener);
    this.ownListeners.clear();
  }

  private check(conversation?: string): void {
    if (this.closed) throw new ReelError('aborted', 'This transport has been closed.');
    if (conversation === undefined) return;
    validateId(conversation, 'conversation');
    if (this.conversations && !this.conversations.has(conversation)) {
      throw new ReelError(
        'forbidden',
        `${this.user} is not a member of conversation "${conversation}".`,
      );
    }
  }
}
