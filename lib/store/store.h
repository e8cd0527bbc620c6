/*
 * store.h — the SQLite database: one handle per worker process.
 *
 * Opening sets WAL, a busy timeout and foreign keys, then applies any
 * pending schema migrations inside BEGIN IMMEDIATE, so any number of
 * workers may start at once on a new or old file: the first to get the
 * write lock migrates, the others wait and then find nothing to do.
 * Writers use rose_store_begin() (BEGIN IMMEDIATE) so a read never has to be
 * upgraded to a write mid-transaction (which could fail with SQLITE_BUSY).
 */
#ifndef ROSE_STORE_H
#define ROSE_STORE_H

#include <sqlite3.h>
#include "core/err.h"
#include "core/limits.h"

struct rose_store;

/*
 * Open (creating if needed) the database at path and migrate it to the
 * current schema.  *out is set only on success; close it with
 * rose_store_close().  Logs the reason on failure.
 */
enum rose_err rose_store_open(const char *path, struct rose_store **out);

/* Close the handle; NULL-safe. */
void rose_store_close(struct rose_store *st);

/* The raw connection, for the model modules in lib/store/. */
sqlite3 *rose_store_db(struct rose_store *st);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  rollback is safe to call when no
 * transaction is open. */
enum rose_err rose_store_begin(struct rose_store *st);
enum rose_err rose_store_commit(struct rose_store *st);
void rose_store_rollback(struct rose_store *st);

/* A real query against the schema, for health checks. */
enum rose_err rose_store_check(struct rose_store *st);

/* The schema version the file is at, and the one this code expects. */
int rose_store_version(struct rose_store *st);
int rose_store_target_version(void);

/* Map an SQLite result code to enum rose_err (BUSY/LOCKED/IO → unavailable). */
enum rose_err rose_store_err(int rc);

/* Prepare a statement; logs and returns ROSE_ERR_DB on failure. */
enum rose_err rose_store_prepare(struct rose_store *st, const char *sql, sqlite3_stmt **out);

/* Run SQL with no result rows and no parameters. */
enum rose_err rose_store_exec(struct rose_store *st, const char *sql);

#endif
