// Takes the README's picture of the demo: the real server, both dialogs, a little chat
// with one clip. Needs a build (npm run build). `node scripts/screenshot-demo.mjs [out.png]`
import { chromium } from 'playwright-core';
import { chromiumArgs, requireChromium } from './chromium.mjs';
import { startReferenceServer } from './reference-server.mjs';

const out = process.argv[2] ?? 'docs/demo.png';
const server = await startReferenceServer({ args: ['--demo'] });
const browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs });
try {
  const page = await browser.newPage({
    viewport: { width: 1100, height: 900 },
    deviceScaleFactor: 1,
  });
  await page.goto(`${server.url}/?conversation=readme`);
  const alice = page.locator('reel-chat#alice');
  const bob = page.locator('reel-chat#bob');
  const say = async (chat, text) => {
    await chat.locator('[part~="input"]').fill(text);
    await chat.locator('[part~="input"]').press('Enter');
  };
  await alice.locator('[part~="input"]').waitFor();
  await say(alice, 'Hi Bob! Look where I am:');
  await alice.locator('[part~="composer"] [part~="record-button"]').click();
  const recorder = alice.locator('reel-recorder');
  await page.locator('reel-recorder[state="previewing"]').waitFor({ timeout: 15_000 });
  await recorder.locator('[part~="record-button"]').click();
  await page.waitForTimeout(3000);
  await recorder.locator('[part~="stop-button"]').click();
  await page.locator('reel-recorder[state="reviewing"]').waitFor();
  await recorder.locator('[part~="send-button"]').click();
  await recorder.waitFor({ state: 'hidden', timeout: 30_000 });
  await bob.locator('[part~="play-button"]').first().waitFor({ timeout: 60_000 });
  await say(bob, 'Wow, nice! Sending one back later — https://example.com/plans');
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out, fullPage: false });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.stop();
}
