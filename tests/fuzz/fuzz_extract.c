/*
 * fuzz_extract.c — offline memory rules and the LLM answer reader on any
 * bytes: no crash, memories valid UTF-8 and within ROSE_MEMORY_TEXT_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "memory/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *mem = NULL;
    enum rose_memory_type type;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (rose_memory_extract_offline(s, &mem, &type) == ROSE_OK) {
        if (strlen(mem) > ROSE_MEMORY_TEXT_MAX || !rose_utf8_valid(mem, strlen(mem)) ||
            rose_memory_type_name(type) == NULL)
            abort();
        free(mem);
    }
    mem = NULL;
    if (rose_memory_parse_llm(s, size, &mem, &type) == ROSE_OK) {
        if (strlen(mem) > ROSE_MEMORY_TEXT_MAX || !rose_utf8_valid(mem, strlen(mem)))
            abort();
        free(mem);
    }
    free(s);
    return 0;
}
