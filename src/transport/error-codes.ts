export const REEL_ERROR_CODES = [
  'bad-request',
  'unauthorized',
  'forbidden',
  'not-found',
  'conflict',
  'too-large',
  'aborted',
  'network',
  'unsupported',
  'permission-denied',
  'no-device',
  'device-busy',
  'quota-exceeded',
  'media',
  'internal',
] as const;

export type ReelErrorCode = (typeof REEL_ERROR_CODES)[number];
