// Schema migrations, applied in order; PRAGMA user_version records how many have run.
// Append new steps; never edit a released one.
import type { Database } from 'better-sqlite3';

const MIGRATIONS: string[] = [
  `
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
  );
  CREATE TABLE members (
    conversation TEXT NOT NULL,
    user TEXT NOT NULL,
    name TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (conversation, user)
  );
  -- seq orders messages (ids are random); a message's clientId is unique per author.
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    conversation TEXT NOT NULL,
    client_id TEXT NOT NULL,
    author TEXT NOT NULL,
    author_name TEXT NOT NULL,
    text TEXT,
    video TEXT UNIQUE,
    created_at TEXT NOT NULL,
    UNIQUE (author, client_id)
  );
  CREATE INDEX messages_by_conversation ON messages (conversation, seq);
  CREATE TABLE videos (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    conversation TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('processing', 'ready', 'failed')),
    reason TEXT,
    duration REAL,
    width INTEGER,
    height INTEGER,
    bytes INTEGER,
    video_codec TEXT,
    audio_codec TEXT,
    created_at TEXT NOT NULL,
    ready_at TEXT
  );
  -- One upload per (owner, clientId); its id is the video's id.
  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    conversation TEXT NOT NULL,
    client_id TEXT NOT NULL,
    filetype TEXT NOT NULL,
    size INTEGER,
    complete INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (owner, client_id)
  );
  CREATE TABLE jobs (
    video_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at INTEGER NOT NULL,
    last_error TEXT
  );
  -- Append-only: seq is the SSE event id.
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX events_by_conversation ON events (conversation, seq);
  `,
  // The uploaded file's SHA-256 (hex), recorded at conversion: the bytes themselves go.
  `ALTER TABLE videos ADD COLUMN sha256 TEXT;`,
  // Who may see an event: NULL for the whole conversation, else that one user. A video is
  // its owner's alone until attached to a message, and so are its video.updated events.
  // Events of videos still unattached when this runs become their owner's too.
  `
  ALTER TABLE events ADD COLUMN audience TEXT;
  UPDATE events SET audience = json_extract(data, '$.owner')
    WHERE type = 'video.updated'
      AND NOT EXISTS (SELECT 1 FROM messages WHERE video = json_extract(events.data, '$.id'));
  `,
  // Per-user quotas sum an owner's videos; shared videos are paged in message order
  // without walking the text messages.
  `
  CREATE INDEX videos_by_owner ON videos (owner);
  CREATE INDEX messages_with_video ON messages (conversation, seq) WHERE video IS NOT NULL;
  `,
  // Fair conversion queue: when each owner's last conversion started (owners take turns),
  // and due or running jobs found without a scan.
  `
  CREATE TABLE job_turns (owner TEXT PRIMARY KEY, started_at INTEGER NOT NULL);
  CREATE INDEX job_turns_by_time ON job_turns (started_at);
  CREATE INDEX jobs_by_state ON jobs (state, run_at);
  `,
  // Unsend, seen by, retention and erasure (issue 15). A deleted message keeps its row (its
  // place in the timeline) with deleted_at set and text/video cleared. Who watched which
  // video. Each event names its subject (the message or video it is about), so the events
  // of a message or video can be rewritten or removed without reading every event's JSON.
  `
  ALTER TABLE messages ADD COLUMN deleted_at TEXT;
  CREATE INDEX messages_by_author ON messages (author);
  CREATE INDEX messages_by_time ON messages (created_at);
  CREATE TABLE watched (
    video_id TEXT NOT NULL,
    user TEXT NOT NULL,
    watched_at TEXT NOT NULL,
    PRIMARY KEY (video_id, user)
  );
  CREATE INDEX watched_by_user ON watched (user);
  ALTER TABLE events ADD COLUMN subject TEXT;
  UPDATE events SET subject = json_extract(data, '$.id');
  CREATE INDEX events_by_subject ON events (subject);
  CREATE INDEX events_by_audience ON events (audience) WHERE audience IS NOT NULL;
  CREATE INDEX events_by_time ON events (created_at);
  CREATE INDEX uploads_by_owner ON uploads (owner);
  `,
  // Watch while it is recorded (issue 25): an upload shared live, and when its video's first
  // segment came out (the video is `live` from then until ready; its state stays processing).
  `
  ALTER TABLE uploads ADD COLUMN live INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE videos ADD COLUMN live_at TEXT;
  `,
];

export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `The database schema (version ${current}) is newer than this server knows (${MIGRATIONS.length}).`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
