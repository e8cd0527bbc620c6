/*
 * extract.c — what is worth remembering (extract.h).
 *
 * The offline rules look at one sentence at a time, in first person, and
 * keep the most telling one by a fixed priority: a name, then a loss, a
 * feeling, a goal, a preference, a relationship.  The kept sentence is
 * turned to the third person word by word ("my" → "their").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/buf.h"
#include "core/text.h"
#include "engines/companion.h"
#include "memory/extract.h"

/* Sentences looked at, and bytes of one: bounded work on any input. */
#define SENTENCES_MAX 24
#define SENTENCE_MAX 400

static const char *const loss_words[] = {
    "passed away", "passed on", "died", "death", "lost my", "funeral", "miscarriage",
    "killed", "grave", "widow", "bereave", "took her life", "took his life", "buried",
};
static const char *const feeling_words[] = {
    "anxious", "anxiety", "sad", "depressed", "lonely", "alone", "scared", "afraid",
    "angry", "guilty", "numb", "overwhelmed", "worried", "hopeless", "grief", "grieving",
    "can't sleep", "cannot sleep", "panic", "empty", "heartbroken", "exhausted", "lost",
};
static const char *const first_person_feeling[] = {
    "i feel", "i'm feeling", "i am feeling", "i've been", "i have been", "i'm so", "i am so",
    "i'm", "i am", "i keep", "i get",
};
static const char *const goal_words[] = {
    "i want to", "i hope to", "i'm going to", "i am going to", "i plan to", "i'm planning",
    "i am planning", "my goal", "i'd like to", "i would like to", "i wish i could",
};
static const char *const preference_words[] = {
    "i love", "i like", "i enjoy", "i hate", "my favorite", "my favourite", "i prefer",
};
static const char *const relation_words[] = {
    "my mom", "my mum", "my mother", "my dad", "my father", "my wife", "my husband",
    "my partner", "my son", "my daughter", "my sister", "my brother", "my grandmother",
    "my grandma", "my grandfather", "my grandpa", "my friend", "my best friend",
    "my boyfriend", "my girlfriend", "my dog", "my cat", "my children", "my kids", "my baby",
    "my aunt", "my uncle", "my cousin",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Does lowercase s contain w at word boundaries? */
static int
has_word(const char *s, const char *w)
{
    size_t n = strlen(w);
    const char *p;

    for (p = strstr(s, w); p != NULL; p = strstr(p + 1, w)) {
        int before = p == s || !isalnum((unsigned char)p[-1]);
        int after = !isalnum((unsigned char)p[n]);
        if (before && after)
            return 1;
    }
    return 0;
}

static int
has_any(const char *s, const char *const *words, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (has_word(s, words[i]))
            return 1;
    return 0;
}

/* The type of a lowercase first-person sentence, or -1 if nothing to keep. */
static int
classify(const char *low)
{
    if (has_any(low, loss_words, N(loss_words)))
        return ROSE_MEMORY_LOSS;
    if (has_any(low, first_person_feeling, N(first_person_feeling)) &&
        has_any(low, feeling_words, N(feeling_words)))
        return ROSE_MEMORY_EMOTION;
    if (has_any(low, goal_words, N(goal_words)))
        return ROSE_MEMORY_GOAL;
    if (has_any(low, preference_words, N(preference_words)))
        return ROSE_MEMORY_PREFERENCE;
    if (has_any(low, relation_words, N(relation_words)))
        return ROSE_MEMORY_RELATIONSHIP;
    return -1;
}

/* The rank of a type: lower is kept first. */
static int
rank(int type)
{
    static const int order[ROSE_MEMORY__MAX] = {
        [ROSE_MEMORY_NAME] = 0,    [ROSE_MEMORY_LOSS] = 1,       [ROSE_MEMORY_EMOTION] = 2,
        [ROSE_MEMORY_GOAL] = 3,    [ROSE_MEMORY_PREFERENCE] = 4, [ROSE_MEMORY_RELATIONSHIP] = 5,
        [ROSE_MEMORY_FACT] = 6,    [ROSE_MEMORY_OTHER] = 7,
    };
    return order[type];
}

/* First person → third person, word by word; keeps everything else. */
static enum rose_err
third_person(const char *s, size_t n, struct rose_buf *out)
{
    static const struct {
        const char *from, *to;
    } swaps[] = {
        {"i'm", "they're"}, {"i've", "they've"}, {"i'd", "they'd"}, {"i'll", "they'll"},
        {"i", "they"},      {"me", "them"},      {"my", "their"},   {"mine", "theirs"},
        {"myself", "themselves"}, {"am", "are"}, {"was", "were"},
    };
    size_t i = 0, k;
    int prev_i = 0; /* the previous word was "i": "am"/"was" follow it */
    enum rose_err err = ROSE_OK;

    while (i < n && err == ROSE_OK) {
        size_t j = i;
        if (!isalpha((unsigned char)s[i])) {
            err = rose_buf_append(out, s + i, 1);
            if (!isspace((unsigned char)s[i]))
                prev_i = 0;
            i++;
            continue;
        }
        while (j < n && (isalpha((unsigned char)s[j]) || s[j] == '\''))
            j++;
        for (k = 0; k < N(swaps); k++) {
            int verb = strcmp(swaps[k].from, "am") == 0 || strcmp(swaps[k].from, "was") == 0;
            if (strlen(swaps[k].from) == j - i && rose_strnieq(s + i, swaps[k].from, j - i) &&
                (!verb || prev_i))
                break;
        }
        if (k < N(swaps))
            err = rose_buf_puts(out, swaps[k].to);
        else
            err = rose_buf_append(out, s + i, j - i);
        prev_i = j - i == 1 && (s[i] == 'i' || s[i] == 'I');
        i = j;
    }
    return err;
}

/* Trim, capitalise, end with a period, cap the length (on a character). */
static char *
finish_sentence(struct rose_buf *b)
{
    char *s = rose_buf_steal(b);
    size_t n;

    if (s == NULL)
        return NULL;
    rose_trim(s);
    n = strlen(s);
    if (n > ROSE_MEMORY_TEXT_MAX - 2) {
        n = ROSE_MEMORY_TEXT_MAX - 2;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        s[n] = '\0';
    }
    while (n > 0 && strchr(".!,;: ", s[n - 1]) != NULL)
        s[--n] = '\0';
    if (n == 0) {
        free(s);
        return NULL;
    }
    s[0] = (char)toupper((unsigned char)s[0]);
    s[n] = '.';
    s[n + 1] = '\0';
    return s;
}

enum rose_err
rose_memory_extract_offline(const char *text, char **memory, enum rose_memory_type *type)
{
    char name[64], low[SENTENCE_MAX + 1];
    const char *p = text, *best = NULL;
    size_t best_len = 0;
    int best_type = -1, count = 0;
    struct rose_buf b;

    if (text == NULL || !rose_utf8_valid(text, strlen(text)))
        return ROSE_ERR_NOT_FOUND;
    if (rose_companion_find_name(text, name, sizeof(name))) {
        rose_buf_init(&b, ROSE_MEMORY_TEXT_MAX);
        if (rose_buf_printf(&b, "Their name is %s", name) != ROSE_OK ||
            (*memory = finish_sentence(&b)) == NULL) {
            rose_buf_free(&b);
            return ROSE_ERR_NOMEM;
        }
        *type = ROSE_MEMORY_NAME;
        return ROSE_OK;
    }
    while (*p && count++ < SENTENCES_MAX) {
        size_t n = strcspn(p, ".!?\n"), i;
        int t;
        int question = p[n] == '?';
        if (n > 0 && n <= SENTENCE_MAX && !question) {
            for (i = 0; i < n; i++)
                low[i] = (char)tolower((unsigned char)p[i]);
            low[n] = '\0';
            t = classify(low);
            if (t >= 0 && (best_type < 0 || rank(t) < rank(best_type))) {
                best_type = t;
                best = p;
                best_len = n;
            }
        }
        p += n;
        if (*p)
            p++;
    }
    if (best == NULL)
        return ROSE_ERR_NOT_FOUND;
    rose_buf_init(&b, ROSE_MEMORY_TEXT_MAX * 2);
    if (third_person(best, best_len, &b) != ROSE_OK || (*memory = finish_sentence(&b)) == NULL) {
        rose_buf_free(&b);
        return ROSE_ERR_NOT_FOUND;
    }
    *type = (enum rose_memory_type)best_type;
    return ROSE_OK;
}

enum rose_err
rose_memory_parse_llm(const char *answer, size_t len, char **memory, enum rose_memory_type *type)
{
    const char *open, *close = NULL;
    struct json_object *o = NULL, *imp, *mem, *mt;
    char low[ROSE_MEMORY_TEXT_MAX + 1];
    enum rose_err err = ROSE_ERR_PARSE;
    size_t i, n;

    if (answer == NULL || !rose_utf8_valid(answer, len) || memchr(answer, '\0', len) != NULL)
        return ROSE_ERR_PARSE;
    /* The object may sit inside a ``` fence or a sentence: take the
     * outermost braces. */
    if ((open = memchr(answer, '{', len)) == NULL)
        return ROSE_ERR_PARSE;
    for (i = len; i > (size_t)(open - answer); i--)
        if (answer[i - 1] == '}') {
            close = answer + i - 1;
            break;
        }
    if (close == NULL)
        return ROSE_ERR_PARSE;
    {
        struct json_tokener *tok = json_tokener_new_ex(4);
        if (tok == NULL)
            return ROSE_ERR_NOMEM;
        o = json_tokener_parse_ex(tok, open, (int)(close - open + 1));
        if (json_tokener_get_error(tok) != json_tokener_success) {
            json_object_put(o);
            o = NULL;
        }
        json_tokener_free(tok);
    }
    if (o == NULL || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "is_important", &imp) ||
        !json_object_is_type(imp, json_type_boolean))
        goto out;
    if (!json_object_get_boolean(imp)) {
        err = ROSE_ERR_NOT_FOUND;
        goto out;
    }
    if (!json_object_object_get_ex(o, "formatted_memory", &mem) ||
        !json_object_is_type(mem, json_type_string))
        goto out;
    n = (size_t)json_object_get_string_len(mem);
    if (n == 0 || n > ROSE_MEMORY_TEXT_MAX || memchr(json_object_get_string(mem), '\0', n))
        goto out;
    if ((*memory = strdup(json_object_get_string(mem))) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    rose_trim(*memory);
    if ((*memory)[0] == '\0') {
        free(*memory);
        *memory = NULL;
        goto out;
    }
    /* The type: the model's, when it named a known one; else from the words. */
    *type = ROSE_MEMORY_FACT;
    if (json_object_object_get_ex(o, "memory_type", &mt) && json_object_is_type(mt, json_type_string)) {
        rose_memory_type_parse(json_object_get_string(mt), type);
    } else {
        for (i = 0; i < n && i < ROSE_MEMORY_TEXT_MAX; i++)
            low[i] = (char)tolower((unsigned char)(*memory)[i]);
        low[i] = '\0';
        if (strstr(low, "name is") != NULL)
            *type = ROSE_MEMORY_NAME;
        else if (has_any(low, loss_words, N(loss_words)))
            *type = ROSE_MEMORY_LOSS;
        else if (has_any(low, feeling_words, N(feeling_words)))
            *type = ROSE_MEMORY_EMOTION;
    }
    err = ROSE_OK;
out:
    json_object_put(o);
    return err;
}
