// PgStore's schema (scaled mode): the same tables as SQLite's (migrations.ts), as one
// MigrationSet run by PgDatabase.migrate under its advisory lock, so instances that start
// together create it once. Append new steps; never edit a released one.
//
// Differences from SQLite, and why:
// - `user` is a reserved word here: the columns are `user_id`.
// - Times stay ISO text (as in SQLite): they compare as text, and rows map the same way.
// - messages.seq and events.seq come from sequences, but only under the ordering lock
//   (postgres-log.ts), so that commit order is number order; see there.
// - jobs get a lease (`lease_until`, ms since epoch, and `lease_owner`): several worker
//   processes share the queue, and a job whose worker died is claimable once it lapses.
// - jobs.n and watched.n stand in for SQLite's rowid (insertion order, a tie-break).
import type { MigrationSet } from './pg-database.js';

export const STORE_MIGRATIONS: MigrationSet = {
  name: 'store',
  steps: [
    `
    CREATE TABLE settings (name text PRIMARY KEY, value bytea NOT NULL);
    CREATE TABLE members (
      conversation text NOT NULL,
      user_id text NOT NULL,
      name text NOT NULL,
      last_seen text NOT NULL,
      PRIMARY KEY (conversation, user_id)
    );
    CREATE INDEX members_by_user ON members (user_id);
    CREATE SEQUENCE messages_seq;
    CREATE TABLE messages (
      seq bigint NOT NULL UNIQUE,
      id text PRIMARY KEY,
      conversation text NOT NULL,
      client_id text NOT NULL,
      author text NOT NULL,
      author_name text NOT NULL,
      text text,
      video text UNIQUE,
      created_at text NOT NULL,
      deleted_at text,
      UNIQUE (author, client_id)
    );
    CREATE INDEX messages_by_conversation ON messages (conversation, seq);
    CREATE INDEX messages_with_video ON messages (conversation, seq) WHERE video IS NOT NULL;
    CREATE INDEX messages_by_time ON messages (created_at);
    CREATE TABLE videos (
      id text PRIMARY KEY,
      owner text NOT NULL,
      conversation text NOT NULL,
      state text NOT NULL CHECK (state IN ('processing', 'ready', 'failed')),
      reason text,
      duration double precision,
      width integer,
      height integer,
      bytes bigint,
      sha256 text,
      video_codec text,
      audio_codec text,
      created_at text NOT NULL,
      ready_at text
    );
    CREATE INDEX videos_by_owner ON videos (owner);
    CREATE TABLE uploads (
      id text PRIMARY KEY,
      owner text NOT NULL,
      conversation text NOT NULL,
      client_id text NOT NULL,
      filetype text NOT NULL,
      size bigint,
      complete integer NOT NULL DEFAULT 0,
      created_at text NOT NULL,
      UNIQUE (owner, client_id)
    );
    CREATE TABLE jobs (
      video_id text PRIMARY KEY,
      n bigserial NOT NULL,
      state text NOT NULL CHECK (state IN ('queued', 'running')),
      attempts integer NOT NULL DEFAULT 0,
      run_at bigint NOT NULL,
      lease_until bigint,
      lease_owner text,
      last_error text
    );
    CREATE INDEX jobs_by_state ON jobs (state, run_at);
    CREATE TABLE job_turns (owner text PRIMARY KEY, started_at bigint NOT NULL);
    CREATE INDEX job_turns_by_time ON job_turns (started_at);
    CREATE TABLE watched (
      video_id text NOT NULL,
      user_id text NOT NULL,
      n bigserial NOT NULL,
      watched_at text NOT NULL,
      PRIMARY KEY (video_id, user_id)
    );
    CREATE INDEX watched_by_user ON watched (user_id);
    CREATE SEQUENCE events_seq;
    CREATE TABLE events (
      seq bigint PRIMARY KEY,
      conversation text NOT NULL,
      audience text,
      type text NOT NULL,
      data text NOT NULL,
      subject text,
      created_at text NOT NULL
    );
    CREATE INDEX events_by_conversation ON events (conversation, seq);
    CREATE INDEX events_by_subject ON events (subject);
    CREATE INDEX events_by_audience ON events (audience) WHERE audience IS NOT NULL;
    CREATE INDEX events_by_time ON events (created_at);
    CREATE INDEX uploads_by_owner ON uploads (owner);
    `,
    // Watch while it is recorded (issue 25), as SQLite's migration 7.
    `
    ALTER TABLE uploads ADD COLUMN live integer NOT NULL DEFAULT 0;
    ALTER TABLE videos ADD COLUMN live_at text;
    `,
  ],
};
