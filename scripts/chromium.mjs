// One place for how tests, benchmarks and the demo start Chromium here.
import { existsSync } from 'node:fs';

export const chromiumPath =
  process.env.CHROME_PATH ||
  ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) =>
    existsSync(p),
  );

/** Flags for headless runs as root on a closed network, with a fake camera and microphone. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

export function requireChromium() {
  if (!chromiumPath) {
    throw new Error(
      'No Chromium found. Install it (Debian: apt-get install chromium) or set CHROME_PATH.',
    );
  }
  return chromiumPath;
}
