/*
 * fuzz_utf8.c — libFuzzer harness for rose_utf8_valid().
 *
 * Differential: rose_utf8_valid() checks byte ranges (Unicode Table 3-7);
 * the reference below decodes each code point and then checks its value.
 * The two are written differently on purpose, so a disagreement points at a
 * bug in one of them; the harness aborts on any.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode, then reject what is not a Unicode scalar value in its shortest
 * form. */
static int
ref_valid(const uint8_t *p, size_t n)
{
    /* The smallest code point each sequence length may encode. */
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t i = 0, len, k;
    uint32_t cp;

    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        } else if ((p[i] & 0xe0) == 0xc0) {
            len = 2, cp = p[i] & 0x1f;
        } else if ((p[i] & 0xf0) == 0xe0) {
            len = 3, cp = p[i] & 0x0f;
        } else if ((p[i] & 0xf8) == 0xf0) {
            len = 4, cp = p[i] & 0x07;
        } else {
            return 0; /* continuation byte or a 5/6-byte lead, FE, FF */
        }
        if (n - i < len)
            return 0;
        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (rose_utf8_valid((const char *)data, size) != ref_valid(data, size))
        abort();
    return 0;
}
