/*
 * test_extract.c — memory extraction: offline rules and the LLM's JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "memory/extract.h"
#include "t.h"

static const struct {
    const char *text;
    int important;
    enum rose_memory_type type;
    const char *want; /* exact memory, or NULL to skip the text check */
} offline[] = {
    {"My name is Sarah", 1, ROSE_MEMORY_NAME, "Their name is Sarah."},
    {"Hi Rose, I'm Daniel.", 1, ROSE_MEMORY_NAME, "Their name is Daniel."},
    {"My mother passed away last spring", 1, ROSE_MEMORY_LOSS,
     "Their mother passed away last spring."},
    {"Hello. My dad died in March and I miss him.", 1, ROSE_MEMORY_LOSS,
     "Their dad died in March and they miss him."},
    {"I've been so anxious since the funeral", 1, ROSE_MEMORY_LOSS, NULL},
    {"I feel so lonely at night", 1, ROSE_MEMORY_EMOTION, "They feel so lonely at night."},
    {"I am worried all the time", 1, ROSE_MEMORY_EMOTION, "They are worried all the time."},
    {"I want to plant a garden for her", 1, ROSE_MEMORY_GOAL, "They want to plant a garden for her."},
    {"I love walking by the sea", 1, ROSE_MEMORY_PREFERENCE, "They love walking by the sea."},
    {"My daughter Emma is five", 1, ROSE_MEMORY_RELATIONSHIP, "Their daughter Emma is five."},
    {"Hi, how are you?", 0, ROSE_MEMORY_FACT, NULL},
    {"Hello Rose", 0, ROSE_MEMORY_FACT, NULL},
    {"What are you doing today?", 0, ROSE_MEMORY_FACT, NULL},
    {"ok", 0, ROSE_MEMORY_FACT, NULL},
    {"", 0, ROSE_MEMORY_FACT, NULL},
    {"I'm sad", 1, ROSE_MEMORY_EMOTION, "They're sad."},
};

static const struct {
    const char *answer;
    enum rose_err err;
    const char *want;
    enum rose_memory_type type;
} llm[] = {
    {"{\"is_important\": true, \"formatted_memory\": \"Experiencing anxiety since her mother's "
     "death a month ago\"}",
     ROSE_OK, "Experiencing anxiety since her mother's death a month ago", ROSE_MEMORY_LOSS},
    {"{\"is_important\": false, \"formatted_memory\": null}", ROSE_ERR_NOT_FOUND, NULL, 0},
    {"```json\n{\"is_important\": true, \"formatted_memory\": \"Name is Sarah\"}\n```", ROSE_OK,
     "Name is Sarah", ROSE_MEMORY_NAME},
    {"Sure! {\"is_important\": true, \"formatted_memory\": \"Loves the sea\", \"memory_type\": "
     "\"preference\"} Hope that helps.",
     ROSE_OK, "Loves the sea", ROSE_MEMORY_PREFERENCE},
    {"{\"is_important\": \"true\", \"formatted_memory\": \"x\"}", ROSE_ERR_PARSE, NULL, 0},
    {"{\"is_important\": true, \"formatted_memory\": 42}", ROSE_ERR_PARSE, NULL, 0},
    {"{\"is_important\": true, \"formatted_memory\": \"   \"}", ROSE_ERR_PARSE, NULL, 0},
    {"{\"is_important\": true}", ROSE_ERR_PARSE, NULL, 0},
    {"{\"is_important\": tru", ROSE_ERR_PARSE, NULL, 0},
    {"no json here", ROSE_ERR_PARSE, NULL, 0},
    {"[true, \"x\"]", ROSE_ERR_PARSE, NULL, 0},
    {"{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}, \"is_important\": true, \"formatted_memory\": \"x\"}",
     ROSE_ERR_PARSE, NULL, 0},
    {"", ROSE_ERR_PARSE, NULL, 0},
};

int
main(void)
{
    size_t i;
    char *mem = NULL, *big;
    enum rose_memory_type type;
    enum rose_err err;

    for (i = 0; i < sizeof(offline) / sizeof(offline[0]); i++) {
        mem = NULL;
        err = rose_memory_extract_offline(offline[i].text, &mem, &type);
        T_INT(err, offline[i].important ? ROSE_OK : ROSE_ERR_NOT_FOUND, "offline '%s': %s",
              offline[i].text, offline[i].important ? "kept" : "not kept");
        if (offline[i].important && err == ROSE_OK) {
            T_STR(rose_memory_type_name(type), rose_memory_type_name(offline[i].type),
                  "offline '%s': type", offline[i].text);
            if (offline[i].want != NULL)
                T_STR(mem, offline[i].want, "offline '%s': memory", offline[i].text);
        }
        free(mem);
    }
    for (i = 0; i < sizeof(llm) / sizeof(llm[0]); i++) {
        mem = NULL;
        err = rose_memory_parse_llm(llm[i].answer, strlen(llm[i].answer), &mem, &type);
        T_INT(err, llm[i].err, "llm answer %zu: %s", i, rose_err_code(llm[i].err));
        if (err == ROSE_OK && llm[i].want != NULL) {
            T_STR(mem, llm[i].want, "llm answer %zu: memory", i);
            T_STR(rose_memory_type_name(type), rose_memory_type_name(llm[i].type),
                  "llm answer %zu: type", i);
        }
        free(mem);
    }
    /* An over-long memory is refused; a huge message is handled in bounded work. */
    big = malloc(100001);
    memset(big, 'a', 100000);
    big[100000] = '\0';
    {
        char *ans = malloc(100100);
        snprintf(ans, 100100, "{\"is_important\": true, \"formatted_memory\": \"%s\"}", big);
        T_INT(rose_memory_parse_llm(ans, strlen(ans), &mem, &type), ROSE_ERR_PARSE,
              "an over-long memory from the model is refused");
        free(ans);
    }
    memcpy(big, "My mother died. ", 16);
    mem = NULL;
    T_INT(rose_memory_extract_offline(big, &mem, &type), ROSE_OK, "a 100 kB message still works");
    T_OK(mem != NULL && strlen(mem) <= ROSE_MEMORY_TEXT_MAX, "and the memory is capped");
    free(mem);
    free(big);
    T_INT(rose_memory_parse_llm("{\"is_important\": true, \"formatted_memory\": \"\xff\"}", 46,
                                &mem, &type),
          ROSE_ERR_PARSE, "invalid UTF-8 from the model is refused");
    return t_done();
}
