// A take still recorded, for the player's browser tests: a fixture clip's segments revealed
// one by one into a growing EVENT playlist, as the reference server serves a live take
// (docs/protocol.md, "Live"), blocking reload included. Each `<session>` starts its own clock
// at its first request. `…/index.m3u8?every=<ms>` sets the pace (default 1500 ms a segment);
// `/__reelchat/live/<session>/cancel` withdraws it (404 from then on, as an unsent take).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixturesDir } from './fixtures.mjs';

const BLOCK_MS = 3000;
const PATH = /^\/__reelchat\/live\/([\w-]+)\/(?:(clip\d)\/index\.m3u8|(cancel))$/;

/** A Koa middleware (a plugin's `serve` cannot answer 404). */
export function livePlaylistMiddleware() {
  const sessions = new Map();
  const serve = async (context) => {
    const match = PATH.exec(context.path);
    if (!match) return undefined;
    const [, id, clip, cancel] = match;
    if (cancel) {
      sessions.set(id, { gone: true });
      return { body: '{}', type: 'application/json' };
    }
    let session = sessions.get(id);
    if (session?.gone) return { status: 404, body: 'gone' };
    if (!session) {
      const every = Number(context.query.every) || 1500;
      const text = await readFile(join(fixturesDir, 'hls', clip, 'index.m3u8'), 'utf8');
      session = { started: Date.now(), every, text, total: text.match(/^#EXTINF/gm).length };
      sessions.set(id, session);
    }
    const shown = () =>
      Math.min(session.total, 1 + Math.floor((Date.now() - session.started) / session.every));
    const msn = Number(context.query._HLS_msn);
    const until = Date.now() + BLOCK_MS;
    while (Number.isInteger(msn) && shown() <= msn && !session.gone && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (session.gone) return { status: 404, body: 'gone' };
    return {
      body: growing(session.text, shown(), `/test-fixtures/hls/${clip}/`),
      type: 'application/vnd.apple.mpegurl',
      headers: { 'Cache-Control': 'no-cache' },
    };
  };
  return async (context, next) => {
    const answer = await serve(context);
    if (!answer) return next();
    context.status = answer.status ?? 200;
    context.type = answer.type ?? 'text/plain';
    for (const [name, value] of Object.entries(answer.headers ?? {})) context.set(name, value);
    context.body = answer.body;
  };
}

/** The first `count` segments of a VOD playlist as an EVENT one; ended once all are in. */
function growing(text, count, base) {
  const out = [];
  let segments = 0;
  for (const line of text.split('\n')) {
    if (line === '#EXT-X-ENDLIST') continue;
    if (line.startsWith('#EXT-X-PLAYLIST-TYPE')) {
      out.push('#EXT-X-PLAYLIST-TYPE:EVENT');
      continue;
    }
    if (line.startsWith('#EXTINF') && segments === count) break;
    if (line && !line.startsWith('#')) segments++;
    out.push(line && !line.startsWith('#') ? base + line : line.replace('URI="', `URI="${base}`));
  }
  const total = text.match(/^#EXTINF/gm).length;
  if (count >= total) out.push('#EXT-X-ENDLIST');
  out.push('');
  return out.join('\n');
}
