/*
 * crypto.h — the few primitives Rose needs: SHA-256, HMAC-SHA256, random
 * bytes from the kernel, user tokens, constant-time comparison and UUIDs.
 *
 * Tokens: a user token is 32 random bytes as base64url (43 characters).  The
 * client keeps the token; the database keeps only rose_token_hash() of it, so
 * a leaked database does not leak usable tokens.  Compare secrets with
 * rose_ct_equal(), never memcmp().
 */
#ifndef ROSE_CRYPTO_H
#define ROSE_CRYPTO_H

#include <stddef.h>
#include "core/err.h"

#define ROSE_SHA256_LEN 32

/* SHA-256 (FIPS 180-4) of data[0..n) into out.  data may be NULL if n is 0. */
void rose_sha256(const void *data, size_t n, unsigned char out[ROSE_SHA256_LEN]);

/* HMAC-SHA256 (RFC 2104) of msg[0..n) under key[0..klen) into out.  Keys
 * longer than 64 bytes are hashed first, as the RFC says.  key or msg may be
 * NULL if its length is 0. */
void rose_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                      unsigned char out[ROSE_SHA256_LEN]);

/* Write in[0..n) as lowercase hex to out, which must hold 2n+1 bytes; out is
 * NUL-terminated. */
void rose_hex(const unsigned char *in, size_t n, char *out);

/* Fill buf with n cryptographically random bytes from getrandom(2), blocking
 * until the kernel pool is initialised.  Returns ROSE_OK or ROSE_ERR_IO (buf
 * contents are then unspecified). */
enum rose_err rose_random(void *buf, size_t n);

/* Write in[0..n) as base64url without padding (RFC 4648 §5) to out, which
 * must hold ((n+2)/3)*4+1 bytes; out is NUL-terminated. */
void rose_base64url(const unsigned char *in, size_t n, char *out);

/* Make a new user token: 32 random bytes as base64url, 43 characters plus
 * the NUL.  Returns ROSE_OK or ROSE_ERR_IO (out is then untouched). */
enum rose_err rose_token_new(char out[44]);

/* sha256(token) as 64 lowercase hex characters plus the NUL: the form the
 * database stores and looks tokens up by.  token is a NUL-terminated string;
 * callers cap its length (ROSE_TOKEN_MAX) before hashing. */
void rose_token_hash(const char *token, char out[65]);

/* 1 if a[0..alen) equals b[0..blen), else 0.  The time taken does not depend
 * on the contents, only on the lengths (whether they differ may leak). */
int rose_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* A new random (version 4) UUID as 36 lowercase characters plus the NUL. */
void rose_uuid_new(char out[37]);

#endif
