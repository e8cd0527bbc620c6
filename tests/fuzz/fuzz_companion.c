/*
 * fuzz_companion.c — libFuzzer harness for the offline companion engine and
 * the text handling of the persona module.
 *
 * The input is split at 0x1e (ASCII record separator) into parts:
 *   part 0        the message
 *   part 1        the known name
 *   part 2        Rose's activity
 *   parts 3...    history, alternating user / assistant; every part is
 *                 also offered as a long-term memory
 * so the corpus files are readable conversations.  The harness aborts when
 * a promise of companion.h or persona.h breaks: a reply is never empty, is
 * valid UTF-8 without markup, never repeats the last assistant message;
 * markup stripping leaves no asterisks or backticks and keeps valid UTF-8
 * valid; cutting a reply into speakable pieces as it streams partitions it
 * at spaces, keeps valid UTF-8 valid and respects the piece limits; the
 * system prompt is valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/text.h"
#include "engines/companion.h"
#include "pipeline/persona.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARTS_MAX 16

static void
check_reply(const struct rose_companion_ctx *ctx)
{
    const char *last = NULL;
    char *out = NULL;
    size_t i;

    if (rose_companion_reply(ctx, &out) != ROSE_OK)
        abort();
    if (out[0] == '\0' || !rose_utf8_valid(out, strlen(out)))
        abort();
    if (strchr(out, '*') || strchr(out, '#') || strchr(out, '`') || strchr(out, '\n'))
        abort();
    for (i = ctx->history_len; i > 0; i--) {
        const struct rose_companion_msg *m = &ctx->history[i - 1];
        if (m->role && m->text && strcmp(m->role, "assistant") == 0) {
            last = m->text;
            break;
        }
    }
    if (last && strcmp(out, last) == 0)
        abort();
    free(out);
}

static void
check_strip(const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    size_t len;

    if (copy == NULL)
        return;
    memcpy(copy, s, n + 1);
    len = rose_text_strip_markup(copy);
    if (len != strlen(copy) || strchr(copy, '*') || strchr(copy, '`'))
        abort();
    if (len > 0 && (copy[0] == ' ' || copy[len - 1] == ' '))
        abort();
    if (rose_utf8_valid(s, n) && !rose_utf8_valid(copy, len))
        abort();
    free(copy);
}

/* Feed s to rose_text_sentence_end() as a stream would: each cut must fall
 * inside what is pending, just before a space or newline, leave valid UTF-8
 * on both sides, and end a sentence of at least 20 bytes or stay within
 * ROSE_SPEECH_PIECE_MAX. */
static void
check_pieces(const char *s, size_t n)
{
    size_t at = 0, cut;

    while (at < n && (cut = rose_text_sentence_end(s + at, n - at, 20)) > 0) {
        if (cut >= n - at || (s[at + cut] != ' ' && s[at + cut] != '\n'))
            abort();
        if (rose_utf8_valid(s, n) &&
            (!rose_utf8_valid(s + at, cut) || !rose_utf8_valid(s + at + cut, n - at - cut)))
            abort();
        {
            char end = s[at + cut - 1];
            int sentence = end == '.' || end == '!' || end == '?' ||
                           (cut >= 3 && memcmp(s + at + cut - 3, "\xe2\x80\xa6", 3) == 0);
            if (!(sentence && cut >= 20) && cut > ROSE_SPEECH_PIECE_MAX)
                abort(); /* neither a whole sentence nor a bounded run-on cut */
        }
        at += cut;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rose_companion_msg history[PARTS_MAX];
    const char *parts[PARTS_MAX], *mems[PARTS_MAX];
    struct rose_companion_ctx ctx;
    struct rose_persona_ctx pctx;
    size_t nparts = 0, nhist = 0, i;
    char *buf, *p, *prompt = NULL, name[64];

    if ((buf = malloc(size + 1)) == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    check_strip(buf, strnlen(buf, size));
    check_pieces(buf, strnlen(buf, size));

    /* Split at record separators (a NUL inside the input ends the text). */
    for (p = buf; nparts < PARTS_MAX;) {
        char *rs = strchr(p, 0x1e);
        parts[nparts++] = p;
        if (rs == NULL)
            break;
        *rs = '\0';
        p = rs + 1;
    }
    for (i = 3; i < nparts; i++) {
        history[nhist].role = (i - 3) % 2 ? "assistant" : "user";
        history[nhist].text = parts[i];
        mems[nhist] = parts[i];
        nhist++;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.message = parts[0];
    ctx.name = nparts > 1 ? parts[1] : NULL;
    ctx.activity = nparts > 2 ? parts[2] : NULL;
    ctx.history = nhist ? history : NULL;
    ctx.history_len = nhist;
    ctx.memories = mems;
    ctx.memories_len = nhist;
    ctx.seed = size;
    check_reply(&ctx);

    if (rose_companion_find_name(parts[0], name, sizeof(name)) &&
        (name[0] == '\0' || !rose_utf8_valid(name, strlen(name))))
        abort();

    memset(&pctx, 0, sizeof(pctx));
    pctx.name = ctx.name;
    pctx.memories = mems;
    pctx.memories_len = nhist;
    pctx.summary = parts[0];
    pctx.now = (time_t)(size * 3607);
    if (rose_persona_system_prompt(&pctx, &prompt) != ROSE_OK ||
        !rose_utf8_valid(prompt, strlen(prompt)))
        abort();
    free(prompt);
    free(buf);
    return 0;
}
