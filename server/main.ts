#!/usr/bin/env node
// Entry point: `reelchat-server [--demo]` (the bin of the reelchat-server package; from the
// repository, `npm run server` or `npm start` run the bundle `server/dist/main.js`).
// Reads the configuration, refuses to start without ffmpeg, and shuts down cleanly.
// `reelchat-server erase-user <id>` erases one person's data instead (server/erase.ts);
// `reelchat-server backup <file>` copies the embedded mode's database (store/sqlite-backup.ts).
import { createApp } from './compose.js';
import { ConfigError, dataDirOf, readConfig } from './config.js';
import { checkTools, ToolsMissingError } from './convert/index.js';
import { databaseUrlOf } from './config.js';
import { describeErasure, EraseError, eraseUser } from './erase.js';
import { backupSqlite, BackupError, describeBackup } from './store/sqlite-backup.js';

/** `erase-user <id>`: works on the configured data folder; needs no keys or ffmpeg. */
async function eraseCommand(args: string[]): Promise<void> {
  if (args.length !== 1) throw new EraseError('Usage: reelchat-server erase-user <user-id>');
  const summary = await eraseUser(dataDirOf(process.env), args[0]!);
  console.log(describeErasure(summary));
}

/** `backup <file>`: the embedded mode's database, while the server runs or not. */
async function backupCommand(args: string[]): Promise<void> {
  if (args.length !== 1) throw new BackupError('Usage: reelchat-server backup <file>');
  if (databaseUrlOf(process.env)) {
    throw new BackupError(
      'REELCHAT_DATABASE_URL is set: back up PostgreSQL with pg_dump (docs/scaling.md, "Backups").',
    );
  }
  console.log(describeBackup(await backupSqlite(dataDirOf(process.env), args[0]!)));
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'erase-user') return eraseCommand(rest);
  if (command === 'backup') return backupCommand(rest);
  const config = readConfig(process.env, process.argv.slice(2));
  const tools = await checkTools(config.ffmpegPath, config.ffprobePath);
  console.error(`reelchat: using ffmpeg ${tools.ffmpeg}, ffprobe ${tools.ffprobe}`);
  const app = await createApp(config);
  console.log(`reelchat server listening on ${app.url}`);
  if (config.demo) {
    const port = new URL(app.url).port;
    console.log(`demo: open http://localhost:${port}/ (Alice and Bob) or /memory.html (no server)`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`reelchat: ${signal}, shutting down`);
    app.close().then(
      () => process.exit(0),
      (error) => {
        console.error('reelchat: shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (
    error instanceof ConfigError ||
    error instanceof ToolsMissingError ||
    error instanceof EraseError ||
    error instanceof BackupError
  ) {
    console.error(`reelchat: ${error.message}`);
  } else {
    console.error('reelchat: could not start', error);
  }
  process.exit(1);
});
