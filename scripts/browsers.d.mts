// Types for scripts/browsers.mjs, for the end-to-end tests (TypeScript).
import type { BrowserLauncher } from '@web/test-runner-core';

export type Engine = 'chromium' | 'firefox' | 'webkit';
export const ENGINES: Engine[];
export function enginesFromEnv(
  fallback?: Engine[],
  env?: Record<string, string | undefined>,
): Engine[];

export interface WaitOptions {
  timeout?: number;
  interval?: number;
  message?: string;
}

/** A page of any engine: what runs in it goes as source text, so arguments and results are JSON. */
export interface EnginePage {
  goto(url: string): Promise<unknown>;
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  waitFor<A, R>(fn: (arg: A) => R | Promise<R>, arg?: A, options?: WaitOptions): Promise<R>;
  click<A>(fn: (arg: A) => Element | null | undefined, arg?: A): Promise<void>;
  type<A>(fn: (arg: A) => Element | null | undefined, arg: A, text: string): Promise<void>;
  close(): Promise<void>;
}

export interface EngineBrowser {
  engine: Engine;
  version: string;
  newPage(): Promise<EnginePage>;
  close(): Promise<void>;
}

export function openBrowser(engine: Engine): Promise<EngineBrowser>;
export function chromiumLauncher(): BrowserLauncher;
export function firefoxLauncher(): BrowserLauncher;
export function webkitLauncher(): BrowserLauncher;
export function testBrowsers(options: {
  everyEngine: string[];
  argv?: string[];
  env?: Record<string, string | undefined>;
}): {
  browsers: BrowserLauncher[];
  groups: { name: string; files: string[]; browsers: BrowserLauncher[] }[];
};
