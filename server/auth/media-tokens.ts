// Signed media URLs: native HLS (Safari, iOS) cannot send an Authorization header, so the
// playlist and poster URLs carry `?t=<exp>.<mac>`, an HMAC of the video id and expiry with a
// server key. One token covers every file of one video, so the playlist passes it on.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class MediaSigner {
  constructor(
    private readonly key: Buffer,
    private readonly ttlS: number,
  ) {}

  sign(videoId: string, now = Date.now()): string {
    // Round the expiry up to the minute so repeated listings hand out the same URL
    // (cache friendly) while keeping at least ttl seconds of validity.
    const exp = Math.ceil((now / 1000 + this.ttlS) / 60) * 60;
    return `${exp}.${this.mac(videoId, exp)}`;
  }

  verify(videoId: string, token: string, now = Date.now()): boolean {
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return false;
    const exp = Number(match[1]);
    if (exp * 1000 < now) return false;
    const expected = Buffer.from(this.mac(videoId, exp));
    const given = Buffer.from(match[2]!);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private mac(videoId: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${videoId}.${exp}`).digest('base64url');
  }
}
