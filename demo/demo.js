// The demo asks the reference server's dev-only token route for Alice's and Bob's tokens,
// one per conversation. A real site signs tokens on its own backend (docs/embedding.md).
// getToken is set before the library loads, so the first request already has it.
//
// `?as=alice` keeps only Alice's dialog (one person per browser, as the end-to-end test
// runs it); `?conversation=…` picks another conversation than "demo". Takes are shared live
// (`live` on each dialog: the buddy watches while they are recorded); `?live=off` sends them
// when done, the library's default, as the end-to-end tests of that path need.
const params = new URLSearchParams(location.search);
const only = params.get('as');
const conversation = params.get('conversation') || 'demo';

for (const chat of document.querySelectorAll('reel-chat')) {
  const user = chat.getAttribute('user');
  if (only && user !== only) {
    chat.closest('section')?.remove();
    continue;
  }
  const name = user[0].toUpperCase() + user.slice(1);
  chat.setAttribute('conversation', conversation);
  if (params.get('live') === 'off') chat.removeAttribute('live');
  // Asked with the conversation the element needs a token for: the token names only that
  // one, so it stays small however many conversations a person is in.
  chat.getToken = async (request) => {
    const query = new URLSearchParams({ user, name, conversation: request.conversation });
    const response = await fetch(`/v1/dev/token?${query}`);
    if (!response.ok)
      throw new Error(`No dev token (${response.status}): start the server with npm start.`);
    return (await response.json()).token;
  };
}
await import('/dist/cdn/reelchat.js');
