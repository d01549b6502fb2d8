/**
 * Which of a buddy's clips this person has watched, per conversation, kept in localStorage
 * so the reel starts at the first new clip next time. Storage failures (private mode, quota)
 * only cost the memory, never the chat.
 */
const PREFIX = 'reelchat:watched:';
const LIMIT = 500;

function keyOf(user: string, conversation: string, buddy: string): string {
  return `${PREFIX}${user}:${conversation}:${buddy}`;
}

export function loadWatched(user: string, conversation: string, buddy: string): Set<string> {
  try {
    const raw = localStorage.getItem(keyOf(user, conversation, buddy));
    const list: unknown = raw ? JSON.parse(raw) : [];
    return new Set(
      Array.isArray(list) ? list.filter((id): id is string => typeof id === 'string') : [],
    );
  } catch {
    return new Set();
  }
}

export function saveWatched(
  user: string,
  conversation: string,
  buddy: string,
  ids: Set<string>,
): void {
  try {
    // The newest ids are enough: older clips are behind the first unwatched one anyway.
    const list = [...ids].slice(-LIMIT);
    localStorage.setItem(keyOf(user, conversation, buddy), JSON.stringify(list));
  } catch {
    // Not remembered; the reel starts from the beginning next time.
  }
}
