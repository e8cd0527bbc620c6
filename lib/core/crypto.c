/*
 * crypto.c — SHA-256, HMAC-SHA256, randomness, tokens (see crypto.h).
 *
 * SHA-256 is written out here (FIPS 180-4 §6.2) rather than taken from
 * OpenSSL: it is a hundred lines, and it spares every binary a dependency
 * for the one hash we use.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

#include "core/crypto.h"

#define SHA256_BLOCK 64

struct sha256 {
    uint32_t h[8];
    uint64_t len;                    /* bytes hashed so far */
    unsigned char buf[SHA256_BLOCK]; /* pending partial block */
    size_t nbuf;                     /* bytes in buf */
};

/* FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t
ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* Process one 64-byte block (FIPS 180-4 §6.2.2). */
static void
sha256_block(struct sha256 *c, const unsigned char *p)
{
    uint32_t w[64], a, b, cc, d, e, f, g, h, t1, t2;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g, g = f, f = e, e = d + t1;
        d = cc, cc = b, b = a, a = t1 + t2;
    }
    c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d;
    c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

static void
sha256_init(struct sha256 *c)
{
    /* §5.3.3: fractional parts of the square roots of the first 8 primes. */
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

    memcpy(c->h, iv, sizeof(iv));
    c->len = 0;
    c->nbuf = 0;
}

static void
sha256_update(struct sha256 *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t k;

    if (n == 0)
        return; /* data may be NULL then, and memcpy(NULL) is undefined */
    c->len += n;
    if (c->nbuf > 0) {
        k = SHA256_BLOCK - c->nbuf;
        if (k > n)
            k = n;
        memcpy(c->buf + c->nbuf, p, k);
        c->nbuf += k, p += k, n -= k;
        if (c->nbuf < SHA256_BLOCK)
            return;
        sha256_block(c, c->buf);
        c->nbuf = 0;
    }
    for (; n >= SHA256_BLOCK; p += SHA256_BLOCK, n -= SHA256_BLOCK)
        sha256_block(c, p);
    if (n > 0)
        memcpy(c->buf, p, n);
    c->nbuf = n;
}

static void
sha256_final(struct sha256 *c, unsigned char out[ROSE_SHA256_LEN])
{
    uint64_t bits = c->len * 8;
    int i;

    /* §5.1.1: a 1 bit, zeros up to 56 mod 64, then the bit length. */
    c->buf[c->nbuf++] = 0x80;
    if (c->nbuf > SHA256_BLOCK - 8) {
        memset(c->buf + c->nbuf, 0, SHA256_BLOCK - c->nbuf);
        sha256_block(c, c->buf);
        c->nbuf = 0;
    }
    memset(c->buf + c->nbuf, 0, SHA256_BLOCK - 8 - c->nbuf);
    for (i = 0; i < 8; i++)
        c->buf[SHA256_BLOCK - 1 - i] = (unsigned char)(bits >> (8 * i));
    sha256_block(c, c->buf);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
    memset(c, 0, sizeof(*c)); /* the state may hold key material (HMAC) */
}

void
rose_sha256(const void *data, size_t n, unsigned char out[ROSE_SHA256_LEN])
{
    struct sha256 c;

    sha256_init(&c);
    sha256_update(&c, data, n);
    sha256_final(&c, out);
}

void
rose_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                 unsigned char out[ROSE_SHA256_LEN])
{
    unsigned char k[SHA256_BLOCK] = {0}, pad[SHA256_BLOCK], inner[ROSE_SHA256_LEN];
    struct sha256 c;
    size_t i;

    /* RFC 2104 §2: K is the key zero-padded to the block size, or its hash
     * if it is longer than a block. */
    if (klen > SHA256_BLOCK)
        rose_sha256(key, klen, k);
    else if (klen > 0)
        memcpy(k, key, klen);

    /* H(K ^ opad || H(K ^ ipad || msg)) */
    for (i = 0; i < SHA256_BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    sha256_init(&c);
    sha256_update(&c, pad, SHA256_BLOCK);
    sha256_update(&c, msg, n);
    sha256_final(&c, inner);

    for (i = 0; i < SHA256_BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    sha256_init(&c);
    sha256_update(&c, pad, SHA256_BLOCK);
    sha256_update(&c, inner, sizeof(inner));
    sha256_final(&c, out);

    memset(k, 0, sizeof(k));
    memset(pad, 0, sizeof(pad));
}

void
rose_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

enum rose_err
rose_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    ssize_t got;

    /* getrandom() may return fewer bytes than asked for (above 256 bytes, or
     * when a signal arrives), so loop until all are filled. */
    while (n > 0) {
        got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return ROSE_ERR_IO;
        }
        p += got;
        n -= (size_t)got;
    }
    return ROSE_OK;
}

void
rose_base64url(const unsigned char *in, size_t n, char *out)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned long v;
    size_t i;

    for (i = 0; i + 3 <= n; i += 3) {
        v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        *out++ = alpha[v >> 18];
        *out++ = alpha[(v >> 12) & 63];
        *out++ = alpha[(v >> 6) & 63];
        *out++ = alpha[v & 63];
    }
    /* One or two bytes left: 2 or 3 characters, no '=' padding. */
    if (n - i == 1) {
        v = (unsigned long)in[i] << 16;
        *out++ = alpha[v >> 18];
        *out++ = alpha[(v >> 12) & 63];
    } else if (n - i == 2) {
        v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
        *out++ = alpha[v >> 18];
        *out++ = alpha[(v >> 12) & 63];
        *out++ = alpha[(v >> 6) & 63];
    }
    *out = '\0';
}

enum rose_err
rose_token_new(char out[44])
{
    unsigned char raw[32];
    enum rose_err err;

    err = rose_random(raw, sizeof(raw));
    if (err == ROSE_OK)
        rose_base64url(raw, sizeof(raw), out);
    memset(raw, 0, sizeof(raw));
    return err;
}

void
rose_token_hash(const char *token, char out[65])
{
    unsigned char h[ROSE_SHA256_LEN];

    rose_sha256(token, strlen(token), h);
    rose_hex(h, sizeof(h), out);
}

int
rose_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const volatile unsigned char *pa = a, *pb = b;
    unsigned char diff = 0;
    size_t i;

    if (alen != blen)
        return 0;
    /* No early exit: the loop always touches every byte, and volatile keeps
     * the compiler from turning it back into one that stops at a mismatch. */
    for (i = 0; i < alen; i++)
        diff |= pa[i] ^ pb[i];
    return diff == 0;
}

void
rose_uuid_new(char out[37])
{
    uuid_t u;

    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}
