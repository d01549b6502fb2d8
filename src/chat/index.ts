// reelchat/chat: the <reel-chat> element.
import { defineElement } from '../internal/define.js';
// Registers the shipped transports, so transport="http" and transport="memory" work.
import '../transport/index.js';
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
