// Resumable uploads: tus 1.0 through @tus/server with our rules around it. We
// authenticate every request before tus sees it, check ownership of an upload from our own
// rows, validate metadata at creation (conversation membership, clientId, video/* type),
// keep one upload per (owner, clientId), and start the conversion when the last byte lands.
// Once an upload is complete its bytes go away after conversion, so HEAD/PATCH/DELETE of a
// complete upload are answered from our rows instead of by tus.
import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Server, type DataStore, type Upload } from '@tus/server';
import type { Identity } from '../auth/tokens.js';
import { isMember } from '../auth/tokens.js';
import { EXPOSE_HEADERS, type Cors } from '../http/cors.js';
import { codeForStatus, forbidden, HttpError, notFound, type ErrorCode } from '../http/errors.js';
import { isId, newId } from '../ids.js';
import { diskFullRefusal, isDiskFull, type DiskSpace } from '../media/disk-space.js';
import type { MediaStore } from '../media/store.js';
import { isDatabaseUnreachable } from '../store/pg-database.js';
import type { MessageStore, UploadRecord, UploadStore } from '../store/types.js';
import { UploadFileStore } from './file-store.js';
import type { LocalCopy } from './pg-upload-store.js';
import type { RateLimits } from '../limits/rate-limit.js';
import { UploadQuota, type UploadLimits } from './quota.js';

export const UPLOADS_PATH = '/v1/uploads';
const TUS_VERSION = '1.0.0';
/** An upload row this old without its bytes' record is left from a creation that failed. */
const ORPHAN_AFTER_MS = 5_000;
const VIDEO_TYPE = /^video\/[A-Za-z0-9.+-]+(\s*;.*)?$/;

/**
 * Where the bytes of unfinished uploads live: files in `directory` (UploadFileStore, the
 * default) or rows in PostgreSQL (PgUploadStore, scaled mode), which a worker copies to a
 * local file to convert (`copyToLocal`).
 */
export interface UploadBytes extends DataStore {
  /** Removes an upload's bytes; nothing there is fine. */
  discard(id: string): Promise<void>;
  /** Appends to `path` the bytes beyond its length (stores that are not local files). */
  copyToLocal?(id: string, path: string): Promise<LocalCopy>;
}

/** What a datastore is made with; `onTerminated` removes our rows on a tus DELETE. */
export interface UploadBytesSettings {
  directory: string;
  expiryMs: number;
  onTerminated(id: string): Promise<void>;
}

export interface UploadsOptions {
  /** The upload files (default store), or local copies of uploads kept elsewhere. */
  directory: string;
  /** Makes the datastore (default: UploadFileStore in `directory`). */
  datastore?: (settings: UploadBytesSettings) => UploadBytes;
  maxUploadBytes: number;
  expiryS: number;
  /**
   * The disk the upload files are on (the default store): creations and PATCHes are refused
   * with 507 before a byte is read when what they send would eat into its reserve.
   */
  disk?: DiskSpace;
  /** Per-user quotas (each 0 = no limit). */
  quota: Omit<UploadLimits, 'maxUploadBytes'>;
  /** Where the creation rate's buckets live (default: this process's memory). */
  rateLimits?: RateLimits;
  store: UploadStore & Pick<MessageStore, 'messageWithVideo'>;
  media: MediaStore;
  cors: Cors;
  /** Called when an upload completed and its conversion job was queued. */
  onQueued(videoId: string): void;
  /** Stops a running conversion (termination of a complete upload). */
  onTerminating(videoId: string): void;
  /**
   * Bytes of an unfinished deferred-length upload (a recording) were stored; called after
   * each PATCH that did not complete it. The live conversion reads them (convert/live.ts).
   */
  onWritten?(videoId: string, owner: string, live: boolean): void;
  /** An unfinished upload is being removed (terminated or expired). */
  onRemoving?(videoId: string): void;
  /**
   * Whether takes can be shared while recorded (`live` in Upload-Metadata). Scaled mode
   * cannot yet (docs/protocol.md, "Live"): there a `live` take is an ordinary recording.
   */
  liveSharing?: boolean;
  touchMember(identity: Identity, conversation: string): Promise<void>;
}

