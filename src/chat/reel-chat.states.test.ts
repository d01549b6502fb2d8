// <reel-chat> saying honestly what happened: a paste cut to the longest message (never
// splitting an emoji), and no "Play all" of a buddy without clips (reel-chat.video.test.ts).
import { expect } from '@open-wc/testing';
import './index.js';
import { cutToGraphemes } from './graphemes.js';
import { newRoom, resetRooms, $, input, mount } from './reel-chat.fixtures.js';

afterEach(resetRooms);

function paste(field: HTMLTextAreaElement, text: string): boolean {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  const event = new ClipboardEvent('paste', { bubbles: true, cancelable: true, composed: true });
  // Firefox drops `clipboardData` from the event's init: given as the browser would give it.
  Object.defineProperty(event, 'clipboardData', { value: data });
  return field.dispatchEvent(event);
}

describe('<reel-chat> honest states', () => {
  it('cuts a long paste to max-length at a whole emoji and says so', async () => {
    const el = await mount({ user: 'alice', room: newRoom() });
    const field = input(el);
    field.focus();
    // 3999 letters, then a thumbs-up with a skin tone (4 code units) that does not fit whole.
    const long = `${'a'.repeat(3999)}👍🏽${'b'.repeat(997)}`;
    expect(long.length).to.equal(5000);
    expect(paste(field, long)).to.equal(false);
    await el.updateComplete;
    expect(field.value).to.equal('a'.repeat(3999));
    expect($(el, '[part~="counter"]')!.textContent).to.contain(
      'The pasted text was cut to 4,000 characters',
    );
    await expect(el).to.be.accessible();
    // The next edit takes the notice away.
    field.value += '!';
    field.dispatchEvent(new Event('input', { bubbles: true }));
    await el.updateComplete;
    expect($(el, '[part~="counter"]')!.textContent).not.to.contain('cut');
  });

  it('lets a paste that fits through untouched', async () => {
    const el = await mount({ user: 'alice', room: newRoom() });
    expect(paste(input(el), 'short 👍🏽')).to.equal(true);
  });

  it('never splits a grapheme when cutting', () => {
    expect(cutToGraphemes('ab👍🏽c', 3)).to.equal('ab');
    expect(cutToGraphemes('ab👍🏽c', 6)).to.equal('ab👍🏽');
    expect(cutToGraphemes('e\u0301e\u0301', 3)).to.equal('e\u0301');
    expect(cutToGraphemes('short', 10)).to.equal('short');
  });
});
