/*
 * multipart.c — incremental multipart/form-data parser (see multipart.h).
 *
 * The body is read as a sequence of states.  Outside headers (the preamble
 * and each part's data) the parser looks for the delimiter, CRLF "--"
 * boundary, byte by byte across calls.  The body, and each part's data, are
 * treated as if a CRLF came before them (a "phantom" one, never data), so a
 * boundary on the very first line is found too: RFC 2046 lets a part end
 * right after its headers, the blank line's CRLF doubling as the delimiter's,
 * and forbids data lines that start with the boundary anyway.  Boundary
 * characters never include CR, so when a partial match fails the matched
 * bytes are data and only the current byte can start a new match: no
 * backtracking is needed, and runs without CR are copied with one memchr().
 *
 *   PREAMBLE --delimiter--> AFTER_DELIM --"-"--> DASH2 --"-"--> EPILOGUE
 *                               |
 *                               +--> PADDING (SP/HT) --CRLF--> HEADERS
 *   HEADERS --empty line--> DATA --delimiter--> AFTER_DELIM
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "http/multipart.h"

enum state {
    S_PREAMBLE,    /* before the first delimiter: ignored */
    S_AFTER_DELIM, /* just after a delimiter: "--" closes, else padding */
    S_DASH2,       /* saw the first '-' after a delimiter */
    S_PADDING,     /* spaces and tabs up to the CRLF of a boundary line */
    S_HEADERS,     /* header lines of a part */
    S_DATA,        /* the data of a part */
    S_EPILOGUE,    /* after the closing delimiter: ignored */
    S_FINISHED     /* rose_multipart_finish() succeeded */
};

/* What the parser holds for one field of the caller's table. */
struct slot {
    struct rose_multipart_part part;
    struct rose_buf buf; /* the data as it comes, capped at the field's max */
    int seen;
};

struct rose_multipart {
    const struct rose_multipart_field *fields;
    size_t nfields;
    struct slot *slots;                              /* one per field */
    char delim[4 + ROSE_MULTIPART_BOUNDARY_MAX + 1]; /* "\r\n--" boundary */
    size_t dlen;
    enum state st;
    size_t match;                          /* delimiter bytes matched so far */
    size_t phantom;                        /* of which not from the input (the CRLF
                                              assumed at the start), 0 or 2 */
    int cr;                                /* the last header byte was a CR; an LF must follow */
    size_t hbytes;                         /* header bytes of the current part so far */
    struct rose_buf line;                  /* the unfinished header line */
    size_t nparts;                         /* parts begun */
    char *names[ROSE_MULTIPART_PARTS_MAX]; /* every part's name, for duplicates */
    /* The part whose headers are being read, then whose data is: */
    int have_disposition;
    char *name, *filename, *content_type;
    struct slot *cur;     /* its slot, or NULL: data thrown away */
    enum rose_err failed; /* sticky: the first error, once spent */
    char reason[192];
};

/* RFC 9110 tchar: what a token (a header or parameter name) is made of. */
static int
is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 bchars: what a boundary is made of. */
static int
is_bchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static size_t
token_len(const char *s)
{
    size_t n = 0;

    while (is_tchar(s[n]))
        n++;
    return n;
}

static void
skip_ows(char **s)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
}

static int
token_is(const char *s, size_t n, const char *want)
{
    return n == strlen(want) && rose_strnieq(s, want, n);
}

/*
 * The next parameter of a header value, `*( OWS ";" OWS name "=" value )`,
 * where value is a token or a quoted string.  A quoted string is decoded in
 * place (a backslash quotes the next byte), so *val points into the string
 * and is not NUL-terminated.  Empty parameters ("a; ; b=c", a trailing ";")
 * are skipped, as clients write them.  1: got one and *s is past it; 0: the
 * end; -1: malformed.
 */
static int
next_param(char **s, char **name, size_t *nlen, char **val, size_t *vlen)
{
    char *p = *s, *out;
    size_t n;

    for (;;) {
        skip_ows(&p);
        if (*p == '\0') {
            *s = p;
            return 0;
        }
        if (*p != ';')
            return -1;
        p++;
        skip_ows(&p);
        if (*p != '\0' && *p != ';')
            break;
    }
    if ((n = token_len(p)) == 0)
        return -1;
    *name = p;
    *nlen = n;
    p += n;
    skip_ows(&p);
    if (*p++ != '=')
        return -1;
    skip_ows(&p);
    if (*p == '"') {
        *val = out = p;
        for (p++; *p != '"'; p++) {
            if (*p == '\0' || (*p == '\\' && *++p == '\0'))
                return -1; /* no closing quote */
            *out++ = *p;
        }
        *vlen = (size_t)(out - *val);
        p++;
    } else {
        if ((n = token_len(p)) == 0)
            return -1;
        *val = p;
        *vlen = n;
        p += n;
    }
    *s = p;
    return 1;
}

