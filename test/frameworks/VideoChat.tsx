// The README's React example, compiled by `npm run test:types` against the generated types.
import { useCallback } from 'react';
import 'reelchat';
import type {} from 'reelchat/react';

export function VideoChat({ conversation, me, buddy }: Props) {
  const getToken = useCallback(() => fetch('/my/reelchat-token').then((r) => r.text()), []);
  return (
    <reel-chat
      transport="http"
      endpoint="https://video.example.com"
      conversation={conversation}
      user={me}
      buddy={buddy.id}
      buddy-name={buddy.name}
      getToken={getToken}
      onreel-error={(e) => console.warn(e.detail.error.code, e.detail.error.message)}
    />
  );
}

interface Props {
  conversation: string;
  me: string;
  buddy: { id: string; name: string };
}
