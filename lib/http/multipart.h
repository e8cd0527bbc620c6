/*
 * multipart.h — an incremental multipart/form-data parser (RFC 7578 on the
 * syntax of RFC 2046 §5.1.1), written for hostile input.
 *
 * The body arrives in pieces of any size, split anywhere (inside a boundary,
 * between the CR and LF of a line end, ...); the parser keeps only the state
 * it needs between calls: how much of the boundary it has matched so far and
 * the unfinished header line.  Part data goes straight into one capped buffer
 * per field, so memory is bounded by the sum of the fields' max plus, for
 * each of at most ROSE_MULTIPART_PARTS_MAX parts, what its headers hold
 * (ROSE_MULTIPART_HEADER_MAX).
 *
 * The caller describes the fields it takes (name, most bytes, required) in a
 * table, as with http/fields.h.  Parts whose name is not in the table are
 * read and thrown away, so newer clients keep working; they still count
 * towards ROSE_MULTIPART_PARTS_MAX and towards duplicate names.
 *
 * What the parser accepts:
 *   - a preamble before the first boundary and an epilogue after the last,
 *     both ignored;
 *   - after a boundary, optional spaces and tabs (RFC 2046 "transport
 *     padding") before its CRLF;
 *   - part headers as "Name: value" lines; Content-Disposition must be
 *     form-data with a non-empty name parameter; filename and Content-Type
 *     are kept; other headers and parameters (filename* included) are
 *     ignored; values may be tokens or quoted strings, where a backslash
 *     quotes the next byte (RFC 2045).
 * What it refuses (ROSE_ERR_BAD_REQUEST, with a reason for a person):
 *   - line ends other than CRLF.  Both RFCs require CRLF and browsers and
 *     curl send it; accepting a bare LF would make "\n--boundary" inside
 *     binary audio end the part early, so LF-only bodies are refused;
 *   - a line (in the preamble or a part) that starts with "--" boundary but
 *     is neither a boundary line nor the closing one: RFC 2046 forbids such
 *     lines, so a sender that writes one is broken.  "--boundary" anywhere
 *     but at the start of a line is ordinary data.  A part's first line is a
 *     line start: "headers CRLF CRLF --boundary" is a part without data, as
 *     RFC 2046's grammar allows (the CRLF before a boundary belongs to it);
 *   - a body without a boundary, without parts, or without the closing
 *     boundary ("--boundary--");
 *   - folded header lines, control characters in headers (HT excepted), a
 *     header line without a colon, a part without Content-Disposition, a
 *     disposition other than form-data, a name or filename that is not UTF-8;
 *   - more than ROSE_MULTIPART_HEADER_MAX bytes of headers in one part
 *     (transport padding and line ends included), more than
 *     ROSE_MULTIPART_PARTS_MAX parts.
 * Other errors:
 *   ROSE_ERR_MEDIA_TYPE     the Content-Type is not multipart/form-data
 *   ROSE_ERR_INVALID_FIELD  two parts have the same name (a distinct error,
 *                           so the caller can say so)
 *   ROSE_ERR_TOO_LARGE      a field's data is over its max
 *   ROSE_ERR_MISSING_FIELD  a ROSE_MULTIPART_REQUIRED field did not come
 *   ROSE_ERR_NOMEM
 * Errors are for the request, so the caller maps them with
 * rose_err_http_status() (400, 415, 413).  The parser never logs.
 */
#ifndef ROSE_MULTIPART_H
#define ROSE_MULTIPART_H

#include <stddef.h>

#include "core/err.h"
#include "core/limits.h"

/* Flags of struct rose_multipart_field. */
#define ROSE_MULTIPART_REQUIRED 0x1u /* absent → ROSE_ERR_MISSING_FIELD */

/* A field the caller takes. */
struct rose_multipart_field {
    const char *name; /* the form field name, compared exactly (case matters) */
    size_t max;       /* most bytes of data, > 0: e.g. MAX_AUDIO_BYTES for the
                         audio, 256 for session_id */
    unsigned flags;   /* ROSE_MULTIPART_REQUIRED or 0 */
};

/* A part that came, for field i of the table. */
struct rose_multipart_part {
    const char *name;   /* the table's name for it */
    char *filename;     /* the filename parameter (UTF-8, without control
                           characters), or NULL if there was none */
    char *content_type; /* the part's Content-Type as sent, trimmed (printable
                           ASCII), or NULL if there was none */
    char *data;         /* the bytes, never NULL, with a NUL after the last (the
                           data itself may hold NUL bytes: check text fields) */
    size_t len;         /* bytes of data, <= the field's max; 0 if empty */
};

struct rose_multipart;

/*
 * Make a parser for a body sent with the given Content-Type header value
 * (NUL-terminated; NULL counts as absent), taking the fields
 * fields[0..nfields).  The table must outlive the parser and have unique
 * names.  The type must be multipart/form-data (any case) with a boundary
 * parameter of 1 to 70 characters from RFC 2046's set, quoted or not; other
 * parameters are ignored.  On success *out is the parser, freed with
 * rose_multipart_free().  Errors: ROSE_ERR_MEDIA_TYPE (another type, or
 * none), ROSE_ERR_BAD_REQUEST (no valid boundary), with a sentence for the
 * person in msg (msglen may be 0); ROSE_ERR_INTERNAL if the table is unusable
 * (a max of 0, no name); ROSE_ERR_NOMEM.
 */
enum rose_err rose_multipart_new(const char *content_type,
                                 const struct rose_multipart_field *fields, size_t nfields,
                                 struct rose_multipart **out, char *msg, size_t msglen);

/*
 * Feed the next n bytes of the body (buf may be NULL if n is 0).  Returns
 * ROSE_OK or an error from the list at the top of this file; the reason is
 * then in rose_multipart_reason().  After an error the parser is spent: later
 * calls to rose_multipart_feed() and rose_multipart_finish() return the same
 * error.  Feeding after a successful rose_multipart_finish() is
 * ROSE_ERR_INTERNAL.
 */
enum rose_err rose_multipart_feed(struct rose_multipart *p, const char *buf, size_t n);

/*
 * Say the body has ended.  ROSE_OK if the closing boundary came and every
 * required field is there; then the parts are available through
 * rose_multipart_get().  Otherwise an error as for rose_multipart_feed()
 * (ROSE_ERR_BAD_REQUEST if the body ended early, ROSE_ERR_MISSING_FIELD).
 */
enum rose_err rose_multipart_finish(struct rose_multipart *p);

/* Why the last call failed, as a sentence for a person (it may quote a field
 * name the client sent, at most 64 bytes of it); "" if nothing failed.  Valid
 * until the parser is freed. */
const char *rose_multipart_reason(const struct rose_multipart *p);

/*
 * The part for fields[field] after a successful rose_multipart_finish(), or
 * NULL if that field did not come (or finish has not succeeded, or field is
 * out of range).  The parser owns the part; the caller may take its data,
 * filename or content_type by setting the pointer to NULL, and then frees it
 * with free().
 */
struct rose_multipart_part *rose_multipart_get(struct rose_multipart *p, size_t field);

/* Free the parser and every part still in it.  NULL-safe. */
void rose_multipart_free(struct rose_multipart *p);

#endif
