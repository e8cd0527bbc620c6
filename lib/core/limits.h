/*
 * limits.h — every fixed limit of Rose in one place, each with the reason it
 * exists.  Limits an operator may tune are configuration keys instead
 * (conf/rose.conf.example); these are the ones that protect the code itself.
 */
#ifndef ROSE_LIMITS_H
#define ROSE_LIMITS_H

/* A JSON request body; a chat turn is a few KiB, this leaves room for an
 * image data-URL while keeping one request's memory bounded. */
#define ROSE_JSON_BODY_MAX (64 * 1024)

/* A request body the worker will read at all (multipart audio included);
 * the web server enforces the same cap before us (conf/). */
#define ROSE_BODY_MAX (11 * 1024 * 1024)

/* Nesting depth json-c may build; deep nesting is a stack-exhaustion attack,
 * and no Rose request nests deeper than 3. */
#define ROSE_JSON_DEPTH_MAX 8

/* A single configuration line or value; longer is a mistake or an attack. */
#define ROSE_CONF_LINE_MAX 4096

/* The KEY=VALUE configuration file; the example is ~5 KiB. */
#define ROSE_CONF_FILE_MAX (256 * 1024)

/* A secret read from KEY_FILE; keys are < 200 bytes. */
#define ROSE_SECRET_FILE_MAX 4096

/* Request path we will route; longer paths cannot match any route. */
#define ROSE_PATH_MAX 512

/* Bearer token length accepted before hashing; ours are 43 characters. */
#define ROSE_TOKEN_MAX 256

/* A header value we copy (Origin, Accept, Idempotency-Key...). */
#define ROSE_HEADER_MAX 1024

/* Headers one response may carry; fixed so the response never allocates. */
#define ROSE_RESP_HEADERS_MAX 32

/* Origins in ALLOWED_ORIGINS / networks in TRUSTED_PROXIES. */
#define ROSE_LIST_MAX 32

/* Bytes in a growable buffer unless its owner sets a smaller cap. */
#define ROSE_BUF_DEFAULT_MAX (16 * 1024 * 1024)

/* Bytes an LLM may send for one call (SSE framing included): ~4,000
 * streamed tokens; a reply of one to three sentences is far below. */
#define ROSE_LLM_RESPONSE_MAX (1024 * 1024)

/* Messages of the transcript one request returns. */
#define ROSE_TRANSCRIPT_MAX 1000

/* An Idempotency-Key header: printable ASCII, this long at most. */
#define ROSE_IDEM_KEY_MAX 128

/* Running summary kept per session (older text is dropped first). */
#define ROSE_SUMMARY_MAX 4000

/* A user message in a chat turn (also the MAX_MESSAGE_BYTES default). */
#define ROSE_MESSAGE_MAX 4000

#endif