static void
set_msg(char *msg, size_t msglen, const char *text)
{
    if (msglen > 0)
        snprintf(msg, msglen, "%s", text);
}

/* Find the boundary in a Content-Type value (see rose_multipart_new()). */
static enum rose_err
read_content_type(const char *content_type, char *boundary, char *msg, size_t msglen)
{
    char *copy = NULL, *s, *name, *val;
    size_t n, vlen, i;
    int r, have = 0;
    enum rose_err err = ROSE_ERR_BAD_REQUEST;

    if (content_type == NULL ||
        strnlen(content_type, ROSE_MULTIPART_HEADER_MAX + 1) > ROSE_MULTIPART_HEADER_MAX) {
        set_msg(msg, msglen,
                content_type == NULL ? "The request must be sent as multipart/form-data."
                                     : "The Content-Type header is too long.");
        return content_type == NULL ? ROSE_ERR_MEDIA_TYPE : ROSE_ERR_BAD_REQUEST;
    }
    if ((copy = strdup(content_type)) == NULL)
        return ROSE_ERR_NOMEM;
    s = copy;
    skip_ows(&s);
    n = token_len(s);
    if (!token_is(s, n, "multipart") || s[n] != '/' ||
        !token_is(s + n + 1, token_len(s + n + 1), "form-data")) {
        set_msg(msg, msglen, "The request must be sent as multipart/form-data.");
        err = ROSE_ERR_MEDIA_TYPE;
        goto out;
    }
    s += n + 1 + strlen("form-data");
    while ((r = next_param(&s, &name, &n, &val, &vlen)) == 1) {
        if (!token_is(name, n, "boundary"))
            continue;
        if (have++) {
            set_msg(msg, msglen, "The Content-Type has two boundary parameters.");
            goto out;
        }
        if (vlen == 0 || vlen > ROSE_MULTIPART_BOUNDARY_MAX || val[vlen - 1] == ' ')
            break;
        for (i = 0; i < vlen && is_bchar(val[i]); i++)
            ;
        if (i < vlen)
            break;
        memcpy(boundary, val, vlen);
        boundary[vlen] = '\0';
    }
    if (r != 0 || !have || boundary[0] == '\0') {
        set_msg(msg, msglen,
                r == -1 ? "The Content-Type header is malformed."
                        : "The multipart/form-data Content-Type needs a boundary of 1 to 70 "
                          "characters.");
        goto out;
    }
    err = ROSE_OK;
out:
    free(copy);
    return err;
}

enum rose_err
rose_multipart_new(const char *content_type, const struct rose_multipart_field *fields,
                   size_t nfields, struct rose_multipart **out, char *msg, size_t msglen)
{
    struct rose_multipart *p = NULL;
    char boundary[ROSE_MULTIPART_BOUNDARY_MAX + 1] = "";
    size_t i;
    enum rose_err err;

    set_msg(msg, msglen, "");
    if (fields == NULL && nfields > 0)
        return ROSE_ERR_INTERNAL;
    for (i = 0; i < nfields; i++)
        if (fields[i].name == NULL || fields[i].name[0] == '\0' || fields[i].max == 0)
            return ROSE_ERR_INTERNAL;
    if ((err = read_content_type(content_type, boundary, msg, msglen)) != ROSE_OK)
        return err;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return ROSE_ERR_NOMEM;
    if (nfields > 0 && (p->slots = calloc(nfields, sizeof(*p->slots))) == NULL) {
        free(p);
        return ROSE_ERR_NOMEM;
    }
    p->fields = fields;
    p->nfields = nfields;
    for (i = 0; i < nfields; i++)
        rose_buf_init(&p->slots[i].buf, fields[i].max);
    p->dlen = (size_t)snprintf(p->delim, sizeof(p->delim), "\r\n--%s", boundary);
    p->st = S_PREAMBLE;
    p->match = p->phantom = 2; /* as if a CRLF came before the body */
    rose_buf_init(&p->line, ROSE_MULTIPART_HEADER_MAX);
    *out = p;
    return ROSE_OK;
}

