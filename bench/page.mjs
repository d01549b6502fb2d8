// What the browser benchmarks share: the bench page (an entry bundled from the sources by
// esbuild and served on loopback) and a camera that films something like a real scene.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `entry`'s source bundled for the browser, with the elements' definitions kept. */
export async function bundlePage(entry) {
  const result = await build({
    stdin: { contents: entry, resolveDir: root, loader: 'js' },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    tsconfig: join(root, 'tsconfig.json'),
    conditions: ['browser', 'production'],
    // package.json's "sideEffects" names dist/ files only; the sources' element definitions count.
    ignoreAnnotations: true,
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

/** Serves `/` (a page loading /bench.js) and `/bench.js` on loopback; resolves to its origin. */
export async function servePage(script, title = 'bench') {
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title>
<body><script type="module" src="/bench.js"></script></body>`;
  const server = createServer((req, res) => {
    if (req.url === '/bench.js') res.writeHead(200, { 'Content-Type': 'text/javascript' });
    else if (req.url === '/' || req.url === '/index.html')
      res.writeHead(200, { 'Content-Type': 'text/html' });
    else return void res.writeHead(404).end();
    res.end(req.url === '/bench.js' ? script : html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/**
 * A y4m file for Chromium's `--use-file-for-fake-video-capture` (it loops it): 1280×720 at 30
 * fps, a moving test pattern with temporal noise, which an encoder cannot squeeze the way it
 * squeezes Chromium's own fake camera (a few hundred kbit/s where a real camera needs
 * megabits). Made once under bench/out/.
 */
export async function realisticCamera() {
  const path = join(root, 'bench/out/camera-720p-noise.y4m');
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  await promisify(execFile)('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i'],
    'testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t',
    ...['-t', '4', '-pix_fmt', 'yuv420p', '-y', path],
  ]);
  return path;
}
