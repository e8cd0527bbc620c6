/*
 * schema.h — the list of schema migrations (see schema.c).
 */
#ifndef ROSE_SCHEMA_H
#define ROSE_SCHEMA_H

#include <stddef.h>

/* Number of migrations; the current schema version. */
size_t rose_schema_count(void);

/* SQL of migration i (0-based: it brings version i to i+1); NULL past the end. */
const char *rose_schema_migration(size_t i);

#endif
