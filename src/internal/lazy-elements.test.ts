// `import 'reelchat'` defines <reel-chat> at once and the recorder and the player when one of
// their tags first appears in the document (the root entry's lazy registration).
import { expect } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import '../index.js';

/** Resolves when the tag is defined, or fails after `ms`. */
function defined(tag: string, ms = 10_000): Promise<CustomElementConstructor> {
  return Promise.race([
    customElements.whenDefined(tag),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${tag} was never defined`)), ms),
    ),
  ]);
}

describe("import 'reelchat'", () => {
  it('defines <reel-chat> at once, the player and the recorder only when used', async () => {
    expect(customElements.get('reel-chat')).to.not.equal(undefined);
    // Nothing on the page uses them yet: their code has not loaded.
    expect(customElements.get('reel-player')).to.equal(undefined);
    expect(customElements.get('reel-recorder')).to.equal(undefined);

    // Made by script, given its clips before its code is in, then put in the page.
    const player = document.createElement('reel-player') as HTMLElement & {
      clips: { id: string; src: string }[];
    };
    const clips = [{ id: 'a', src: '/test-fixtures/video/sample.webm', type: 'file' as const }];
    player.clips = clips;
    document.body.append(player);
    await defined('reel-player');
    await waitUntil(() => player.shadowRoot, 'the player did not upgrade');
    expect(player.clips).to.deep.equal(clips);
    expect(customElements.get('reel-clip')).to.not.equal(undefined);
    // The recorder's code is still not needed.
    expect(customElements.get('reel-recorder')).to.equal(undefined);
    player.remove();

    // In markup, deeper in the tree.
    const box = document.createElement('div');
    box.innerHTML = '<section><reel-recorder></reel-recorder></section>';
    document.body.append(box);
    await defined('reel-recorder');
    const recorder = box.querySelector('reel-recorder') as HTMLElement & { state: string };
    await waitUntil(() => recorder.state === 'idle', 'the recorder did not upgrade');
    box.remove();
  });
});