/** What our hooks need to know about the request tus is handling. */
interface RequestState {
  identity: Identity;
  /** The upload id from our route, checked for ownership (HEAD, PATCH, DELETE). */
  id?: string;
  createdId?: string;
  /** Ends the quota's reservation for this request's bytes. */
  release?: () => void;
  /** The size tus may let this upload reach, when the quota allows less than the limit… */
  maxSize?: number;
  /** …and the answer once it would pass that. */
  quotaRefusal?: HttpError;
  /** Our row of the unfinished upload this request resumes (HEAD, PATCH, DELETE). */
  unfinished?: UploadRecord;
}

export class Uploads {
  readonly datastore: UploadBytes;
  private readonly quota: UploadQuota;
  private readonly tus: Server;
  private readonly requests = new WeakMap<IncomingMessage, RequestState>();

  constructor(private readonly options: UploadsOptions) {
    const { store } = options;
    const settings: UploadBytesSettings = {
      directory: options.directory,
      expiryMs: options.expiryS * 1000,
      // Before tus answers 204: the clientId is free again, no local copy is left behind.
      onTerminated: async (id) => {
        await store.deleteUpload(id);
        await this.removeLocalCopy(id);
      },
    };
    this.datastore = options.datastore
      ? options.datastore(settings)
      : new UploadFileStore(settings.directory, settings.expiryMs, settings.onTerminated);
    this.quota = new UploadQuota(
      { ...options.quota, maxUploadBytes: options.maxUploadBytes },
      store,
      this.datastore,
      options.rateLimits,
    );
    this.tus = new Server({
      path: UPLOADS_PATH,
      datastore: this.datastore,
      // A deferred upload written without Content-Length may only grow as far as the quota allows.
      maxSize: (req) => this.requests.get(nodeOf(req).req)?.maxSize ?? options.maxUploadBytes,
      relativeLocation: true,
      allowedOrigins: (origin) => options.cors.isAllowed(origin),
      exposedHeaders: EXPOSE_HEADERS,
      namingFunction: () => newId(),
      // Only the id our route matched and checked: tus would take the last `/…` of the whole
      // URL, query included, so `/v1/uploads/<own>?x=/<victim>` would reach someone else's.
      getFileIdFromRequest: (req) => this.requests.get(nodeOf(req).req)?.id,
      onUploadCreate: (req, upload) => this.onCreate(req, upload),
      onUploadFinish: (_req, upload) => this.onFinish(upload),
      onResponseError: (req, error) => this.onError(req, error),
    });
  }

  /**
   * Where the bytes of an upload are on disk: the upload file itself, or — bytes kept
   * elsewhere — the local copy that `localInput` brings up to date.
   */
  path(id: string): string {
    return join(this.options.directory, id);
  }

  /** The local file with all bytes of the upload stored so far (copies what is new). */
  async localInput(id: string): Promise<string> {
    const path = this.path(id);
    await this.datastore.copyToLocal?.(id, path);
    return path;
  }

  /** Removes an upload's bytes, and their local copy when they are kept elsewhere. */
  async discard(id: string): Promise<void> {
    await this.datastore.discard(id);
    await this.removeLocalCopy(id);
  }

  /** A copy `localInput` made of bytes kept elsewhere (the default store's file is the bytes). */
  private async removeLocalCopy(id: string): Promise<void> {
    if (this.datastore.copyToLocal) await rm(this.path(id), { force: true });
  }

  /** POST /v1/uploads (creation) and OPTIONS (tus discovery). */
  async create(req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
    if (req.headers['upload-concat'] !== undefined) {
      // Not offered in Tus-Extension: a client that sends it anyway hears why, and no fault is logged.
      throw new HttpError(
        501,
        'This server does not support tus concatenation (Upload-Concat): send the file as one upload.',
        {},
        { code: 'unsupported' },
      );
    }
    await this.options.disk?.admit(headerNumber(req.headers['content-length']) ?? 0);
    const state: RequestState = { identity };
    this.requests.set(req, state);
    try {
      await this.tus.handle(req, res);
    } finally {
      state.release?.();
    }
  }

