// What the React types must refuse: each line below is an error, or tsc fails.
import type {} from 'reelchat/react';

export const refused = (
  <>
    {/* @ts-expect-error a misspelled attribute */}
    <reel-chat conversaton="c42" />
    {/* @ts-expect-error the wrong detail type for an event */}
    <reel-player onreel-ended={(e: CustomEvent<{ index: string }>) => e.detail.index} />
    {/* @ts-expect-error a number where the element wants a string */}
    <reel-player owner={42} />
    {/* @ts-expect-error a property the element does not have */}
    <reel-recorder getTokn={() => 't'} />
    {/* @ts-expect-error a listener of the wrong shape */}
    <reel-recorder onreel-upload-complete={(e: CustomEvent<string>) => e.detail.length} />
  </>
);

export const accepted = (
  <reel-player
    owner="bob"
    autoplay
    muted
    playback-rate={1.5}
    clips={[{ id: 'a', src: '/media/a/index.m3u8' }]}
    onreel-clip-change={(e) => e.detail.index + 1}
    onreel-ended={(e) => e.detail.count}
  />
);
