// The host page's own script for e2e/csp.test.ts, served from the page's origin (its policy
// allows no inline script). It records what the page sees — every securitypolicyviolation,
// every console error, the elements' events — then loads the CDN build, and puts elements on
// the page when the test asks (`host.add`), each with a `getToken` of the API's dev tokens.

export interface HostLog {
  ready: boolean;
  loaded: boolean;
  loadError?: string;
  /** The engine has Trusted Types (and so enforces `require-trusted-types-for`). */
  trustedTypes: boolean;
  violations: { directive: string; blocked: string; sample: string }[];
  errors: string[];
  events: { type: string; detail?: string }[];
}

/** The script's text, for the API at `api`. */
export function hostScript(api: string): string {
  return `
const api = ${JSON.stringify(api)};
const log = {
  ready: false,
  loaded: false,
  trustedTypes: typeof window.trustedTypes !== 'undefined',
  violations: [],
  errors: [],
  events: [],
};
document.addEventListener('securitypolicyviolation', (e) =>
  log.violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample }),
);
const consoleError = console.error.bind(console);
console.error = (...args) => {
  log.errors.push(args.map(String).join(' '));
  consoleError(...args);
};
window.addEventListener('error', (e) => log.errors.push('uncaught: ' + e.message));
for (const type of ['reel-error', 'reel-ended', 'reel-clip-change', 'reel-message'])
  document.addEventListener(type, (e) =>
    log.events.push({ type, detail: e.detail?.error ? String(e.detail.error.message) : undefined }),
  );

async function token(user, conversation) {
  const query = new URLSearchParams({ user, name: user, conversations: conversation });
  const response = await fetch(api + '/v1/dev/token?' + query);
  return (await response.json()).token;
}

function add(kind, attributes) {
  const el = document.createElement(kind);
  el.setAttribute('transport', 'http');
  el.setAttribute('endpoint', api);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  el.getToken = () => token(attributes.user, attributes.conversation);
  // Through the CSSOM: the policy allows no style attribute in markup.
  el.style.display = 'block';
  el.style.width = '480px';
  if (kind === 'reel-chat') el.style.height = '640px';
  document.body.append(el);
  return el;
}

window.host = { log, add };
log.ready = true;
import('/lib/reelchat.js').then(
  () => (log.loaded = true),
  (error) => (log.loadError = String(error && error.message ? error.message : error)),
);
`;
}
