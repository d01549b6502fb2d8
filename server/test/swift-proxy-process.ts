// The process group of the Swift proxy that serves the S3 endpoint on `port` (the one
// scripts/services.mjs started, in a group of its own), found through /proc: the proxy whose
// configuration file says `bind_port = <port>`. Linux only, as the services are.
import { readFileSync } from 'node:fs';
import { processes } from './proc.js';

export function swiftProxyGroup(port: number): number {
  for (const { pid, args } of processes()) {
    if (!args.some((arg) => arg.endsWith('swift-proxy-server'))) continue;
    const conf = args.find((arg) => arg.endsWith('proxy-server.conf'));
    if (!conf || !new RegExp(`^bind_port = ${port}$`, 'm').test(readFileSync(conf, 'utf8'))) {
      continue;
    }
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  }
  throw new Error(`No Swift proxy process serves port ${port}`);
}
