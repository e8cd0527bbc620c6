/*
 * err.h — the one error type of librose.
 *
 * Every function in lib/ that can fail returns enum rose_err and writes its
 * results through out-parameters, set only on success.  The string table and
 * the mapping to HTTP live in err.c; rose_err_http_status() is the only place
 * in the project that turns an error into a status code.
 */
#ifndef ROSE_ERR_H
#define ROSE_ERR_H

enum rose_err {
    ROSE_OK = 0,
    ROSE_ERR_NOMEM,         /* allocation failed */
    ROSE_ERR_INTERNAL,      /* a bug or an impossible state */
    ROSE_ERR_IO,            /* file system or socket I/O failed */
    ROSE_ERR_CONFIG,        /* configuration invalid */
    ROSE_ERR_DB,            /* SQLite failed; never shown to clients */
    ROSE_ERR_DB_UNAVAILABLE,/* the database cannot be opened or used */
    ROSE_ERR_BAD_REQUEST,   /* malformed request (generic) */
    ROSE_ERR_BAD_JSON,      /* body is not valid JSON / too deep / not an object */
    ROSE_ERR_MISSING_FIELD, /* a required field is absent */
    ROSE_ERR_INVALID_FIELD, /* a field has the wrong type or value */
    ROSE_ERR_EMPTY,         /* a required text or file is empty */
    ROSE_ERR_UNAUTHORIZED,  /* missing or unknown bearer token */
    ROSE_ERR_FORBIDDEN,     /* authenticated but not allowed */
    ROSE_ERR_NOT_FOUND,     /* no such route or resource (for this caller) */
    ROSE_ERR_METHOD,        /* method not allowed on this route */
    ROSE_ERR_LENGTH_REQUIRED, /* body without Content-Length */
    ROSE_ERR_TOO_LARGE,     /* body or field over its limit */
    ROSE_ERR_MEDIA_TYPE,    /* unsupported Content-Type or audio format */
    ROSE_ERR_NOT_ACCEPTABLE,/* Accept excludes every representation we have */
    ROSE_ERR_CONFLICT,      /* request conflicts with current state */
    ROSE_ERR_RATE_LIMITED,  /* too many requests */
    ROSE_ERR_UPSTREAM,      /* a provider answered with an error */
    ROSE_ERR_UNAVAILABLE,   /* a provider is down or its circuit is open */
    ROSE_ERR_TIMEOUT,       /* a deadline passed */
    ROSE_ERR_PARSE,         /* a parser met malformed input (internal data) */
    ROSE_ERR_RANGE,         /* a byte range outside the resource */
    ROSE_ERR__MAX
};

/* Machine code for JSON bodies, e.g. "not_found".  Never NULL. */
const char *rose_err_code(enum rose_err err);

/* Plain words for a person, e.g. "That was not found.".  Never NULL. */
const char *rose_err_message(enum rose_err err);

/* The HTTP status for err (ROSE_OK → 200).  The only such mapping. */
int rose_err_http_status(enum rose_err err);

#endif
