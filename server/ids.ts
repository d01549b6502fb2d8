// Ids that reach the file system or a database key: conversations, users, client ids,
// videos. One pattern for all, so no id can carry a path separator, a dot-dot or a NUL.
import { nanoid } from 'nanoid';

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** A new random id (nanoid: 21 characters of A–Z a–z 0–9 _ -). */
export function newId(): string {
  return nanoid();
}
