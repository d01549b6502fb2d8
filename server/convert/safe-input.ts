// The input options every ffprobe and ffmpeg run gets, so that the uploaded file is the
// only thing they read:
// - the container is forced (-f) from the file's own magic bytes, so no content-guessing
//   demuxer (hls, concat, image2, …) ever sees the file and follows what it names;
// - only the file protocol is allowed, and the input is an absolute file: URL, so no
//   network fetch and no protocol prefix hidden in a file name;
// - for MP4/MOV, external data references (drefs) are not followed.
import { isAbsolute } from 'node:path';
import type { Container } from './sniff.js';

export function safeInputArgs(container: Container, absolutePath: string): string[] {
  if (!isAbsolute(absolutePath)) throw new Error(`Input path must be absolute: ${absolutePath}`);
  const movOptions = container === 'mov' ? ['-enable_drefs', '0', '-use_absolute_path', '0'] : [];
  return [
    '-protocol_whitelist',
    'file',
    '-f',
    container,
    ...movOptions,
    '-i',
    `file:${absolutePath}`,
  ];
}

/**
 * The same rules for an input fed on stdin (the live conversion, reading an upload as its
 * bytes arrive): the same forced container and MP4 options, and only the pipe protocol, so
 * not even a file can be opened.
 */
export function safePipeInputArgs(container: Container): string[] {
  const movOptions = container === 'mov' ? ['-enable_drefs', '0', '-use_absolute_path', '0'] : [];
  return ['-protocol_whitelist', 'pipe', '-f', container, ...movOptions, '-i', 'pipe:0'];
}
