/*
 * schema.c — the versioned schema.  Migration i (1-based) brings the file
 * from PRAGMA user_version i-1 to i.  Migrations only ever append: a
 * released migration is never edited, a change is a new one.
 *
 * Times are integers: milliseconds since the epoch (UTC).
 */
#include <stddef.h>

#include "store/schema.h"

static const char *const migrations[] = {
    /* 1: users, sessions, breaker state */
    "CREATE TABLE users ("
    "  id          TEXT PRIMARY KEY,"
    "  token_hash  TEXT NOT NULL UNIQUE," /* sha256(user_token), hex */
    "  name        TEXT,"
    "  created_at  INTEGER NOT NULL"
    ");"
    "CREATE TABLE sessions ("
    "  id             TEXT PRIMARY KEY,"
    "  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  created_at     INTEGER NOT NULL,"
    "  last_active    INTEGER NOT NULL,"
    "  message_count  INTEGER NOT NULL DEFAULT 0,"
    "  summary        TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX sessions_user ON sessions(user_id);"
    "CREATE INDEX sessions_last_active ON sessions(last_active);"
    "CREATE TABLE breakers ("
    "  service     TEXT PRIMARY KEY,"
    "  state       TEXT NOT NULL DEFAULT 'closed'"
    "              CHECK (state IN ('closed', 'open', 'half_open')),"
    "  failures    INTEGER NOT NULL DEFAULT 0,"
    "  opened_at   INTEGER,"
    "  updated_at  INTEGER NOT NULL"
    ");",

    /* 2: the transcript, turn checkpoints, idempotent retries, audio files,
     *    rate-limit windows */
    "CREATE TABLE messages ("
    "  id          INTEGER PRIMARY KEY,"
    "  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    "  role        TEXT NOT NULL CHECK (role IN ('user', 'assistant')),"
    "  text        TEXT NOT NULL,"
    "  created_at  INTEGER NOT NULL,"
    "  audio_id    TEXT,"
    "  image_id    TEXT"
    ");"
    "CREATE INDEX messages_session ON messages(session_id, id);"
    /* One row per node of a turn: the state after that node (JSON). */
    "CREATE TABLE checkpoints ("
    "  thread_id             TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    "  checkpoint_id         TEXT NOT NULL,"
    "  parent_checkpoint_id  TEXT,"
    "  node                  TEXT NOT NULL,"
    "  state                 TEXT NOT NULL,"
    "  metadata              TEXT NOT NULL DEFAULT '{}',"
    "  created_at            INTEGER NOT NULL,"
    "  PRIMARY KEY (thread_id, checkpoint_id)"
    ");"
    "CREATE INDEX checkpoints_thread_time ON checkpoints(thread_id, created_at);"
    /* A finished answer to a request that carried Idempotency-Key. */
    "CREATE TABLE idempotency ("
    "  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    "  key         TEXT NOT NULL,"
    "  route       TEXT NOT NULL,"
    "  status      INTEGER NOT NULL,"
    "  body        TEXT NOT NULL,"
    "  created_at  INTEGER NOT NULL,"
    "  PRIMARY KEY (session_id, key)"
    ");"
    /* Audio files under DATA_DIR/audio/<id>.<ext>; the row is the index.
     * Rows outlive their session only until cleanup removes the file. */
    "CREATE TABLE audio ("
    "  id          TEXT PRIMARY KEY,"
    "  session_id  TEXT,"
    "  user_id     TEXT,"
    "  mime        TEXT NOT NULL,"
    "  bytes       INTEGER NOT NULL,"
    "  created_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX audio_session ON audio(session_id);"
    "CREATE INDEX audio_created ON audio(created_at);"
    /* Fixed one-minute windows per client and route family. */
    "CREATE TABLE rate_limits ("
    "  client      TEXT NOT NULL,"
    "  family      TEXT NOT NULL,"
    "  window      INTEGER NOT NULL,"
    "  count       INTEGER NOT NULL,"
    "  PRIMARY KEY (client, family)"
    ");",

    /* 3: metrics every worker adds to; exported at /metrics.  labels is the
     *    Prometheus label set, preformatted and escaped (never user text). */
    "CREATE TABLE metric_counters ("
    "  name    TEXT NOT NULL,"
    "  labels  TEXT NOT NULL,"
    "  value   INTEGER NOT NULL,"
    "  PRIMARY KEY (name, labels)"
    ");"
    /* buckets: JSON array of per-bucket (not cumulative) counts, bounds in
     * metrics.c; the last bucket is +Inf. */
    "CREATE TABLE metric_histograms ("
    "  name     TEXT NOT NULL,"
    "  labels   TEXT NOT NULL,"
    "  buckets  TEXT NOT NULL,"
    "  sum      REAL NOT NULL,"
    "  count    INTEGER NOT NULL,"
    "  PRIMARY KEY (name, labels)"
    ");",

    /* 4: voice turns that heard only silence, in a row (reset by speech) */
    "ALTER TABLE sessions ADD COLUMN silent_turns INTEGER NOT NULL DEFAULT 0;",

    /* 5: long-term memories (lib/memory/vectors.c); users.memory_version,
     *    bumped by triggers, tells every worker when its in-memory copy of a
     *    user's vectors is stale. */
    "CREATE TABLE memories ("
    "  id           TEXT PRIMARY KEY,"
    "  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  session_id   TEXT REFERENCES sessions(id) ON DELETE SET NULL,"
    "  text         TEXT NOT NULL,"
    "  memory_type  TEXT NOT NULL CHECK (memory_type IN ('fact', 'preference', 'emotion',"
    "               'loss', 'goal', 'relationship', 'name', 'other')),"
    "  created_at   INTEGER NOT NULL,"
    "  embedder     TEXT NOT NULL,"
    "  dim          INTEGER NOT NULL CHECK (dim > 0),"
    "  vector       BLOB NOT NULL CHECK (length(vector) = 4 * dim)"
    ");"
    "CREATE INDEX memories_user ON memories(user_id, created_at);"
    "CREATE INDEX memories_session ON memories(session_id);"
    "ALTER TABLE users ADD COLUMN memory_version INTEGER NOT NULL DEFAULT 0;"
    "CREATE TRIGGER memories_added AFTER INSERT ON memories BEGIN"
    "  UPDATE users SET memory_version = memory_version + 1 WHERE id = NEW.user_id; END;"
    "CREATE TRIGGER memories_removed AFTER DELETE ON memories BEGIN"
    "  UPDATE users SET memory_version = memory_version + 1 WHERE id = OLD.user_id; END;"
    "CREATE TRIGGER memories_changed AFTER UPDATE OF user_id, embedder, dim, vector ON memories "
    "BEGIN UPDATE users SET memory_version = memory_version + 1"
    "  WHERE id IN (OLD.user_id, NEW.user_id); END;",

    /* 6: the spoken pieces of a reply belong to its message, so the
     *    transcript can offer them again until cleanup removes them. */
    "ALTER TABLE audio ADD COLUMN message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL;"
    "CREATE INDEX audio_message ON audio(message_id);",
};

size_t
rose_schema_count(void)
{
    return sizeof(migrations) / sizeof(migrations[0]);
}

const char *
rose_schema_migration(size_t i)
{
    return i < rose_schema_count() ? migrations[i] : NULL;
}
