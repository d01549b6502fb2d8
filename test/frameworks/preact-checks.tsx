// The Preact typings: accepted and refused uses (each @ts-expect-error must be an error).
import type {} from 'reelchat/preact';

export const accepted = (
  <reel-chat
    transport="http"
    endpoint="https://video.example.com"
    conversation="c42"
    buddy="bob"
    buddy-name="Bob"
    getToken={() => 'token'}
    onreel-message={(e) => e.detail.message.id}
  />
);

export const refused = (
  <>
    {/* @ts-expect-error a misspelled attribute */}
    <reel-chat conversaton="c42" />
    {/* @ts-expect-error the wrong detail type for an event */}
    <reel-player onreel-ended={(e: CustomEvent<{ index: string }>) => e.detail.index} />
  </>
);
