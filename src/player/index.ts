// reelchat/player: <reel-player> and <reel-clip>.
import { defineElement } from '../internal/define.js';
import { ReelClip } from './reel-clip.js';
import { ReelPlayer } from './reel-player.js';

export { ReelPlayer, ReelClip };
export { playerStrings, type PlayerStrings } from './strings.js';
export type { Clip } from '../internal/events.js';

defineElement('reel-player', ReelPlayer);
defineElement('reel-clip', ReelClip);

declare global {
  interface HTMLElementTagNameMap {
    'reel-player': ReelPlayer;
    'reel-clip': ReelClip;
  }
}
