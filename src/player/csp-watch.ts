/**
 * The page's Content-Security-Policy, as it bears on the elements: while a player works, a
 * `securitypolicyviolation` that blocks something of its own (its media, the clips' or the
 * API's origin, a Trusted Types policy) is explained in the console — which directive, and
 * what to add to it — and handed to the player it concerns, which shows it. A host that
 * forgets a line gets told which, instead of a reel that silently does not play.
 */

/** What a violation blocked and what the policy lacks, in the words of the policy. */
export interface Blocked {
  /** The directive that refused, e.g. `media-src`, `connect-src`, `trusted-types`. */
  directive: string;
  /** What to add to it: `blob:`, an origin, a policy name. */
  missing: string;
  /** `media-src blob:` — the line to add, as one reads it in a policy. */
  line: string;
}

export interface PolicyWatcher {
  /** True when the violation blocked something of this watcher's. */
  owns(event: SecurityPolicyViolationEvent, blocked: Blocked): boolean;
  blocked(blocked: Blocked): void;
}

const watchers = new Set<PolicyWatcher>();
/** Lines already explained in the console (once each). */
const explained = new Set<string>();

/** Reads a violation: the directive that refused and what to add to it. */
export function explain(event: SecurityPolicyViolationEvent): Blocked {
  // Older engines fill only `violatedDirective` (which may carry the directive's sources).
  const directive = (event.effectiveDirective || event.violatedDirective || '').split(' ')[0];
  const uri = event.blockedURI || '';
  let missing: string;
  if (directive === 'trusted-types') missing = event.sample || 'the policy';
  else if (uri === 'blob' || uri.startsWith('blob:')) missing = 'blob:';
  else if (uri === 'data' || uri.startsWith('data:')) missing = 'data:';
  else if (/^(inline|eval|wasm-eval|trusted-types-sink)$/.test(uri)) missing = `'unsafe-${uri}'`;
  else {
    try {
      missing = new URL(uri).origin;
    } catch {
      missing = uri;
    }
  }
  return { directive, missing, line: `${directive} ${missing}` };
}

/** The origin of `url` as a page would fetch it (relative URLs against the document). */
export function originOf(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url, document.baseURI).origin;
  } catch {
    return undefined;
  }
}

const onViolation = (event: Event): void => {
  const violation = event as SecurityPolicyViolationEvent;
  const blocked = explain(violation);
  const concerned = [...watchers].filter((watcher) => watcher.owns(violation, blocked));
  if (concerned.length === 0) return;
  if (!explained.has(blocked.line)) {
    explained.add(blocked.line);
    console.error(
      `reelchat: the page's Content-Security-Policy blocked ${violation.blockedURI || 'a request'} ` +
        `(${blocked.directive}). Add "${blocked.missing}" to ${blocked.directive}` +
        `${violation.disposition === 'report' ? ' (reported only)' : ''}: ` +
        `see "Content-Security-Policy" in reelchat's docs/embedding.md for every line the elements need.`,
    );
  }
  // A report-only policy blocks nothing: only the console hears of it.
  if (violation.disposition !== 'report') for (const watcher of concerned) watcher.blocked(blocked);
};

/** Starts telling `watcher` of the violations it owns; the returned function stops it. */
export function watchPolicy(watcher: PolicyWatcher): () => void {
  if (watchers.size === 0) document.addEventListener('securitypolicyviolation', onViolation);
  watchers.add(watcher);
  return () => {
    watchers.delete(watcher);
    if (watchers.size === 0) document.removeEventListener('securitypolicyviolation', onViolation);
  };
}
