/*
 * persona.h — who Rose is: every prompt the pipeline sends to an LLM, her
 * weekly schedule, the assembly of the reply system prompt, and the cleanup
 * that keeps LLM output speakable (no asterisks, no markdown).
 *
 * All of Rose's words live in persona.c as plain string constants, so a
 * writer can change her voice without reading any logic.
 */
#ifndef ROSE_PERSONA_H
#define ROSE_PERSONA_H

#include <stddef.h>
#include <time.h>

#include "core/err.h"

/* What rose_persona_system_prompt() folds into the character card.  Every
 * pointer may be NULL (or a string empty) and that section is left out.
 * The strings come from users and from LLM output: the assembly strips
 * control characters and invalid UTF-8 and caps each one, so a stored
 * memory cannot forge a section of the prompt. */
struct rose_persona_ctx {
    const char *name;            /* the person's name, if known */
    const char *const *memories; /* long-term memories about them */
    size_t memories_len;         /* entries in memories (extra ones are ignored) */
    const char *summary;         /* running summary of older messages */
    time_t now;                  /* picks her current activity (local time) */
};

/* The character card: Rose's identity, voice rules and how to use the
 * context that follows it.  Static storage; never NULL. */
const char *rose_persona_character_card(void);

/* System prompt for the router: the small LLM answers with exactly one word,
 * "conversation", "image" or "audio".  Static storage; never NULL. */
const char *rose_persona_router_prompt(void);

/* System prompt for summarization: the user content holds the existing
 * summary (if any) and the older messages; the answer is the new running
 * summary, third person.  Static storage; never NULL. */
const char *rose_persona_summary_prompt(void);

/* System prompt for memory extraction: the answer is JSON
 * {"is_important": bool, "formatted_memory": string|null}.  Static storage;
 * never NULL. */
const char *rose_persona_memory_prompt(void);

/* Rose's activity at minute-of-day minute (0..1439) of weekday wday
 * (0 = Sunday .. 6, as struct tm).  Out-of-range values are wrapped into
 * range.  Returns a lowercase gerund phrase ("tending the herb garden at
 * dawn") in static storage; never NULL. */
const char *rose_persona_activity_at(int wday, int minute);

/* Write Rose's activity for the local time now into buf (len bytes,
 * NUL-terminated).  ROSE_ERR_TOO_LARGE if it does not fit,
 * ROSE_ERR_INTERNAL if now cannot be broken down; buf is written only on
 * success. */
enum rose_err rose_persona_activity(time_t now, char *buf, size_t len);

/* Assemble the full system prompt for a reply: character card, the day and
 * her current activity, then the name, memories and summary sections that
 * ctx provides.  On success *out is a NUL-terminated, valid UTF-8 string
 * the caller frees.  ROSE_ERR_NOMEM; ROSE_ERR_INTERNAL if ctx or out is NULL
 * or ctx->now cannot be broken down.  *out is untouched on failure. */
enum rose_err rose_persona_system_prompt(const struct rose_persona_ctx *ctx, char **out);

/* Make LLM output speakable, in place: drops single-asterisk spans with their
 * content (stage directions such as "*sighs*"), bold/italic markers ("**",
 * "***", "_word_", "~~"), backticks, heading marks ("# "), quote marks
 * ("> "), list bullets at line start ("- ", "* ", "+ ", "1. ", "1) ", "•"),
 * and rule lines ("---"); turns every run of white space or control
 * characters into one space and trims both ends.  Only ASCII bytes are
 * removed, so valid UTF-8 stays valid; any bytes are safe.  Work is linear
 * in the length.  Returns the new length; NULL gives 0. */
size_t rose_text_strip_markup(char *s);

/* Where the first speakable piece of p[0..n) ends, for speaking a reply while
 * it is still being written: just after the first sentence end (".", "!",
 * "?" or "…") that white space follows, is at least min bytes from the start
 * and is not inside a single-asterisk *stage direction*; failing that, when
 * more than ROSE_SPEECH_PIECE_MAX bytes have come with no such end, at the
 * last space within them.  0 when no piece is complete yet (the text may go
 * on).  A cut always falls before an ASCII space or newline, so both sides
 * stay valid UTF-8.  Work is linear in n. */
size_t rose_text_sentence_end(const char *p, size_t n, size_t min);

#endif
