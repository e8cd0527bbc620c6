/*
 * json.h — the few json-c building helpers every module needs.
 *
 * json-c adopts a value only when adding it succeeds; these helpers free it
 * otherwise, so a caller can chain them with || and never leak or double-free
 * (a NULL val, e.g. from a failed json_object_new_*, counts as a failure).
 */
#ifndef ROSE_JSON_H
#define ROSE_JSON_H

#include <json-c/json.h>

#include "core/err.h"

/* Add val under key in obj: ROSE_OK, or ROSE_ERR_NOMEM with val freed. */
enum rose_err rose_json_add(struct json_object *obj, const char *key, struct json_object *val);

/* Append val to the array arr: ROSE_OK, or ROSE_ERR_NOMEM with val freed. */
enum rose_err rose_json_push(struct json_object *arr, struct json_object *val);

/* A new JSON string holding the time ms as RFC 3339 (rose_time_iso), or NULL. */
struct json_object *rose_json_time(long long ms);

#endif
