/*
 * embed_local.h — the built-in sentence embedder: no network, no model
 * service, under a millisecond per sentence.
 *
 * A sentence's vector is the weighted mean of its words' vectors, L2-
 * normalised, so the cosine of two sentences is their dot product.  The word
 * vectors are fastText skip-gram vectors trained at build time on the
 * dictionaries Debian ships (WordNet and GCIDE), where a word stands near
 * the words that define it, then pulled towards their WordNet synonyms,
 * hypernyms and lemmas: "mom" lands near "mother", "anxious" near
 * "worried", "died" near "passed away", though they share no letters.
 * Frequent words weigh less (a / (a + p(word)), "SIF"), so "the" and "my"
 * hardly count.  Word order and negation are not seen: "I lost my keys"
 * and "I lost my father" are close.
 * lib/engines/embed-model/build.sh makes the model file and
 * docs/internals/embeddings.md explains the choices and their measurements.
 *
 * The model file is mapped read-only and shared by every worker process
 * that opens it.  A model handle is immutable after open: any number of
 * threads may embed with one handle at once; open and close are the
 * caller's to order.
 */
#ifndef ROSE_EMBED_LOCAL_H
#define ROSE_EMBED_LOCAL_H

#include <stddef.h>

#include "core/err.h"
#include "core/limits.h"

struct rose_embed_local;

/* Map the model file at path and check it: magic, version, dimension and
 * counts, every section's size against the file's length, the word table
 * (offsets inside the string section, NUL-terminated, strictly sorted).  A
 * truncated or corrupt file is an error, never a crash later.
 * On success *out is set (close it with rose_embed_local_close()).
 * ROSE_ERR_IO if the file cannot be opened, read or mapped; ROSE_ERR_PARSE
 * if it is not a valid model; ROSE_ERR_NOMEM.  Does not log. */
enum rose_err rose_embed_local_open(const char *path, struct rose_embed_local **out);

/* The number of floats in a vector of model m. */
int rose_embed_local_dim(const struct rose_embed_local *m);

/* The identity of model m's vector space, e.g. "local:rose-embed-1a2b3c4d:100"
 * (a hash of the model's contents and its dimension), valid until close.
 * Vectors are comparable only between models with the same id: every
 * training run (and so every rebuild, unless EMBED_THREADS=1) places the
 * words differently.  Store it beside each vector and re-embed on a
 * change. */
const char *rose_embed_local_id(const struct rose_embed_local *m);

/* Embed text (NUL-terminated, UTF-8 expected but not required) into out,
 * which holds rose_embed_local_dim(m) floats.  Words are runs of ASCII
 * letters, lowercased; accented Latin letters count as their base letter;
 * a possessive 's is dropped and other apostrophes (' and U+2019) are
 * removed inside a word; anything else separates words.  Only the first
 * ROSE_EMBED_TEXT_MAX bytes and ROSE_EMBED_TOKENS_MAX words are read.
 * Returns ROSE_OK with out a unit vector, or ROSE_ERR_EMPTY with out all
 * zeros if no word of the text is in the model (empty text, digits only,
 * another script, unknown words).  Thread-safe; does not allocate. */
enum rose_err rose_embed_local_text(const struct rose_embed_local *m, const char *text, float *out);

/* The cosine of two unit vectors of dim floats (their dot product): 1 for
 * the same meaning, about 0 for unrelated texts, 0 if either is zero. */
float rose_embed_cosine(const float *a, const float *b, int dim);

/* Unmap and free m.  NULL is a no-op. */
void rose_embed_local_close(struct rose_embed_local *m);

#endif
