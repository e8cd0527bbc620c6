/*
 * json.c — json-c building helpers (see json.h).
 */
#include "core/json.h"
#include "core/text.h"

enum rose_err
rose_json_add(struct json_object *obj, const char *key, struct json_object *val)
{
    if (val == NULL)
        return ROSE_ERR_NOMEM;
    if (obj == NULL || json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        return ROSE_ERR_NOMEM;
    }
    return ROSE_OK;
}

enum rose_err
rose_json_push(struct json_object *arr, struct json_object *val)
{
    if (val == NULL)
        return ROSE_ERR_NOMEM;
    if (arr == NULL || json_object_array_add(arr, val) != 0) {
        json_object_put(val);
        return ROSE_ERR_NOMEM;
    }
    return ROSE_OK;
}

struct json_object *
rose_json_time(long long ms)
{
    char buf[32];

    rose_time_iso(ms, buf);
    return json_object_new_string(buf);
}