  async discovery(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await this.tus.handle(req, res);
  }

  /** HEAD, PATCH, DELETE /v1/uploads/:id — only by the uploader, while a member (but DELETE). */
  async resume(
    req: IncomingMessage,
    res: ServerResponse,
    identity: Identity,
    id: string,
  ): Promise<void> {
    if (!isId(id)) throw notFound('No such upload.');
    const upload = await this.options.store.getUpload(id);
    if (!upload) throw notFound('No such upload.');
    if (upload.owner !== identity.user) throw forbidden('This upload belongs to someone else.');
    // Someone who left the conversation may still remove their upload, not add to it.
    if (req.method !== 'DELETE' && !isMember(identity, upload.conversation)) {
      throw forbidden('You are no longer a member of this upload’s conversation.');
    }
    if (req.method === 'DELETE' && (await this.options.store.messageWithVideo(id))) {
      throw new HttpError(409, 'This video is attached to a message and cannot be removed.');
    }
    res.setHeader('Tus-Resumable', TUS_VERSION);
    if (upload.complete) await this.answerComplete(req, res, upload);
    else await this.resumeUnfinished(req, res, identity, upload);
  }

  /**
   * tus found no record of an unfinished upload (its 404), though our row's creation is long
   * past (not a record being made this moment: tus makes it just after our hook): our row
   * outlived a creation that failed — the database went away before onError could remove
   * it — and its clientId would answer 409 naming it for ever. Removed; true if so.
   */
  private async forgetNeverStored(upload: UploadRecord): Promise<boolean> {
    if (Date.now() - Date.parse(upload.createdAt) < ORPHAN_AFTER_MS) return false;
    await this.options.store.deleteUpload(upload.id);
    return true;
  }

  /** tus handles an unfinished upload, within the quota; the live conversion hears of bytes. */
  private async resumeUnfinished(
    req: IncomingMessage,
    res: ServerResponse,
    identity: Identity,
    upload: UploadRecord,
  ): Promise<void> {
    const id = upload.id;
    const state: RequestState = { identity, id, unfinished: upload };
    let deferred = false;
    if (req.method === 'PATCH') {
      // Refused before a byte is read; a chunked PATCH (no length) only needs the reserve.
      await this.options.disk?.admit(headerNumber(req.headers['content-length']) ?? 0);
      await this.dropRepeatedLength(req, id);
      const admitted = await this.quota.admitWrite(identity.user, id, {
        contentLength: headerNumber(req.headers['content-length']),
        declaredLength: headerNumber(req.headers['upload-length']),
      });
      state.release = admitted.release;
      state.maxSize = admitted.maxSize;
      state.quotaRefusal = admitted.refusal;
      deferred = admitted.deferred;
    }
    this.requests.set(req, state);
    try {
      await this.tus.handle(req, res);
    } finally {
      state.release?.();
    }
    // Still deferred unless this request declared the length; gone (404/410): nothing to say.
    if (
      req.method === 'PATCH' &&
      deferred &&
      req.headers['upload-length'] === undefined &&
      res.statusCode !== 404 &&
      res.statusCode !== 410
    ) {
      this.options.onWritten?.(id, upload.owner, upload.live);
    }
    if (req.method === 'DELETE') this.options.onRemoving?.(id);
  }

  /**
   * A PATCH that declares the length the upload already has. A deferred upload's last PATCH
   * declares it; when that request is cut (a reload) after the server took the length, the
   * client's resume declares it again — tus-js-client does — and tus refuses any length on
   * an upload that has one (400), though nothing is wrong: the take could never finish. The
   * same length is a repeat and is dropped; a different one still reaches tus, which refuses it.
   */
  private async dropRepeatedLength(req: IncomingMessage, id: string): Promise<void> {
    const declared = headerNumber(req.headers['upload-length']);
    if (declared === undefined) return;
    const info = await this.datastore.getUpload(id).catch(() => undefined);
    if (info?.size !== declared) return;
    delete req.headers['upload-length'];
    for (let i = req.rawHeaders.length - 2; i >= 0; i -= 2) {
      if (req.rawHeaders[i]!.toLowerCase() === 'upload-length') req.rawHeaders.splice(i, 2);
    }
  }

