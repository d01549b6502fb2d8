// reelchat: registers <reel-chat>, <reel-recorder> and <reel-player> (and <reel-clip>), and
// the `http` and `memory` transports. Up front it carries <reel-chat> alone; the rest loads
// on first use (src/internal/lazy-elements.ts, docs/design.md "What loads when"):
// - the recorder and the player when <reel-chat> opens one, or when one of their tags
//   appears in the document;
// - the `http` and `memory` transports when an element first asks for one by name.
// Their classes are exported by reelchat/recorder, reelchat/player and reelchat/transport;
// here only their types.
import { defineOnUse } from './internal/lazy-elements.js';

export * from './transport/types.js';
export { ReelError, type ReelErrorCode } from './transport/errors.js';
export { REEL_ERROR_CODES } from './transport/error-codes.js';
export { registerTransport, createTransport, hasTransport } from './transport/registry.js';
export type { HttpTransport, MemoryTransport, MemoryTransportOptions } from './transport/index.js';
export * from './chat/index.js';
export type { ReelRecorder, RecorderState, RecorderStrings } from './recorder/index.js';
export type { ReelPlayer, ReelClip, PlayerStrings } from './player/index.js';
export type { Clip, ReelEventDetails, ReelEventName } from './internal/events.js';

defineOnUse();
