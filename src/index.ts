// reelchat: registers <reel-chat>, <reel-recorder> and <reel-player>, and the
// `http` and `memory` transports.
export * from './transport/index.js';
export * from './chat/index.js';
export * from './recorder/index.js';
export * from './player/index.js';
export type { Clip, ReelEventDetails, ReelEventName } from './internal/events.js';
