/*
 * limits.h — every fixed limit of Rose in one place, each with the reason it
 * exists.  Limits an operator may tune are configuration keys instead
 * (conf/rose.conf.example); these are the ones that protect the code itself.
 * The request and conversation limits come first, then each module's.
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

/* ---- WAV audio (lib/audio/wav.c) ---- */

/* Longest WAV parsed or written, in seconds: the worker's own bound on the
 * memory and CPU one file may cost (the configured MAX_AUDIO_SECONDS, 60 by
 * default, is checked by the caller against duration_ms and is lower). */
#define ROSE_WAV_SECONDS_MAX 600

/* Sample rates and channel counts the parser accepts: telephone to studio,
 * mono to 7.1. */
#define ROSE_WAV_RATE_MIN 8000
#define ROSE_WAV_RATE_MAX 192000
#define ROSE_WAV_CHANNELS_MAX 8

/* Most silence rose_wav_to_mono16k() appends, in milliseconds. */
#define ROSE_WAV_PAD_MS_MAX 5000

/* ---- The local embedder (lib/engines/embed_local.c) ---- */

/* Bytes of one text the embedder reads; the rest is ignored.  A memory or a
 * chat message is a few hundred bytes (ROSE_MESSAGE_MAX is 4000), and the
 * cost must stay bounded whatever a caller passes. */
#define ROSE_EMBED_TEXT_MAX 16384

/* Words of one text that count; later ones are ignored.  A mean over more
 * words than this changes little, and the bound keeps the time bounded. */
#define ROSE_EMBED_TOKENS_MAX 1024

/* Largest vector dimension a model file may declare (ours is 100); callers
 * may size stack buffers with it. */
#define ROSE_EMBED_DIM_MAX 1024

/* Bytes of a streamed reply spoken as one piece when no sentence ends in
 * them (rose_text_sentence_end()): a listener should not wait on a run-on,
 * and a piece must stay well within what a speech engine takes in a call. */
#define ROSE_SPEECH_PIECE_MAX 600

/* Bytes of one speech provider answer: an MP3 of a few sentences is well
 * under 1 MiB. */
#define ROSE_SPEECH_RESPONSE_MAX (8 * 1024 * 1024)

/* ---- Offline speech (lib/engines/tts_flite.c) ---- */

/* Most bytes of text one call speaks: a reply of a few sentences is far
 * less, and the time to synthesise grows with the text. */
#define ROSE_TTS_TEXT_MAX 4096

/* ---- Multipart uploads (lib/http/multipart.c) ---- */

/* The longest boundary RFC 2046 allows. */
#define ROSE_MULTIPART_BOUNDARY_MAX 70

/* Header bytes of one part.  A browser writes about 150 (Content-Disposition
 * with name and filename, Content-Type); 8 KiB leaves room for long file
 * names while keeping what one part can make us buffer small. */
#define ROSE_MULTIPART_HEADER_MAX 8192

/* Parts in one body.  A voice upload has two (audio, session_id); a body
 * with many tiny parts only costs us work. */
#define ROSE_MULTIPART_PARTS_MAX 16

/* ---- Long-term memory (lib/memory/) ---- */

/* Bytes of one memory's text: memories are one sentence ("Her mother died
 * last spring"); more is a transcript, which is not what we keep. */
#define ROSE_MEMORY_TEXT_MAX 1000

/* Floats in one vector: text-embedding-3-large has 3072. */
#define ROSE_VECTOR_DIM_MAX 4096

/* Results of one search: prompts use 1..20 (MEMORY_TOP_K). */
#define ROSE_VECTOR_K_MAX 100

/* Memories one list returns: a person with more has been fed a script. */
#define ROSE_MEMORY_LIST_MAX 100000

/* Bytes of vectors (and ids) a handle keeps between searches: 100,000
 * memories of 100 floats; a bigger user is scanned from SQLite each time. */
#define ROSE_VECTOR_CACHE_MAX (64 * 1024 * 1024)

/* ---- Providers (lib/providers/) ---- */

/* Texts in one embeddings request: a memory search
 * embeds one, a re-embedding batch 32; OpenAI accepts up to 2048. */
#define ROSE_EMBED_BATCH_MAX 256

/* Bytes of a kept header value or error kind, with its NUL. */
#define ROSE_PCALL_VALUE_MAX 64

/* ---- Cron jobs (lib/ops/job.c) ---- */

/* Job-specific long options (--restore FILE); more is a sign the job should
 * be split. */
#define ROSE_JOB_OPTS_MAX 4

/* ---- The store (lib/store/store.c) ---- */

/* Busy timeout: how long a writer waits for another worker's transaction. */
#define ROSE_STORE_BUSY_MS 5000

#endif
