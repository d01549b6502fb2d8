// reelchat/chat: the <reel-chat> element. What it shows later loads when first needed: the
// recorder and the player when the person opens one (src/internal/lazy-elements.ts), the
// shipped transports (`http`, `memory`) when the chat first asks for one by name
// (src/internal/transport-controller.ts).
import { defineElement } from '../internal/define.js';
import { ReelChat } from './reel-chat.js';

export { ReelChat } from './reel-chat.js';
export { chatStrings, type ChatStrings } from './strings.js';
export { linkify, safeHref, type TextPart } from './linkify.js';

defineElement('reel-chat', ReelChat);

declare global {
  interface HTMLElementTagNameMap {
    'reel-chat': ReelChat;
  }
}
