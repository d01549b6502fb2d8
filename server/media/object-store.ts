// An object store (a bucket): the small surface the server needs from S3 or a look-alike.
// S3ObjectStore is the one implementation; nothing else in the server talks S3.
import type { Readable } from 'node:stream';

/** Inclusive byte offsets, as in an HTTP Range header. */
export type ObjectRange = { start: number; end: number };

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface StoredObject {
  body: Readable;
  /** The whole object's size (also when only a range was asked for). */
  size: number;
  contentType: string | undefined;
  /** The range the body holds, when one was asked for. */
  range?: ObjectRange;
}

export interface PutOptions {
  contentType: string;
  /** Required with a stream body (the store needs the length up front, nothing is buffered). */
  contentLength?: number;
}

export interface ObjectStore {
  /**
   * A stream body is given as a function that opens it, so a retried attempt reads it again
   * from the start.
   */
  put(key: string, body: Buffer | (() => Readable), options: PutOptions): Promise<void>;
  /** The object or a range of it; undefined when there is no such object. */
  get(key: string, range?: ObjectRange): Promise<StoredObject | undefined>;
  head(key: string): Promise<{ size: number; contentType: string | undefined } | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Deletes every object whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Resolves when the bucket answers (for /readyz); rejects otherwise. */
  ping(): Promise<void>;
  /** Creates the bucket unless it exists. */
  ensureBucket(): Promise<void>;
  close(): void;
}
