// The Solid typings: attributes on the tag, `prop:` for properties, `on:` for events.
import type {} from 'reelchat/solid';

export const accepted = (
  <reel-player
    owner="bob"
    autoplay
    prop:clips={[{ id: 'a', src: '/media/a/index.m3u8' }]}
    on:reel-clip-change={(e) => e.detail.clip.id}
  />
);

export const refused = (
  <>
    {/* @ts-expect-error a misspelled attribute */}
    <reel-chat conversaton="c42" />
    {/* @ts-expect-error the wrong detail type for an event */}
    <reel-player on:reel-ended={(e: CustomEvent<{ index: string }>) => e.detail.index} />
  </>
);
