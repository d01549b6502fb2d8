// Runs in the benches' pages (bundled into them by bench/page.mjs, not run by Node): what
// their scripts wait with. Polls every few milliseconds, as the benches time what they wait
// for; on time-out it names what it waited for, and the recorder's state where there is one.
export function until(test, what, ms = 120000) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const poll = () => {
      const value = test();
      if (value) return resolve(value);
      if (performance.now() - started > ms) {
        const recorder = document.querySelector('reel-recorder');
        const state = recorder ? ` (state ${recorder.state})` : '';
        return reject(new Error(`timed out waiting for ${what}${state}`));
      }
      setTimeout(poll, 5);
    };
    poll();
  });
}
