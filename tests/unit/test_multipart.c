/*
 * test_multipart.c — the multipart/form-data parser (lib/http/multipart.c).
 *
 * Every case of the table is parsed three ways: fed whole, fed one byte at a
 * time, and split in two at every position; each way must give the case's
 * error, or its parts byte for byte.  Then the cases built in code (header
 * and part caps at and over the limit), and the API's promises (spent parser,
 * ownership of the data).
 *
 * LF-only line ends are refused (see multipart.h for why); the table checks
 * that, and that "--boundary" anywhere but at the start of a line is data.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/multipart.h"
#include "t.h"

enum { F_AUDIO, F_SESSION, F_NOTE, NFIELDS };

static const struct rose_multipart_field fields[NFIELDS] = {
    [F_AUDIO] = {"audio", 64, ROSE_MULTIPART_REQUIRED},
    [F_SESSION] = {"session_id", 36, ROSE_MULTIPART_REQUIRED},
    [F_NOTE] = {"note", 8, 0},
};

/* What one field should hold; data NULL means the part must be absent. */
struct want {
    const char *data;
    size_t len;
    const char *filename;
    const char *ctype;
};

struct mp_case {
    const char *what;
    const char *ctype; /* the Content-Type header; NULL: absent */
    const char *body;
    size_t len;
    enum rose_err err;
    struct want want[NFIELDS];
};

/* A byte string and its length, for bodies and data that hold NULs. */
#define B(s) s, sizeof(s) - 1
#define CT "multipart/form-data; boundary=XyZ"
#define SESSION                                                                                    \
    "--XyZ\r\nContent-Disposition: form-data; name=\"session_id\"\r\n\r\n"                         \
    "6f1c2a9e-1111-4a4a-9b9b-123456789abc\r\n"
#define SID                                                                                        \
    {                                                                                              \
        B("6f1c2a9e-1111-4a4a-9b9b-123456789abc"), NULL, NULL                                      \
    }
#define AUDIO_HDR                                                                                  \
    "--XyZ\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"recording.webm\"\r\n"     \
    "Content-Type: audio/webm\r\n\r\n"
#define WEBM                                                                                       \
    {                                                                                              \
        B("\x1a\x45\xdf\xa3"                                                                       \
          "data"),                                                                                 \
            "recording.webm", "audio/webm"                                                         \
    }
#define NONE                                                                                       \
    {                                                                                              \
        NULL, 0, NULL, NULL                                                                        \
    }

