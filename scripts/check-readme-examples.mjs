// The README's React and Vue examples must be the files `npm run test:types` compiles, so
// what a newcomer copies is known to type-check.
import { readFileSync } from 'node:fs';

const readme = readFileSync('README.md', 'utf8');
const examples = {
  'test/frameworks/VideoChat.tsx': (text) => text.split('\n').slice(1).join('\n'),
  'test/frameworks/VideoChat.vue': (text) => text.slice(text.indexOf('<script')),
};
let stale = 0;
for (const [file, body] of Object.entries(examples)) {
  const code = body(readFileSync(file, 'utf8')).trim();
  if (!readme.includes(code)) {
    console.error(`README.md does not show ${file} as it is: copy the file into the README.`);
    stale++;
  }
}
if (stale) process.exit(1);
console.log('README examples match test/frameworks/.');
