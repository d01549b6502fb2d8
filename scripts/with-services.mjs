#!/usr/bin/env node
// Runs a command with throwaway PostgreSQL and Swift (S3) started for it, then stops them:
//   node scripts/with-services.mjs <command> [args…]
// The command gets the services' environment (scripts/services.mjs). When they cannot start
// this says so and fails: the tests that need them never count as passed without them.
import { spawn } from 'node:child_process';
import { startServices } from './services.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/with-services.mjs <command> [args…]');
  process.exit(2);
}

let services;
try {
  services = await startServices();
} catch (error) {
  console.error(
    '\nwith-services: PostgreSQL and Swift (S3) did NOT start, so the tests that need them FAIL.',
  );
  console.error(
    'Install them with `bash .ci/run` (Debian: postgresql-15 swift-proxy swift-account swift-container swift-object).',
  );
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
console.error(`with-services: PostgreSQL and Swift up in ${services.seconds.toFixed(1)} s`);

const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...services.env } });
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise((resolve) =>
  child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))),
);
await services.stop().catch((error) => console.error('with-services: stopping failed', error));
process.exit(code);
