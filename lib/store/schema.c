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
    "  token_hash  TEXT NOT NULL UNIQUE,"  /* sha256(user_token), hex */
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