static const struct mp_case cases[] = {
    /* --- accepted --------------------------------------------------------------------- */
    {"browser upload (Chrome-style boundary, binary data with lookalikes)",
     "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
     B("------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
       "Content-Disposition: form-data; name=\"audio\"; filename=\"recording.webm\"\r\n"
       "Content-Type: audio/webm\r\n\r\n"
       "\x1a\x45\xdf\xa3\0\r\n-\r\n--\r\n--"
       "--WebKitFormBoundary7MA4YWxkTrZu0gW\r\r\x00\xff\r\n"
       "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
       "Content-Disposition: form-data; name=\"session_id\"\r\n\r\n"
       "6f1c2a9e-1111-4a4a-9b9b-123456789abc\r\n"
       "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n"),
     ROSE_OK,
     {{B("\x1a\x45\xdf\xa3\0\r\n-\r\n--\r\n----WebKitFormBoundary7MA4YWxkTrZu0gW\r\r\x00\xff"),
       "recording.webm", "audio/webm"},
      SID,
      NONE}},
    {"curl-style upload, no CRLF after the closing boundary",
     CT,
     B(AUDIO_HDR "\x1a\x45\xdf\xa3"
                 "data\r\n" SESSION "--XyZ--"),
     ROSE_OK,
     {WEBM, SID, NONE}},
    {"preamble, epilogue, transport padding, odd case, unknown headers and parts",
     CT,
     B("This is the preamble, --XyZ not at a line start.\r\n"
       "--XyZ \t \r\n"
       "content-disposition: FORM-DATA ; filename=\"a.wav\";name=audio; filename*=UTF-8''b.wav;"
       "\r\nX-Other: ignored\r\nCONTENT-TYPE:\taudio/wav \r\n\r\n"
       "RIFF....WAVE\r\n"
       "--XyZ\r\nContent-Disposition: form-data; name=\"extra\"; filename=\"x.bin\"\r\n\r\n"
       "thrown away, however long it is\r\n" SESSION
       "--XyZ--  \r\nepilogue\r\n--XyZ\r\nContent-Disposition: form-data; name=\"audio\"\r\n"),
     ROSE_OK,
     {{B("RIFF....WAVE"), "a.wav", "audio/wav"}, SID, NONE}},
    {"a CRLF before the first boundary, an empty optional part",
     CT,
     B("\r\n" AUDIO_HDR "\x1a\x45\xdf\xa3"
       "data\r\n" SESSION
       "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n\r\n--XyZ--\r\n"),
     ROSE_OK,
     {WEBM, SID, {B(""), NULL, NULL}}},
    {"data ending in CR, data that almost ends in a delimiter",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=\"audio\"\r\n\r\n"
       "abc\r\n--Xy\r\n-\r\n--XyZ\r\n"
       "Content-Disposition: form-data; name=\"note\"\r\n\r\nx\r\r\n" SESSION "--XyZ--\r\n"),
     ROSE_OK,
     {{B("abc\r\n--Xy\r\n-"), NULL, NULL}, SID, {B("x\r"), NULL, NULL}}},
    {"quoted boundary with space and colon, other parameters, escaped filename",
     "Multipart/Form-Data ; charset=utf-8;boundary=\"a b:c\" ; x=y",
     B("--a b:c\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"say "
       "\\\"hi\\\".ogg\"\r\n"
       "\r\nOggS\r\n--a b:c\r\nContent-Disposition: form-data; name=session_id\r\n\r\n"
       "6f1c2a9e-1111-4a4a-9b9b-123456789abc\r\n--a b:c--"),
     ROSE_OK,
     {{B("OggS"), "say \"hi\".ogg", NULL}, SID, NONE}},
    {"fields at their size limit, UTF-8 file name",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=\"audio\"; "
       "filename=\"\xc3\xa9t\xc3\xa9.wav\"\r\n\r\n"
       "0123456789012345678901234567890123456789012345678901234567890123\r\n" SESSION
       "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n12345678\r\n--XyZ--"),
     ROSE_OK,
     {{B("0123456789012345678901234567890123456789012345678901234567890123"),
       "\xc3\xa9t\xc3\xa9.wav", NULL},
      SID,
      {B("12345678"), NULL, NULL}}},
    {"boundary of 70 characters",
     "multipart/form-data; "
     "boundary=0123456789012345678901234567890123456789012345678901234567890123456789",
     B("--0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
       "Content-Disposition: form-data; name=\"audio\"\r\n\r\nA\r\n"
       "--0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
       "Content-Disposition: form-data; name=\"session_id\"\r\n\r\n"
       "6f1c2a9e-1111-4a4a-9b9b-123456789abc\r\n"
       "--0123456789012345678901234567890123456789012345678901234567890123456789--"),
     ROSE_OK,
     {{B("A"), NULL, NULL}, SID, NONE}},
    {"boundary text not after a CRLF is data",
     CT,
     B(AUDIO_HDR "x--XyZ--XyZ\r\r--XyZ\n--XyZ-- --XyZ\r\n" SESSION "--XyZ--"),
     ROSE_OK,
     {{B("x--XyZ--XyZ\r\r--XyZ\n--XyZ-- --XyZ"), "recording.webm", "audio/webm"}, SID, NONE}},
    {"a part without data: the blank line's CRLF begins the boundary (RFC 2046)",
     CT,
     B(AUDIO_HDR "-\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" SESSION
                 "--XyZ--"),
     ROSE_OK,
     {{B("-"), "recording.webm", "audio/webm"}, SID, {B(""), NULL, NULL}}},

    /* --- refused: the Content-Type --------------------------------------------------- */
    {"no Content-Type", NULL, B(""), ROSE_ERR_MEDIA_TYPE, {NONE, NONE, NONE}},
    {"JSON Content-Type", "application/json", B("{}"), ROSE_ERR_MEDIA_TYPE, {NONE, NONE, NONE}},
    {"multipart/mixed",
     "multipart/mixed; boundary=XyZ",
     B(""),
     ROSE_ERR_MEDIA_TYPE,
     {NONE, NONE, NONE}},
    {"form-data with a suffix",
     "multipart/form-datax; boundary=XyZ",
     B(""),
     ROSE_ERR_MEDIA_TYPE,
     {NONE, NONE, NONE}},
    {"no boundary", "multipart/form-data", B(""), ROSE_ERR_BAD_REQUEST, {NONE, NONE, NONE}},
    {"empty boundary",
     "multipart/form-data; boundary=\"\"",
     B(""),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"boundary of 71 characters",
     "multipart/form-data; "
     "boundary=01234567890123456789012345678901234567890123456789012345678901234567890",
     B(""),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"boundary with a character outside RFC 2046's set",
     "multipart/form-data; boundary=\"a@b\"",
     B(""),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"boundary ending in a space",
     "multipart/form-data; boundary=\"ab \"",
     B(""),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"two boundaries",
     "multipart/form-data; boundary=a; boundary=b",
     B(""),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"unterminated quote",
     "multipart/form-data; boundary=\"abc",
     B(""),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"parameter without a value",
     "multipart/form-data; boundary",
     B(""),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},

    /* --- refused: the body ------------------------------------------------------------ */
    {"empty body", CT, B(""), ROSE_ERR_BAD_REQUEST, {NONE, NONE, NONE}},
    {"no boundary line in the body",
     CT,
     B("just some text\r\n--XyZZ"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"no final boundary",
     CT,
     B(AUDIO_HDR "\x1a\x45\xdf\xa3"
                 "data\r\n" SESSION),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"cut inside the data",
     CT,
     B(AUDIO_HDR "\x1a\x45\xdf\xa3"
                 "da"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"cut inside the headers",
     CT,
     B("--XyZ\r\nContent-Disposition: form-"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"cut inside the closing boundary",
     CT,
     B(AUDIO_HDR "x\r\n" SESSION "--XyZ-"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"only a closing boundary", CT, B("--XyZ--\r\n"), ROSE_ERR_BAD_REQUEST, {NONE, NONE, NONE}},
    {"LF-only line ends",
     CT,
     B("--XyZ\nContent-Disposition: form-data; name=\"audio\"\n\nabc\n--XyZ--\n"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"LF-only header line end",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=\"audio\"\n\r\nabc\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"CR without LF in the headers",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data;\r name=\"audio\"\r\n\r\nabc\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"a part's first line starting with the boundary",
     CT,
     B(AUDIO_HDR "--XyZabc\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"a data line starting with the boundary",
     CT,
     B(AUDIO_HDR "abc\r\n--XyZabc\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"a boundary followed by one dash",
     CT,
     B(AUDIO_HDR "abc\r\n--XyZ-x\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"duplicate part names",
     CT,
     B(AUDIO_HDR "a\r\n" AUDIO_HDR "b\r\n" SESSION "--XyZ--"),
     ROSE_ERR_INVALID_FIELD,
     {NONE, NONE, NONE}},
    {"duplicate unknown part names",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\na\r\n"
       "--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nb\r\n--XyZ--"),
     ROSE_ERR_INVALID_FIELD,
     {NONE, NONE, NONE}},
    {"missing session_id",
     CT,
     B(AUDIO_HDR "a\r\n--XyZ--"),
     ROSE_ERR_MISSING_FIELD,
     {NONE, NONE, NONE}},
    {"missing audio", CT, B(SESSION "--XyZ--"), ROSE_ERR_MISSING_FIELD, {NONE, NONE, NONE}},
    {"audio one byte over its limit",
     CT,
     B(AUDIO_HDR "01234567890123456789012345678901234567890123456789012345678901234\r\n" SESSION
                 "--XyZ--"),
     ROSE_ERR_TOO_LARGE,
     {NONE, NONE, NONE}},
    {"session_id over its limit",
     CT,
     B(AUDIO_HDR "a\r\n--XyZ\r\nContent-Disposition: form-data; name=\"session_id\"\r\n\r\n"
                 "6f1c2a9e-1111-4a4a-9b9b-123456789abcd\r\n--XyZ--"),
     ROSE_ERR_TOO_LARGE,
     {NONE, NONE, NONE}},
    {"folded header line",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data;\r\n name=\"audio\"\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"no Content-Disposition",
     CT,
     B("--XyZ\r\nContent-Type: audio/wav\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"no headers at all",
     CT,
     B("--XyZ\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"attachment, not form-data",
     CT,
     B("--XyZ\r\nContent-Disposition: attachment; name=\"audio\"\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"no name",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"empty name",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"name given twice",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"two Content-Disposition headers",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; "
       "name=b\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"two Content-Type headers",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Type: a/b\r\nContent-Type: "
       "c/d\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"empty Content-Type",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Type: \r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"header line without a colon",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=a\r\nnonsense\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"space before the colon",
     CT,
     B("--XyZ\r\nContent-Disposition : form-data; name=a\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"NUL in a header",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"file name that is not UTF-8",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=a; "
       "filename=\"\xff.wav\"\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"tab in a file name",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=a; "
       "filename=\"a\tb.wav\"\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"unterminated quoted name",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=\"audio\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
    {"garbage after a parameter",
     CT,
     B("--XyZ\r\nContent-Disposition: form-data; name=\"audio\" x\r\n\r\na\r\n--XyZ--"),
     ROSE_ERR_BAD_REQUEST,
     {NONE, NONE, NONE}},
};

/* The outcome of one parse, with copies of the parts. */
struct got {
    enum rose_err err;
    char reason[200];
    int present[NFIELDS];
    struct rose_buf data[NFIELDS];
    char filename[NFIELDS][64];
    char ctype[NFIELDS][64];
    int has_filename[NFIELDS], has_ctype[NFIELDS];
};

static void
got_free(struct got *g)
{
    int i;

    for (i = 0; i < NFIELDS; i++)
        rose_buf_free(&g->data[i]);
}

/*
 * Parse body[0..len) fed in pieces: cuts[0..ncuts) are the positions where a
 * new piece starts (ascending); step > 0 instead feeds step bytes at a time.
 * Each piece is copied to a buffer of its own size, so reading past a piece
 * is a sanitizer error.
 */
static void
parse(const char *ctype, const char *body, size_t len, const size_t *cuts, size_t ncuts,
      size_t step, struct got *g)
{
    struct rose_multipart *p = NULL;
    struct rose_multipart_part *part;
    size_t at = 0, end, k = 0;
    char *piece;
    int i;

    memset(g, 0, sizeof(*g));
    for (i = 0; i < NFIELDS; i++)
        rose_buf_init(&g->data[i], 1024);
    g->err = rose_multipart_new(ctype, fields, NFIELDS, &p, g->reason, sizeof(g->reason));
    if (g->err != ROSE_OK)
        return;
    while (at < len && g->err == ROSE_OK) {
        end = step ? at + step : k < ncuts ? cuts[k++] : len;
        if (end > len)
            end = len;
        if ((piece = malloc(end - at)) == NULL)
            abort();
        memcpy(piece, body + at, end - at);
        g->err = rose_multipart_feed(p, piece, end - at);
        free(piece);
        at = end;
    }
    if (g->err == ROSE_OK)
        g->err = rose_multipart_finish(p);
    snprintf(g->reason, sizeof(g->reason), "%s", rose_multipart_reason(p));
    for (i = 0; g->err == ROSE_OK && i < NFIELDS; i++) {
        if ((part = rose_multipart_get(p, (size_t)i)) == NULL)
            continue;
        g->present[i] = 1;
        if (part->data == NULL || part->data[part->len] != '\0' ||
            rose_buf_append(&g->data[i], part->data, part->len) != ROSE_OK)
            g->present[i] = -1; /* broken promise: shows as a mismatch */
        if ((g->has_filename[i] = part->filename != NULL))
            snprintf(g->filename[i], sizeof(g->filename[i]), "%s", part->filename);
        if ((g->has_ctype[i] = part->content_type != NULL))
            snprintf(g->ctype[i], sizeof(g->ctype[i]), "%s", part->content_type);
    }
    rose_multipart_free(p);
}

static int
str_same(int has, const char *got, const char *want)
{
    return want == NULL ? !has : has && strcmp(got, want) == 0;
}

/* 1 if g is what the case wants; else says why on a "#" line. */
static int
matches(const struct mp_case *c, const struct got *g, const char *how)
{
    int i;

    if (g->err != c->err) {
        printf("#   %s: got %s (%s), want %s\n", how, rose_err_code(g->err), g->reason,
               rose_err_code(c->err));
        return 0;
    }
    if ((g->err == ROSE_OK) != (g->reason[0] == '\0')) {
        printf("#   %s: reason '%s' does not fit the result\n", how, g->reason);
        return 0;
    }
    if (g->err != ROSE_OK)
        return 1;
    for (i = 0; i < NFIELDS; i++) {
        const struct want *w = &c->want[i];
        int ok = w->data == NULL
                     ? g->present[i] == 0
                     : g->present[i] == 1 && g->data[i].len == w->len &&
                           (w->len == 0 || memcmp(g->data[i].data, w->data, w->len) == 0) &&
                           str_same(g->has_filename[i], g->filename[i], w->filename) &&
                           str_same(g->has_ctype[i], g->ctype[i], w->ctype);
        if (!ok) {
            printf("#   %s: field %s differs (present %d, %zu bytes)\n", how, fields[i].name,
                   g->present[i], g->data[i].len);
            return 0;
        }
    }
    return 1;
}

static void
test_table(void)
{
    size_t i, k;
    struct got g;
    int ok;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct mp_case *c = &cases[i];

        parse(c->ctype, c->body, c->len, NULL, 0, 0, &g);
        ok = matches(c, &g, "whole");
        if (ok && c->err != ROSE_OK)
            ok = g.reason[0] != '\0';
        got_free(&g);
        T_OK(ok, "%s: whole", c->what);

        parse(c->ctype, c->body, c->len, NULL, 0, 1, &g);
        ok = matches(c, &g, "byte by byte");
        got_free(&g);
        T_OK(ok, "%s: byte by byte", c->what);

        for (k = 0, ok = 1; ok && k <= c->len; k++) {
            char how[48];

            snprintf(how, sizeof(how), "split at %zu", k);
            parse(c->ctype, c->body, c->len, &k, 1, 0, &g);
            ok = matches(c, &g, how);
            got_free(&g);
        }
        T_OK(ok, "%s: split at every position", c->what);
    }
}

/* One part of n filler bytes of headers (an X-Pad header) named name. */
static void
add_padded_part(struct rose_buf *b, const char *name, size_t header_bytes)
{
    static const char fmt[] = "Content-Disposition: form-data; name=\"%s\"\r\n";
    size_t fixed, pad;

    /* Counted: the CRLF ending the boundary line, the header lines, the
     * blank line's CRLF. */
    fixed = 2 + (sizeof(fmt) - 3 + strlen(name)) + strlen("X-Pad: \r\n") + 2;
    pad = header_bytes - fixed;
    rose_buf_puts(b, "--XyZ\r\n");
    rose_buf_printf(b, fmt, name);
    rose_buf_puts(b, "X-Pad: ");
    while (pad-- > 0)
        rose_buf_append(b, "p", 1);
    rose_buf_puts(b, "\r\n\r\nvalue\r\n");
}

static enum rose_err
parse_built(const struct rose_buf *b, char *reason, size_t reasonlen)
{
    struct rose_multipart *p;
    enum rose_err err;

    if ((err = rose_multipart_new(CT, fields, NFIELDS, &p, NULL, 0)) != ROSE_OK)
        return err;
    if ((err = rose_multipart_feed(p, b->data, b->len)) == ROSE_OK)
        err = rose_multipart_finish(p);
    snprintf(reason, reasonlen, "%s", rose_multipart_reason(p));
    rose_multipart_free(p);
    return err;
}

static void
test_caps(void)
{
    struct rose_buf b;
    char reason[200], name[16];
    int i;

    rose_buf_init(&b, 1 << 20);
    add_padded_part(&b, "audio", ROSE_MULTIPART_HEADER_MAX);
    rose_buf_puts(&b, SESSION "--XyZ--");
    T_INT(parse_built(&b, reason, sizeof(reason)), ROSE_OK, "headers of exactly %d bytes: ok",
          ROSE_MULTIPART_HEADER_MAX);

    rose_buf_reset(&b);
    add_padded_part(&b, "audio", ROSE_MULTIPART_HEADER_MAX + 1);
    rose_buf_puts(&b, SESSION "--XyZ--");
    T_INT(parse_built(&b, reason, sizeof(reason)), ROSE_ERR_BAD_REQUEST,
          "headers of %d bytes: bad request", ROSE_MULTIPART_HEADER_MAX + 1);
    T_OK(strstr(reason, "8192") != NULL, "header cap: the reason names the limit (%s)", reason);

    /* Transport padding counts too: a boundary line padded past the cap. */
    rose_buf_reset(&b);
    rose_buf_puts(&b, "--XyZ");
    for (i = 0; i < ROSE_MULTIPART_HEADER_MAX; i++)
        rose_buf_append(&b, " ", 1);
    rose_buf_puts(&b, "\r\nContent-Disposition: form-data; name=audio\r\n\r\na\r\n--XyZ--");
    T_INT(parse_built(&b, reason, sizeof(reason)), ROSE_ERR_BAD_REQUEST,
          "transport padding counts towards the header cap");

    rose_buf_reset(&b);
    rose_buf_puts(&b, AUDIO_HDR "a\r\n" SESSION);
    for (i = 2; i < ROSE_MULTIPART_PARTS_MAX; i++) {
        snprintf(name, sizeof(name), "extra%d", i);
        add_padded_part(&b, name, 100);
    }
    rose_buf_puts(&b, "--XyZ--");
    T_INT(parse_built(&b, reason, sizeof(reason)), ROSE_OK, "%d parts: ok",
          ROSE_MULTIPART_PARTS_MAX);
    b.len -= strlen("--XyZ--");
    add_padded_part(&b, "one_more", 100);
    rose_buf_puts(&b, "--XyZ--");
    T_INT(parse_built(&b, reason, sizeof(reason)), ROSE_ERR_BAD_REQUEST, "%d parts: bad request",
          ROSE_MULTIPART_PARTS_MAX + 1);
    T_OK(strstr(reason, "parts") != NULL, "part cap: reason says so (%s)", reason);
    rose_buf_free(&b);
}

static void
test_api(void)
{
    static const struct rose_multipart_field bad[] = {{"audio", 0, 0}};
    static const char body[] = AUDIO_HDR "\x1a\x45\xdf\xa3"
                                         "data\r\n" SESSION "--XyZ--";
    struct rose_multipart *p = NULL;
    struct rose_multipart_part *part;
    char msg[128], *data;
    size_t len;

    T_INT(rose_multipart_new(CT, bad, 1, &p, msg, sizeof(msg)), ROSE_ERR_INTERNAL,
          "a field with max 0 is a bug");
    T_OK(p == NULL, "no parser on failure");
    T_INT(rose_multipart_new("text/plain", fields, NFIELDS, &p, msg, sizeof(msg)),
          ROSE_ERR_MEDIA_TYPE, "text/plain: media type");
    T_STR(msg, "The request must be sent as multipart/form-data.", "media type: reason");

    T_INT(rose_multipart_new(CT, fields, NFIELDS, &p, msg, sizeof(msg)), ROSE_OK, "new: ok");
    T_STR(msg, "", "new: empty msg on success");
    T_STR(rose_multipart_reason(p), "", "no reason before an error");
    T_INT(rose_multipart_feed(p, NULL, 0), ROSE_OK, "feeding nothing is fine");
    T_INT(rose_multipart_feed(p, body, sizeof(body) - 1), ROSE_OK, "feed: ok");
    T_OK(rose_multipart_get(p, F_AUDIO) == NULL, "no parts before finish");
    T_INT(rose_multipart_feed(p, "trailing epilogue", 17), ROSE_OK, "epilogue fed later: ignored");
    T_INT(rose_multipart_finish(p), ROSE_OK, "finish: ok");
    T_INT(rose_multipart_finish(p), ROSE_OK, "finish twice: ok");
    T_INT(rose_multipart_feed(p, "x", 1), ROSE_ERR_INTERNAL, "feed after finish: a bug");
    T_OK(rose_multipart_get(p, NFIELDS) == NULL, "get out of range: NULL");
    T_OK(rose_multipart_get(p, F_NOTE) == NULL, "absent optional field: NULL");
    part = rose_multipart_get(p, F_AUDIO);
    T_OK(part != NULL && part->len == 8 && strcmp(part->name, "audio") == 0, "audio part");
    data = part ? part->data : NULL;
    len = part ? part->len : 0;
    if (part)
        part->data = NULL; /* taken: the parser must not free it */
    rose_multipart_free(p);
    T_OK(data != NULL && len == 8 &&
             memcmp(data,
                    "\x1a\x45\xdf\xa3"
                    "data",
                    8) == 0,
         "taken data outlives the parser");
    free(data);

    /* A spent parser keeps answering with its error. */
    T_INT(rose_multipart_new(CT, fields, NFIELDS, &p, NULL, 0), ROSE_OK, "new without msg");
    T_INT(rose_multipart_feed(p, B(AUDIO_HDR "a\r\n--XyZoops")), ROSE_ERR_BAD_REQUEST,
          "not a boundary: bad request");
    T_OK(rose_multipart_reason(p)[0] != '\0', "reason set: %s", rose_multipart_reason(p));
    T_INT(rose_multipart_feed(p, B("\r\n--XyZ--")), ROSE_ERR_BAD_REQUEST, "spent: feed");
    T_INT(rose_multipart_finish(p), ROSE_ERR_BAD_REQUEST, "spent: finish");
    T_OK(rose_multipart_get(p, F_AUDIO) == NULL, "spent: no parts");
    rose_multipart_free(p);

    T_INT(rose_multipart_new(CT, fields, NFIELDS, &p, NULL, 0), ROSE_OK, "new");
    T_INT(rose_multipart_feed(p, B(AUDIO_HDR "a\r\n" AUDIO_HDR)), ROSE_ERR_INVALID_FIELD,
          "duplicate: invalid field while feeding");
    T_OK(strstr(rose_multipart_reason(p), "\"audio\"") != NULL, "duplicate: reason names it (%s)",
         rose_multipart_reason(p));
    rose_multipart_free(p);
    rose_multipart_free(NULL);
}

int
main(void)
{
    test_table();
    test_caps();
    test_api();
    return t_done();
}
