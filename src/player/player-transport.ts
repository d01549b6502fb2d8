import type { ReactiveController } from 'lit';
import type { Clip } from '../internal/events.js';
import { TransportController } from '../internal/transport-controller.js';
import { ReelError } from '../transport/errors.js';
import type { ReelEvent, ReelTransport, Video } from '../transport/types.js';
import type { ReelPlayer } from './reel-player.js';

/** What the transport mode tells `<reel-player>`. */
export interface TransportClipsPort {
  /** The owner's ready clips, in order (new ones appended as they become ready). */
  clips(): Clip[];
  setClips(clips: Clip[]): void;
  fail(error: ReelError): void;
}

/**
 * `<reel-player>`'s transport mode, loaded only when the element is given a transport: owns
 * the transport, lists the owner's shared clips in the conversation and appends new ones as
 * they become ready.
 */
export class TransportClips implements ReactiveController {
  private readonly controller: TransportController;
  private unsubscribe?: () => void;
  private readonly pendingVideos = new Set<string>();
  private listGeneration = 0;
  /** The conversation and owner the clips were listed for. */
  private listedFor?: string;

  constructor(
    private readonly host: ReelPlayer,
    private readonly port: TransportClipsPort,
  ) {
    this.controller = new TransportController(
      host,
      (transport) => void this.list(transport),
      (error) => port.fail(error),
    );
    host.addController(this);
  }

  get transport(): ReelTransport | undefined {
    return this.controller.transport;
  }

  /** Lists again if the conversation or owner changed (the element calls it as it updates). */
  refresh(): void {
    const transport = this.controller.transport;
    const { conversation, owner } = this.host;
    if (transport && this.listedFor !== undefined && this.listedFor !== `${conversation}\n${owner}`)
      void this.list(transport);
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private async list(transport: ReelTransport): Promise<void> {
    const { port } = this;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const { conversation, owner } = this.host;
    const key = `${conversation}\n${owner}`;
    if (key !== this.listedFor) {
      port.setClips([]);
      this.pendingVideos.clear();
    }
    this.listedFor = key;
    if (!conversation || !owner) {
      port.fail(
        new ReelError(
          'bad-request',
          'reel-player needs conversation and owner attributes to list clips from a transport.',
        ),
      );
      return;
    }
    const generation = ++this.listGeneration;
    try {
      this.unsubscribe = transport.subscribe(conversation, (event) => {
        if (generation === this.listGeneration) this.onEvent(transport, event);
      });
      const videos = await transport.listVideos(conversation, owner);
      if (generation !== this.listGeneration) return;
      const listed = videos.map(toClip).filter((clip): clip is Clip => !!clip);
      const extra = port.clips().filter((clip) => !listed.some((c) => c.id === clip.id));
      port.setClips([...listed, ...extra]);
    } catch (error) {
      if (generation === this.listGeneration) port.fail(ReelError.from(error, 'network'));
    }
  }

  private onEvent(transport: ReelTransport, event: ReelEvent): void {
    const { conversation, owner } = this.host;
    if (!conversation || !owner) return;
    if (event.type === 'message.created' && event.message.author === owner && event.message.video) {
      const id = event.message.video;
      this.pendingVideos.add(id);
      transport.getVideo(conversation, id).then(
        (video) => this.add(video),
        (error: unknown) => this.port.fail(ReelError.from(error, 'network')),
      );
    } else if (
      event.type === 'video.updated' &&
      event.video.owner === owner &&
      this.pendingVideos.has(event.video.id)
    ) {
      this.add(event.video);
    }
  }

  private add(video: Video): void {
    const clip = toClip(video);
    if (!clip || this.port.clips().some((c) => c.id === clip.id)) return;
    this.pendingVideos.delete(video.id);
    this.port.setClips([...this.port.clips(), clip]);
  }
}

function toClip(video: Video): Clip | undefined {
  if (video.state !== 'ready' || !video.playlist) return undefined;
  return {
    id: video.id,
    src: video.playlist,
    type: video.mediaType ?? 'hls',
    poster: video.poster,
    owner: video.owner,
    duration: video.duration,
    createdAt: video.createdAt,
  };
}