  /** A complete upload's bytes are gone: HEAD, PATCH and DELETE are answered from its row. */
  private async answerComplete(
    req: IncomingMessage,
    res: ServerResponse,
    upload: UploadRecord,
  ): Promise<void> {
    const size = upload.size ?? 0;
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'HEAD') {
      res.setHeader('Upload-Offset', size);
      res.setHeader('Upload-Length', size);
      res.statusCode = 200;
      res.end();
    } else if (req.method === 'PATCH') {
      if (Number(req.headers['upload-offset']) !== size) {
        throw new HttpError(409, `The upload is complete at offset ${size}.`);
      }
      if (Number(req.headers['content-length'] ?? 0) > 0) {
        throw new HttpError(413, 'The upload is already complete.');
      }
      res.setHeader('Upload-Offset', size);
      res.statusCode = 204;
      res.end();
    } else {
      await this.terminateComplete(upload.id);
      res.statusCode = 204;
      res.end();
    }
  }

  /** Removes unfinished uploads older than the expiry (their bytes and rows). */
  async removeStale(): Promise<number> {
    const cutoff = new Date(Date.now() - this.options.expiryS * 1000).toISOString();
    const stale = await this.options.store.staleUploads(cutoff);
    for (const upload of stale) {
      this.options.onRemoving?.(upload.id);
      await this.discard(upload.id);
      await this.options.store.expireUpload(upload.id, 'The upload was not finished in time.');
    }
    return stale.length;
  }

  private async terminateComplete(id: string): Promise<void> {
    this.options.onTerminating(id);
    await this.options.store.deleteUpload(id);
    await this.discard(id);
    await this.options.media.remove(id);
  }

  private async onCreate(
    req: Request,
    upload: Upload,
  ): Promise<{ metadata?: Record<string, string | null> }> {
    const state = this.stateOf(req);
    const { identity } = state;
    const meta = upload.metadata ?? {};
    const creation = creationMetadata(meta, upload, identity);
    const { conversation, clientId, filetype } = creation;
    const live = creation.live && this.options.liveSharing !== false;
    const node = nodeOf(req);
    // Data sent with a deferred creation counts now; its length must be known to count it.
    const withData = node.req.headers['content-type'] === 'application/offset+octet-stream';
    const dataLength = headerNumber(node.req.headers['content-length']);
    if (upload.size === undefined && withData && dataLength === undefined) {
      throw tusError(411, 'Data sent with a deferred-length creation needs a Content-Length.');
    }
    let admitted;
    try {
      admitted = await this.quota.admitCreation(
        identity.user,
        upload.id,
        upload.size ?? (withData ? dataLength! : 0),
        async () => {
          const result = await this.options.store.createUpload({
            id: upload.id,
            owner: identity.user,
            conversation,
            clientId,
            filetype,
            createdAt: new Date().toISOString(),
            live,
          });
          if (!result.created) {
            throw tusError(
              409,
              `This clientId already has upload ${result.existing}; resume that one.`,
              { upload: result.existing, location: `${UPLOADS_PATH}/${result.existing}` },
            );
          }
        },
      );
    } catch (error) {
      throw error instanceof HttpError ? asTusError(error, node.res) : error;
    }
    state.release = admitted.release;
    state.createdId = upload.id;
    await this.options.touchMember(identity, conversation);
    return {};
  }

  private async onFinish(upload: Upload): Promise<Record<string, never>> {
    const video = await this.options.store.completeUpload(upload.id, upload.size ?? upload.offset);
    if (video) this.options.onQueued(upload.id);
    return {};
  }

  /** Every tus error answers in our JSON shape; faults are logged. */
  private async onError(
    req: Request,
    error: unknown,
  ): Promise<{ status_code: number; body: string }> {
    const nodeReq = nodeOf(req);
    const state = this.requests.get(nodeReq.req);
    // A creation that failed after our rows were written: the client never got a Location.
    if (state?.createdId && req.method === 'POST') {
      await this.options.store.deleteUpload(state.createdId);
      await this.discard(state.createdId);
    }
    const { status_code, body } = error as { status_code?: number; body?: string };
    // PostgreSQL restarting or failing over (scaled mode): try again shortly, not a fault.
    if (typeof status_code !== 'number' && isDatabaseUnreachable(error)) {
      nodeReq.res.setHeader('Retry-After', '5');
      return asTusError(
        new HttpError(503, 'The database cannot be reached; please try again in a moment.'),
        nodeReq.res,
      );
    }
    // The disk (or SQLite's file) filled while writing: what reached the disk is the offset.
    if (typeof status_code !== 'number' && isDiskFull(error)) {
      return asTusError(diskFullRefusal(), nodeReq.res);
    }
    const status = typeof status_code === 'number' ? status_code : 500;
    if (status === 404 && state?.unfinished && (await this.forgetNeverStored(state.unfinished))) {
      return asTusError(notFound('This upload was never stored; create it again.'), nodeReq.res);
    }
    // The size tus enforced was the quota's (a deferred upload without Content-Length).
    if (status === 413 && state?.quotaRefusal) {
      return asTusError(state.quotaRefusal, nodeReq.res);
    }
    // 501: an extension we do not offer (e.g. concatenation) — the client's doing, not a fault.
    const fault = status >= 500 && status !== 501;
    if (fault) console.error('reelchat: upload request failed', error);
    nodeReq.res.setHeader('Content-Type', 'application/json; charset=utf-8');
    if (typeof body === 'string' && body.startsWith('{')) return { status_code: status, body };
    const message = fault
      ? 'The upload could not be stored.'
      : (body ?? String(error)).trim() || 'Upload error.';
    const code: ErrorCode = status === 501 ? 'unsupported' : codeForStatus(status);
    return { status_code: status, body: JSON.stringify({ error: { code, message } }) };
  }

  private stateOf(req: Request): RequestState {
    const state = this.requests.get(nodeOf(req).req);
    if (!state) throw tusError(401, 'A valid token is required.');
    return state;
  }
}

