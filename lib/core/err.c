/*
 * err.c — string table and HTTP mapping for enum rose_err.
 */
#include "core/err.h"

static const struct {
    const char *code;
    int status;
    const char *message;
} errs[ROSE_ERR__MAX] = {
    [ROSE_OK] = {"ok", 200, "OK."},
    [ROSE_ERR_NOMEM] = {"internal_error", 500, "Something went wrong on our side. Please try again."},
    [ROSE_ERR_INTERNAL] = {"internal_error", 500, "Something went wrong on our side. Please try again."},
    [ROSE_ERR_IO] = {"internal_error", 500, "Something went wrong on our side. Please try again."},
    [ROSE_ERR_CONFIG] = {"internal_error", 500, "The server is not configured correctly."},
    [ROSE_ERR_DB] = {"internal_error", 500, "Something went wrong on our side. Please try again."},
    [ROSE_ERR_DB_UNAVAILABLE] = {"database_unavailable", 503, "Rose cannot reach her memory right now. Please try again shortly."},
    [ROSE_ERR_BAD_REQUEST] = {"bad_request", 400, "The request could not be understood."},
    [ROSE_ERR_BAD_JSON] = {"invalid_json", 400, "The request body must be a valid JSON object."},
    [ROSE_ERR_MISSING_FIELD] = {"missing_field", 400, "A required field is missing."},
    [ROSE_ERR_INVALID_FIELD] = {"invalid_field", 400, "A field has an invalid value."},
    [ROSE_ERR_EMPTY] = {"empty", 400, "Nothing was sent."},
    [ROSE_ERR_UNAUTHORIZED] = {"unauthorized", 401, "Your access token is missing or not recognised."},
    [ROSE_ERR_FORBIDDEN] = {"forbidden", 403, "You are not allowed to do that."},
    [ROSE_ERR_NOT_FOUND] = {"not_found", 404, "That was not found."},
    [ROSE_ERR_METHOD] = {"method_not_allowed", 405, "That method is not allowed here."},
    [ROSE_ERR_LENGTH_REQUIRED] = {"length_required", 411, "The request needs a Content-Length."},
    [ROSE_ERR_TOO_LARGE] = {"payload_too_large", 413, "That is too large."},
    [ROSE_ERR_MEDIA_TYPE] = {"unsupported_media_type", 415, "That content type is not supported."},
    [ROSE_ERR_NOT_ACCEPTABLE] = {"not_acceptable", 406, "No acceptable representation is available."},
    [ROSE_ERR_CONFLICT] = {"conflict", 409, "That conflicts with the current state."},
    [ROSE_ERR_RATE_LIMITED] = {"rate_limited", 429, "Too many requests. Please wait a moment and try again."},
    [ROSE_ERR_UPSTREAM] = {"upstream_error", 502, "A service Rose relies on answered with an error."},
    [ROSE_ERR_UNAVAILABLE] = {"service_unavailable", 503, "A service Rose relies on is unavailable right now."},
    [ROSE_ERR_TIMEOUT] = {"timeout", 504, "That took too long. Please try again."},
    [ROSE_ERR_PARSE] = {"internal_error", 500, "Something went wrong on our side. Please try again."},
    [ROSE_ERR_RANGE] = {"range_not_satisfiable", 416, "That part of the file does not exist."},
};

static int
valid(enum rose_err err)
{
    return (int)err >= 0 && err < ROSE_ERR__MAX && errs[err].code != 0;
}

const char *
rose_err_code(enum rose_err err)
{
    return valid(err) ? errs[err].code : "internal_error";
}

const char *
rose_err_message(enum rose_err err)
{
    return valid(err) ? errs[err].message : errs[ROSE_ERR_INTERNAL].message;
}

int
rose_err_http_status(enum rose_err err)
{
    return valid(err) ? errs[err].status : 500;
}
