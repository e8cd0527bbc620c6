/*
 * companion.h — the offline companion engine: Rose's replies when no LLM is
 * configured or the LLM is down (DESIGN.md §7).
 *
 * It is a reflective listener, not a language model: it reads the feeling
 * and the people in a message, reflects the person's own words back with the
 * pronouns turned around, weaves in a long-term memory that shares a word
 * with the message, and asks one gentle open question it has not just asked.
 * Every reply is one to three plain sentences in Rose's voice.
 */
#ifndef ROSE_COMPANION_H
#define ROSE_COMPANION_H

#include <stddef.h>

#include "core/err.h"

struct rose_companion_msg {
    const char *role; /* "user" | "assistant"; anything else is ignored */
    const char *text;
};

struct rose_companion_ctx {
    const char *message;                      /* the user's latest message (UTF-8) */
    const struct rose_companion_msg *history; /* recent messages, oldest first, may be NULL */
    size_t history_len;
    const char *name;            /* known name of the person, or NULL */
    const char *const *memories; /* long-term memories about them, may be NULL */
    size_t memories_len;
    const char *activity; /* what Rose is doing now (rose_persona_activity()), or NULL */
    unsigned long seed;   /* varies choices; the caller passes e.g. the message count */
};

/* Compose Rose's reply to ctx->message.  Any bytes are accepted (a NULL
 * message is an empty one); only the first few KiB of the message, the last
 * few history entries and the first memories are read, so the work is
 * bounded.  The reply is valid UTF-8, one to three sentences, and never
 * equal to the last assistant message in ctx->history; an empty or blank
 * message gets a short invitation.  Deterministic for the same ctx.
 * On success *out is a non-empty string the caller frees; ROSE_ERR_NOMEM
 * leaves *out untouched. */
enum rose_err rose_companion_reply(const struct rose_companion_ctx *ctx, char **out);

/* Find a self-introduced name in text: "my name is Sarah", "call me Sarah",
 * "I'm Sarah", "I am Sarah", "this is Sarah".  States are not names ("I'm
 * sad", "I'm not sure"), and after "I'm", "I am" and "this is" the name
 * must be written with a capital, since "i'm lost" and "this is hard" are
 * far more common than a lowercase name.  On a match writes the name,
 * capitalised, into buf (len bytes) and returns 1; otherwise (or if it does
 * not fit) returns 0 and leaves buf alone.  NULL text gives 0. */
int rose_companion_find_name(const char *text, char *buf, size_t len);

#endif