/* Forget the headers of the current part. */
static void
clear_part(struct rose_multipart *p)
{
    free(p->name);
    free(p->filename);
    free(p->content_type);
    p->name = p->filename = p->content_type = NULL;
    p->have_disposition = 0;
    p->cur = NULL;
}

void
rose_multipart_free(struct rose_multipart *p)
{
    size_t i;

    if (p == NULL)
        return;
    clear_part(p);
    for (i = 0; i < p->nfields; i++) {
        free(p->slots[i].part.filename);
        free(p->slots[i].part.content_type);
        free(p->slots[i].part.data);
        rose_buf_free(&p->slots[i].buf);
    }
    for (i = 0; i < ROSE_MULTIPART_PARTS_MAX; i++)
        free(p->names[i]);
    free(p->slots);
    rose_buf_free(&p->line);
    free(p);
}

/* Spend the parser with err; reason is a printf format for a person. */
static enum rose_err fail(struct rose_multipart *p, enum rose_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum rose_err
fail(struct rose_multipart *p, enum rose_err err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
    va_end(ap);
    p->failed = err;
    return err;
}

/* Bytes of part data (or of the preamble, which are dropped). */
static enum rose_err
emit(struct rose_multipart *p, const char *buf, size_t n)
{
    enum rose_err err;

    if (p->st != S_DATA || p->cur == NULL || n == 0)
        return ROSE_OK;
    if ((err = rose_buf_append(&p->cur->buf, buf, n)) == ROSE_ERR_TOO_LARGE)
        return fail(p, err, "The form field \"%s\" is larger than %zu bytes.", p->cur->part.name,
                    p->cur->buf.max);
    return err != ROSE_OK ? fail(p, err, "The server is out of memory.") : ROSE_OK;
}

/*
 * Data or preamble: copy bytes out until a whole delimiter matches, which
 * ends the part.  *used is how many bytes of buf were taken.
 */
static enum rose_err
scan(struct rose_multipart *p, const char *buf, size_t n, size_t *used)
{
    const char *cr;
    size_t i = 0, j;
    enum rose_err err;

    while (i < n) {
        if (p->match == 0) {
            cr = memchr(buf + i, '\r', n - i);
            j = cr != NULL ? (size_t)(cr - buf) : n;
            if ((err = emit(p, buf + i, j - i)) != ROSE_OK)
                return err;
            i = j;
            if (cr != NULL) {
                p->match = 1;
                p->phantom = 0;
                i++;
            }
        } else if (buf[i] == p->delim[p->match]) {
            i++;
            if (++p->match == p->dlen) {
                p->match = p->phantom = 0;
                p->st = S_AFTER_DELIM;
                clear_part(p); /* the part is complete in its slot */
                break;
            }
        } else {
            /* Not a delimiter after all: what matched was data, and only
             * buf[i] (no earlier byte, as no bchar is a CR) may begin one. */
            if ((err = emit(p, p->delim + p->phantom, p->match - p->phantom)) != ROSE_OK)
                return err;
            p->match = p->phantom = 0;
        }
    }
    *used = i;
    return ROSE_OK;
}

/* A copy of s[0..n) as a C string, or NULL. */
static char *
copy_str(const char *s, size_t n)
{
    char *c = malloc(n + 1);

    if (c != NULL) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* Content-Disposition: form-data; name="..."; filename="..." */
static enum rose_err
read_disposition(struct rose_multipart *p, char *v)
{
    char *name, *val, **dst;
    size_t n, vlen;
    int r;

    if (p->have_disposition++)
        return fail(p, ROSE_ERR_BAD_REQUEST, "A form part has two Content-Disposition headers.");
    n = token_len(v);
    if (!token_is(v, n, "form-data"))
        return fail(p, ROSE_ERR_BAD_REQUEST,
                    "Each form part needs \"Content-Disposition: form-data\".");
    v += n;
    while ((r = next_param(&v, &name, &n, &val, &vlen)) == 1) {
        if (token_is(name, n, "name"))
            dst = &p->name;
        else if (token_is(name, n, "filename"))
            dst = &p->filename;
        else
            continue; /* filename* and the like: not needed */
        if (*dst != NULL)
            return fail(p, ROSE_ERR_BAD_REQUEST,
                        "A form part's Content-Disposition repeats a parameter.");
        /* The line held no control character but HT; a name has none. */
        if (!rose_utf8_valid(val, vlen) || memchr(val, '\t', vlen) != NULL)
            return fail(p, ROSE_ERR_BAD_REQUEST,
                        "Form field names and file names must be UTF-8 without control "
                        "characters.");
        if ((*dst = copy_str(val, vlen)) == NULL)
            return fail(p, ROSE_ERR_NOMEM, "The server is out of memory.");
    }
    if (r < 0)
        return fail(p, ROSE_ERR_BAD_REQUEST, "A form part's Content-Disposition is malformed.");
    return ROSE_OK;
}

static enum rose_err
read_part_type(struct rose_multipart *p, const char *v)
{
    size_t i, n = strlen(v);

    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (p->content_type != NULL)
        return fail(p, ROSE_ERR_BAD_REQUEST, "A form part has two Content-Type headers.");
    for (i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            break;
    if (n == 0 || i < n)
        return fail(p, ROSE_ERR_BAD_REQUEST, "A form part's Content-Type is malformed.");
    if ((p->content_type = copy_str(v, n)) == NULL)
        return fail(p, ROSE_ERR_NOMEM, "The server is out of memory.");
    return ROSE_OK;
}

/* The headers of a part are complete: check them and pick its slot. */
static enum rose_err
begin_data(struct rose_multipart *p)
{
    struct slot *s;
    size_t i;

    if (!p->have_disposition || p->name == NULL || p->name[0] == '\0')
        return fail(p, ROSE_ERR_BAD_REQUEST,
                    "Each form part needs a Content-Disposition header with a name.");
    for (i = 0; i < p->nparts - 1; i++)
        if (strcmp(p->names[i], p->name) == 0)
            return fail(p, ROSE_ERR_INVALID_FIELD,
                        "The form field \"%.64s\" was sent more than once.", p->name);
    p->names[p->nparts - 1] = p->name;
    p->name = NULL;
    for (i = 0; i < p->nfields; i++) {
        if (strcmp(p->fields[i].name, p->names[p->nparts - 1]) != 0)
            continue;
        s = &p->slots[i];
        s->seen = 1;
        s->part.name = p->fields[i].name;
        s->part.filename = p->filename;
        s->part.content_type = p->content_type;
        p->filename = p->content_type = NULL;
        p->cur = s;
        break;
    }
    p->st = S_DATA;
    p->match = p->phantom = 2; /* the blank line's CRLF may begin a delimiter */
    return ROSE_OK;
}

/* One complete header line (without its CRLF), or the empty line. */
static enum rose_err
header_line(struct rose_multipart *p)
{
    char *line, *colon, *v;
    size_t n;
    enum rose_err err = ROSE_OK;

    if (p->line.len == 0)
        return begin_data(p);
    line = p->line.data;
    if (line[0] == ' ' || line[0] == '\t')
        return fail(p, ROSE_ERR_BAD_REQUEST, "Folded header lines are not accepted in form data.");
    n = token_len(line);
    colon = line + n;
    if (n == 0 || *colon != ':')
        return fail(p, ROSE_ERR_BAD_REQUEST, "A form part has a malformed header line.");
    v = colon + 1;
    skip_ows(&v);
    if (token_is(line, n, "content-disposition"))
        err = read_disposition(p, v);
    else if (token_is(line, n, "content-type"))
        err = read_part_type(p, v);
    rose_buf_reset(&p->line);
    return err;
}

/* One byte of a boundary line's end or of the header block. */
static enum rose_err
header_byte(struct rose_multipart *p, char c)
{
    if (++p->hbytes > ROSE_MULTIPART_HEADER_MAX)
        return fail(p, ROSE_ERR_BAD_REQUEST, "The headers of a form part are longer than %d bytes.",
                    ROSE_MULTIPART_HEADER_MAX);
    if (p->cr) {
        if (c != '\n')
            return fail(p, ROSE_ERR_BAD_REQUEST, "Lines in form data must end with CRLF.");
        p->cr = 0;
        if (p->st == S_PADDING) {
            if (++p->nparts > ROSE_MULTIPART_PARTS_MAX)
                return fail(p, ROSE_ERR_BAD_REQUEST, "The form data has more than %d parts.",
                            ROSE_MULTIPART_PARTS_MAX);
            p->st = S_HEADERS;
            return ROSE_OK;
        }
        return header_line(p);
    }
    if (c == '\r') {
        p->cr = 1;
        return ROSE_OK;
    }
    if (c == '\n')
        return fail(p, ROSE_ERR_BAD_REQUEST, "Lines in form data must end with CRLF.");
    if (p->st == S_PADDING) {
        if (c == ' ' || c == '\t')
            return ROSE_OK;
        return fail(p, ROSE_ERR_BAD_REQUEST,
                    "A line in the form data starts with the boundary but is not a boundary.");
    }
    if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7f)
        return fail(p, ROSE_ERR_BAD_REQUEST, "A form part's headers hold a control character.");
    /* Cannot pass the cap: hbytes already bounds the line. */
    return rose_buf_append(&p->line, &c, 1) == ROSE_OK
               ? ROSE_OK
               : fail(p, ROSE_ERR_NOMEM, "The server is out of memory.");
}

/* One byte in a state that is not data or preamble. */
static enum rose_err
other_byte(struct rose_multipart *p, char c)
{
    switch (p->st) {
    case S_AFTER_DELIM:
        p->hbytes = 0;
        p->cr = 0;
        if (c == '-') {
            p->st = S_DASH2;
            return ROSE_OK;
        }
        p->st = S_PADDING;
        return header_byte(p, c);
    case S_DASH2:
        if (c != '-')
            return fail(p, ROSE_ERR_BAD_REQUEST,
                        "A line in the form data starts with the boundary but is not a boundary.");
        if (p->nparts == 0)
            return fail(p, ROSE_ERR_BAD_REQUEST, "The form data has no parts.");
        p->st = S_EPILOGUE;
        return ROSE_OK;
    case S_PADDING:
    case S_HEADERS:
        return header_byte(p, c);
    case S_EPILOGUE:
        return ROSE_OK;
    default:
        return fail(p, ROSE_ERR_INTERNAL, "The form data parser is in an impossible state.");
    }
}

enum rose_err
rose_multipart_feed(struct rose_multipart *p, const char *buf, size_t n)
{
    size_t i = 0, used;
    enum rose_err err;

    if (p->failed != ROSE_OK)
        return p->failed;
    if (p->st == S_FINISHED)
        return ROSE_ERR_INTERNAL;
    if (p->st == S_EPILOGUE)
        return ROSE_OK;
    while (i < n) {
        if (p->st == S_PREAMBLE || p->st == S_DATA) {
            if ((err = scan(p, buf + i, n - i, &used)) != ROSE_OK)
                return err;
            i += used;
        } else if (p->st == S_EPILOGUE) {
            break;
        } else if ((err = other_byte(p, buf[i++])) != ROSE_OK) {
            return err;
        }
    }
    return ROSE_OK;
}

enum rose_err
rose_multipart_finish(struct rose_multipart *p)
{
    struct slot *s;
    size_t i;

    if (p->failed != ROSE_OK)
        return p->failed;
    if (p->st == S_FINISHED)
        return ROSE_OK;
    if (p->st == S_PREAMBLE)
        return fail(p, ROSE_ERR_BAD_REQUEST, "The form data has no boundary line.");
    if (p->st != S_EPILOGUE)
        return fail(p, ROSE_ERR_BAD_REQUEST, "The form data ended before its closing boundary.");
    for (i = 0; i < p->nfields; i++)
        if ((p->fields[i].flags & ROSE_MULTIPART_REQUIRED) && !p->slots[i].seen)
            return fail(p, ROSE_ERR_MISSING_FIELD, "The form field \"%s\" is missing.",
                        p->fields[i].name);
    for (i = 0; i < p->nfields; i++) {
        s = &p->slots[i];
        if (!s->seen)
            continue;
        s->part.len = s->buf.len;
        if ((s->part.data = rose_buf_steal(&s->buf)) == NULL)
            return fail(p, ROSE_ERR_NOMEM, "The server is out of memory.");
    }
    p->st = S_FINISHED;
    return ROSE_OK;
}

const char *
rose_multipart_reason(const struct rose_multipart *p)
{
    return p->failed != ROSE_OK ? p->reason : "";
}

struct rose_multipart_part *
rose_multipart_get(struct rose_multipart *p, size_t field)
{
    if (p->st != S_FINISHED || field >= p->nfields || !p->slots[field].seen)
        return NULL;
    return &p->slots[field].part;
}