function nodeOf(req: Request): { req: IncomingMessage; res: ServerResponse } {
  return (req as unknown as { runtime: { node: { req: IncomingMessage; res: ServerResponse } } })
    .runtime.node;
}

/** A header's whole non-negative number, or undefined. */
function headerNumber(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Our error as tus answers it: the JSON body, and its headers (Retry-After) on the response. */
function asTusError(error: HttpError, res: ServerResponse) {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  return { status_code: error.status, body: JSON.stringify(error.toJSON()) };
}

/** @tus/server aborts a request with a thrown `{ status_code, body }`. */
function tusError(status: number, message: string, extra: Record<string, unknown> = {}) {
  return {
    status_code: status,
    body: JSON.stringify(new HttpError(status, message, extra).toJSON()),
  };
}

/** A creation's metadata, checked: who may create it, for what, of which kind. */
function creationMetadata(
  meta: Record<string, string | null | undefined>,
  upload: Upload,
  identity: Identity,
): { conversation: string; clientId: string; filetype: string; live: boolean } {
  const { conversation, clientId, filetype } = meta;
  if (!isId(conversation)) throw tusError(400, 'Upload-Metadata needs a valid "conversation".');
  if (!isMember(identity, conversation))
    throw tusError(403, 'You are not a member of this conversation.');
  if (!isId(clientId)) throw tusError(400, 'Upload-Metadata needs a valid "clientId".');
  if (typeof filetype !== 'string' || !VIDEO_TYPE.test(filetype)) {
    throw tusError(400, 'Only video files can be uploaded ("filetype" must be video/…).');
  }
  if (upload.size === 0) throw tusError(400, 'The file is empty.');
  // Shared while recorded (docs/protocol.md, "Live"): only a take whose length is not known yet.
  const live = meta.live !== undefined;
  if (live && upload.size !== undefined) {
    throw tusError(400, 'A live upload ("live" in Upload-Metadata) needs Upload-Defer-Length: 1.');
  }
  return { conversation, clientId, filetype, live };
}
