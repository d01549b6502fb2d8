// Decides the container from the file's own first bytes, before any tool runs. The answer
// is then forced on ffprobe and ffmpeg (-f), so they never guess the format from content:
// guessing is what lets a playlist or concat script saved as .webm open other files.
import { open } from 'node:fs/promises';
import { ConvertError } from './errors.js';

/** The containers a recorder produces, by ffmpeg demuxer name. */
export type Container = 'matroska' | 'mov';

const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];
const EBML_DOCTYPE_ID = 0x4282;
const HEAD_BYTES = 64;

export async function sniffContainer(path: string): Promise<Container> {
  const head = await readHead(path);
  if (head.length === 0) throw new ConvertError('The file is empty');
  if (startsWith(head, EBML_MAGIC)) {
    const docType = ebmlDocType(head);
    if (docType === 'webm' || docType === 'matroska') return 'matroska';
    throw new ConvertError('Not a video file (unknown EBML document type)');
  }
  // ISO BMFF (mp4, mov, 3gp): a box named 'ftyp' first, its type at offset 4.
  if (head.length >= 8 && head.toString('latin1', 4, 8) === 'ftyp') return 'mov';
  throw new ConvertError('Not a video file (only WebM, Matroska, MP4 and MOV are accepted)');
}

async function readHead(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function startsWith(buffer: Buffer, bytes: number[]): boolean {
  return bytes.every((byte, i) => buffer[i] === byte);
}

/**
 * Reads the DocType out of the EBML header (magic, size, then child elements), so a file
 * that only borrows the magic bytes is turned away here. Undefined when it is not there.
 */
function ebmlDocType(head: Buffer): string | undefined {
  const headerSize = readVint(head, EBML_MAGIC.length);
  if (!headerSize) return undefined;
  const end = Math.min(head.length, headerSize.next + headerSize.value);
  let at = headerSize.next;
  while (at < end) {
    const id = readElementId(head, at);
    if (!id) return undefined;
    const size = readVint(head, id.next);
    if (!size || size.next + size.value > head.length) return undefined;
    if (id.value === EBML_DOCTYPE_ID) {
      return head.toString('latin1', size.next, size.next + size.value).replace(/\0+$/, '');
    }
    at = size.next + size.value;
  }
  return undefined;
}

/** An EBML variable-length integer: the leading zero bits give its length; marker removed. */
function readVint(buffer: Buffer, at: number): { value: number; next: number } | undefined {
  const length = vintLength(buffer[at]);
  if (length === 0 || length > 8 || at + length > buffer.length) return undefined;
  let value = buffer[at] & (0xff >> length);
  for (let i = 1; i < length; i++) value = value * 256 + buffer[at + i];
  return { value, next: at + length };
}

/** An element ID is a vint whose marker bit is kept (0x4282 is DocType). At most 4 bytes. */
function readElementId(buffer: Buffer, at: number): { value: number; next: number } | undefined {
  const length = vintLength(buffer[at]);
  if (length === 0 || length > 4 || at + length > buffer.length) return undefined;
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + buffer[at + i];
  return { value, next: at + length };
}

function vintLength(first: number | undefined): number {
  if (!first) return 0;
  return Math.clz32(first) - 23;
}
