/*
 * test_companion.c — the offline companion engine (lib/engines/companion.c).
 *
 * Scripted conversations check properties of every reply rather than exact
 * wording, so the phrases can be rewritten without touching the tests:
 * one to three sentences, no markup, never "AI", valid UTF-8, the name once
 * when known, never the previous reply, and a reflected word or a question.
 * The .c is included to check that its bsearch tables are sorted.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engines/companion.c"
#include "pipeline/persona.h"
#include "t.h"

#define CONV_MAX 64

struct conv {
    struct rose_companion_msg h[CONV_MAX];
    char *own[CONV_MAX]; /* copies we free */
    size_t n;
    const char *name;
    const char *const *memories;
    size_t memories_len;
    const char *activity;
};

static void
conv_free(struct conv *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        free(c->own[i]);
    c->n = 0;
}

static void
conv_add(struct conv *c, const char *role, const char *text)
{
    if (c->n == CONV_MAX) /* keep the newest half */
    {
        size_t i, half = CONV_MAX / 2;
        for (i = 0; i < half; i++)
            free(c->own[i]);
        memmove(c->h, c->h + half, half * sizeof(c->h[0]));
        memmove(c->own, c->own + half, half * sizeof(c->own[0]));
        c->n = half;
    }
    c->own[c->n] = strdup(text);
    c->h[c->n].role = role;
    c->h[c->n].text = c->own[c->n];
    c->n++;
}

static const char *
last_reply(const struct conv *c)
{
    size_t i;

    for (i = c->n; i > 0; i--)
        if (strcmp(c->h[i - 1].role, "assistant") == 0)
            return c->h[i - 1].text;
    return NULL;
}

/* Rose's reply to message in conversation c (added to c); NULL on error. */
static char *
say(struct conv *c, const char *message)
{
    struct rose_companion_ctx ctx;
    char *out = NULL;

    memset(&ctx, 0, sizeof(ctx));
    ctx.message = message;
    ctx.history = c->n ? c->h : NULL;
    ctx.history_len = c->n;
    ctx.name = c->name;
    ctx.memories = c->memories;
    ctx.memories_len = c->memories_len;
    ctx.activity = c->activity;
    ctx.seed = (unsigned long)c->n;
    if (rose_companion_reply(&ctx, &out) != ROSE_OK)
        return NULL;
    conv_add(c, "user", message ? message : "");
    conv_add(c, "assistant", out);
    return out;
}

/* Sentences: runs of . ! ? followed by a space or the end. */
static int
sentences(const char *s)
{
    int n = 0;
    size_t i;

    for (i = 0; s[i]; i++) {
        if (strchr(".!?", s[i]) == NULL)
            continue;
        while (s[i + 1] && strchr(".!?", s[i + 1]))
            i++;
        if (s[i + 1] == '\0' || s[i + 1] == ' ')
            n++;
    }
    return n;
}

static int
has_markup(const char *s)
{
    return strchr(s, '*') || strchr(s, '#') || strchr(s, '`') || strchr(s, '\n') ||
           strncmp(s, "- ", 2) == 0 || strstr(s, " - ") != NULL;
}

/* "AI" as a word (any case pattern of a standalone "ai"), or the phrases. */
static int
mentions_ai(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++) {
        if (tolower((unsigned char)s[i]) != 'a' || tolower((unsigned char)s[i + 1]) != 'i')
            continue;
        if ((i == 0 || !isalpha((unsigned char)s[i - 1])) && !isalpha((unsigned char)s[i + 2]))
            return 1;
    }
    return strcasestr(s, "language model") || strcasestr(s, "artificial") ||
           strcasestr(s, "chatbot") || strcasestr(s, "a program");
}

static int
count_of(const char *s, const char *needle)
{
    int n = 0;
    const char *p = s;

    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

/* One of the words (NULL-terminated), ignoring case. */
static int
has_any(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcasestr(s, *words))
            return 1;
    return 0;
}

/* The properties every reply has; name is the name Rose knows, or NULL. */
static void
check_reply(const char *what, const char *reply, const char *prev, const char *name)
{
    T_OK(reply != NULL && reply[0] != '\0', "%s: a reply", what);
    if (reply == NULL)
        return;
    printf("#   rose: %s\n", reply);
    T_OK(sentences(reply) >= 1 && sentences(reply) <= 3, "%s: 1-3 sentences (%d)", what,
         sentences(reply));
    T_OK(!has_markup(reply), "%s: no markup", what);
    T_OK(!mentions_ai(reply), "%s: never says AI", what);
    T_OK(rose_utf8_valid(reply, strlen(reply)), "%s: valid UTF-8", what);
    T_OK(prev == NULL || strcmp(reply, prev) != 0, "%s: not the previous reply", what);
    if (name)
        T_INT(count_of(reply, name), 1, "%s: uses the name %s once", what, name);
}

struct turn {
    const char *message;
    const char *const *expect; /* the reply has one of these (reflection or topic) */
    int question;              /* the reply asks a question */
};

/* Run a scripted conversation; every reply must pass check_reply, hold one
 * of its expected words and, when asked, a question. */
static void
script(const char *title, struct conv *c, const struct turn *turns, size_t n)
{
    size_t i;
    char what[160];

    for (i = 0; i < n; i++) {
        const char *prev = last_reply(c);
        char *prev_copy = prev ? strdup(prev) : NULL;
        char *r;

        snprintf(what, sizeof(what), "%s turn %zu", title, i + 1);
        r = say(c, turns[i].message);
        check_reply(what, r, prev_copy, c->name);
        if (r && turns[i].expect)
            T_OK(has_any(r, turns[i].expect), "%s: reflects or names the feeling", what);
        if (r && turns[i].question)
            T_OK(strchr(r, '?') != NULL, "%s: asks a question", what);
        free(prev_copy);
        free(r);
    }
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
test_grieving(void)
{
    struct conv c = {0};
    const struct turn turns[] = {
        {"My mother passed away last month.", W("sorry", "heart", "loss", "trusting"), 1},
        {"I miss her so much", W("miss", "grief", "your mother", "heart", "tide", "candle"), 1},
        {"I keep seeing her empty chair at the table", W("you keep seeing", "your mother"), 1},
        {"yes", W("your mother", "grief", "tide", "candle", "roots", "miss", "love"), 1},
        {"she was the one who held us all together",
         W("your mother", "grief", "tide", "candle", "roots", "miss", "love", "you"), 1},
        {"My dad died when I was young and now mum is gone too",
         W("your dad", "your mum", "died", "sorry", "heart", "loss"), 1},
    };
    script("grief", &c, turns, sizeof(turns) / sizeof(turns[0]));
    conv_free(&c);
}

static void
test_anxious(void)
{
    struct conv c = {0};
    const struct turn turns[] = {
        {"I've been so anxious lately", W("worry", "anxiety", "anxious", "frightening"), 1},
        {"I can't sleep at night, my mind keeps racing",
         W("you can't sleep", "your mind keeps racing", "worry", "racing"), 1},
        {"I had a panic attack at work today", W("you had a panic attack", "worry", "safer"), 1},
        {"I'm worried about everything", W("worried", "worry", "weighing", "heavy"), 1},
    };
    script("anxious", &c, turns, sizeof(turns) / sizeof(turns[0]));
    conv_free(&c);
}

static void
test_happy(void)
{
    struct conv c = {0};
    const struct turn turns[] = {
        {"I have some good news!", W("wonderful", "glad", "lovely", "smile"), 1},
        {"I got the job I wanted, I'm so happy", W("you got the job", "you're so happy"), 1},
        {"I'm so grateful for my friends", W("you're so grateful", "grateful"), 1},
    };
    script("happy", &c, turns, sizeof(turns) / sizeof(turns[0]));
    conv_free(&c);
}

static void
test_angry(void)
{
    struct conv c = {0};
    const struct turn turns[] = {
        {"I'm so angry at my brother", W("angry at your brother", "angry", "fire"), 1},
        {"It's just so unfair, he never listens to me",
         W("unfair", "anger", "angry", "fire", "frustrating", "listens to you"), 1},
        {"I hate how they treated my mom at the hospital",
         W("you hate", "your mom", "anger", "fire", "frustrating"), 1},
    };
    script("angry", &c, turns, sizeof(turns) / sizeof(turns[0]));
    conv_free(&c);
}

static void
test_lonely(void)
{
    struct conv c = {0};
    const struct turn turns[] = {
        {"I feel so lonely", W("lonel", "alone", "reached out"), 1},
        {"Nobody calls me anymore",
         W("lonel", "alone", "close to", "reached out", "roots", "connection"), 1},
        {"I spend every evening by myself",
         W("you spend every evening by yourself", "alone", "lonel"), 1},
    };
    script("lonely", &c, turns, sizeof(turns) / sizeof(turns[0]));
    conv_free(&c);
}

static void
test_silence(void)
{
    struct conv c = {0};
    static const char *const quiet[] = {"", "   ", "\n\t ", "...", "😶", NULL};
    const char *prev = NULL;
    char *r, *p = NULL;
    size_t i;
    struct rose_companion_ctx ctx;

    for (i = 0; quiet[i]; i++) {
        char what[64];
        snprintf(what, sizeof(what), "silence %zu", i + 1);
        prev = last_reply(&c);
        free(p);
        p = prev ? strdup(prev) : NULL;
        r = say(&c, quiet[i]);
        check_reply(what, r, p, NULL);
        T_OK(r && sentences(r) <= 2 && strlen(r) < 120, "%s: short", what);
        T_OK(r && (strchr(r, '?') || strcasestr(r, "ready") || strcasestr(r, "time")),
             "%s: invites them", what);
        free(r);
    }
    free(p);
    conv_free(&c);

    memset(&ctx, 0, sizeof(ctx)); /* a NULL message is silence too */
    r = NULL;
    T_INT(rose_companion_reply(&ctx, &r), ROSE_OK, "NULL message: ok");
    T_OK(r && r[0], "NULL message: a gentle reply");
    free(r);
}

static void
test_questions_to_rose(void)
{
    struct conv c = {0};
    char *r;

    c.activity = rose_persona_activity_at(3, 20 * 60);
    r = say(&c, "What are you doing?");
    check_reply("what are you doing", r, NULL, NULL);
    T_OK(r && strstr(r, "sitting by the river with the evening drum circle"),
         "what are you doing: tells her activity");
    free(r);

    r = say(&c, "who are you?");
    check_reply("who are you", r, NULL, NULL);
    T_OK(r && strstr(r, "Rose"), "who are you: she is Rose");
    free(r);

    r = say(&c, "Are you an AI?");
    check_reply("are you an AI", r, NULL, NULL);
    T_OK(r && strstr(r, "Rose"), "are you an AI: she is Rose");
    free(r);

    r = say(&c, "how are you?");
    check_reply("how are you", r, NULL, NULL);
    T_OK(r && strchr(r, '?'), "how are you: asks back");
    free(r);
    conv_free(&c);

    r = say(&c, "what are you up to?"); /* no activity given */
    check_reply("what are you up to (no activity)", r, NULL, NULL);
    T_OK(r && !strstr(r, "{a}") && !strstr(r, "I'm ."), "no activity: still a sentence");
    free(r);
    conv_free(&c);
}

static void
test_names(void)
{
    struct conv c = {0};
    char *r;

    r = say(&c, "Hi, I'm Sarah");
    check_reply("introduction", r, NULL, "Sarah");
    free(r);

    /* Later turns find the name in the history. */
    {
        const struct turn turns[] = {
            {"I've been feeling really down today", W("down", "heavy", "hurting", "low"), 1},
            {"My dog died on Sunday", W("your dog", "sorry", "heart"), 1},
            {"thank you", NULL, 0},
            {"", NULL, 0},
        };
        /* script() checks the name via c.name; here it comes from the history. */
        size_t i;
        for (i = 0; i < sizeof(turns) / sizeof(turns[0]); i++) {
            char what[64], *prev = last_reply(&c) ? strdup(last_reply(&c)) : NULL;
            snprintf(what, sizeof(what), "name from history turn %zu", i + 1);
            r = say(&c, turns[i].message);
            check_reply(what, r, prev, "Sarah");
            free(r);
            free(prev);
        }
    }
    conv_free(&c);

    /* The caller's name, with no introduction anywhere. */
    c.name = "Tom";
    {
        const struct turn turns[] = {
            {"I'm worried about my daughter", W("your daughter", "worr"), 1},
            {"She's been in hospital for a week", W("worr", "heavy", "safer", "frightening"), 1},
        };
        script("caller's name", &c, turns, sizeof(turns) / sizeof(turns[0]));
    }
    conv_free(&c);

    /* A spoken introduction of a name Rose already knows (the router stores
     * it before she answers) is not echoed back; the rest of it is. */
    c.name = "Sarah";
    r = say(&c, "my name is sarah and i feel sad today");
    check_reply("known name said again", r, NULL, "Sarah");
    T_OK(r && !strstr(r, "name is") && strstr(r, "you feel sad today"),
         "known name said again: the feeling is reflected, the introduction is not (%s)",
         r ? r : "NULL");
    free(r);
    conv_free(&c);
    r = say(&c, "my name is anna and i have a dog");
    T_OK(r && strstr(r, "Anna") && !strstr(r, "name is"), "a new name: greeted, not echoed (%s)",
         r ? r : "NULL");
    free(r);
    conv_free(&c);
    c.name = "Anna Lee";
    r = say(&c, "my name is anna and i have a dog");
    T_OK(r && strstr(r, "you have a dog") && !strstr(r, "name is"),
         "a one-letter word is not taken for the name's first word (%s)", r ? r : "NULL");
    free(r);
    conv_free(&c);

    /* Without a name none is invented. */
    c.name = NULL;
    r = say(&c, "I'm tired of everything");
    check_reply("no name", r, NULL, NULL);
    T_OK(r && !strstr(r, "Tired") && !strstr(r, ", Everything"), "no name: none invented");
    free(r);
    conv_free(&c);
}

static void
test_memories(void)
{
    static const char *const mems[] = {
        "Loves gardening on Sundays", "Her mother passed away last spring", "Has a dog called Max"};
    static const char *const mems2[] = {"His father died in 2019",
                                        "Experiencing anxiety since her mother's death"};
    struct conv c = {0};
    char *r;

    c.memories = mems;
    c.memories_len = 3;
    r = say(&c, "I keep thinking about mom");
    check_reply("memory of mother", r, NULL, NULL);
    T_OK(r && strstr(r, "your mother passed away last spring"),
         "I keep thinking about mom: weaves in her mother's death");
    T_OK(r && !strstr(r, "gardening") && !strstr(r, "Max"), "only the matching memory");
    free(r);
    conv_free(&c);

    r = say(&c, "Max has been sick all week");
    check_reply("memory of Max", r, NULL, NULL);
    T_OK(r && strstr(r, "you have a dog called Max"), "a name in the message finds its memory");
    free(r);
    conv_free(&c);

    c.memories = mems2;
    c.memories_len = 2;
    r = say(&c, "I miss my papa");
    check_reply("memory of father", r, NULL, NULL);
    T_OK(r && strstr(r, "your father died in 2019"), "papa finds the father memory");
    free(r);
    r = say(&c, "my anxiety came back today");
    check_reply("memory of anxiety", r, NULL, NULL);
    T_OK(r && strstr(r, "you've been experiencing anxiety since your mother's death"),
         "a shared word finds the memory, turned to second person");
    free(r);
    conv_free(&c);

    r = say(&c, "I went for a walk today"); /* no memories at all */
    check_reply("no memories", r, NULL, NULL);
    T_OK(r && !strstr(r, "remember"), "no memory, no remembering");
    free(r);
    conv_free(&c);
}

static void
test_no_repeat(void)
{
    struct conv c = {0};
    struct rose_companion_ctx ctx;
    char *a = NULL, *b = NULL, *r;
    int i, same = 0, ok = 1;
    static const char *const msgs[] = {"hello",        "I miss my mom", "",  "what are you doing?",
                                       "I'm so tired", "thanks",        NULL};

    /* The same message again and again. */
    for (i = 0; i < 12; i++) {
        char *prev = last_reply(&c) ? strdup(last_reply(&c)) : NULL;
        r = say(&c, "I feel sad");
        if (r == NULL || (prev && strcmp(r, prev) == 0))
            same++;
        free(prev);
        free(r);
    }
    T_INT(same, 0, "the same message twelve times: never the same reply twice in a row");
    conv_free(&c);

    /* Deterministic, and a history ending in exactly that reply forces
     * another, for every message and many seeds. */
    for (i = 0; msgs[i]; i++) {
        unsigned long seed;
        for (seed = 0; seed < 20; seed++) {
            struct rose_companion_msg h[2];
            memset(&ctx, 0, sizeof(ctx));
            ctx.message = msgs[i];
            ctx.seed = seed;
            ctx.name = seed % 2 ? "Ana" : NULL;
            a = b = NULL;
            if (rose_companion_reply(&ctx, &a) != ROSE_OK ||
                rose_companion_reply(&ctx, &b) != ROSE_OK || strcmp(a, b) != 0)
                ok = 0;
            free(b);
            b = NULL;
            h[0].role = "user";
            h[0].text = msgs[i];
            h[1].role = "assistant";
            h[1].text = a;
            ctx.history = h;
            ctx.history_len = 2;
            if (rose_companion_reply(&ctx, &b) != ROSE_OK || strcmp(a, b) == 0)
                ok = 0;
            free(a);
            free(b);
        }
    }
    T_OK(ok, "deterministic, and never equal to the last assistant message");

    /* Openings vary with the seed. */
    {
        char first[64] = "";
        int varied = 0;
        unsigned long seed;
        for (seed = 0; seed < 10; seed++) {
            memset(&ctx, 0, sizeof(ctx));
            ctx.message = "I miss my mom";
            ctx.seed = seed;
            r = NULL;
            if (rose_companion_reply(&ctx, &r) != ROSE_OK)
                continue;
            if (seed == 0)
                snprintf(first, sizeof(first), "%.20s", r);
            else if (strncmp(first, r, strlen(first)) != 0)
                varied = 1;
            free(r);
        }
        T_OK(varied, "openings vary with the seed");
    }
}

static void
test_find_name(void)
{
    static const struct {
        const char *text, *want;
    } yes[] = {
        {"my name is Sarah", "Sarah"},
        {"My name's sarah", "Sarah"},
        {"MY NAME IS SARAH", "Sarah"},
        {"you can call me Sam", "Sam"},
        {"Hi, I'm Sarah", "Sarah"},
        {"hello I am Maria, nice to meet you", "Maria"},
        {"This is Tom", "Tom"},
        {"I’m Zoë", "Zoë"},
        {"my name is McKenzie", "McKenzie"},
        {"Well, I'm tired. My name is Ana by the way", "Ana"},
    };
    static const char *const no[] = {"I'm sad",         "I'm tired",
                                     "I'm not sure",    "I'm Not sure",
                                     "i'm lost",        "this is hard",
                                     "I am so tired",   "I'm Sad",
                                     "call me back",    "my name is not important",
                                     "I'M EXHAUSTED",   "I'm sarah",
                                     "I'm 42",          "",
                                     "my name is",      "I'm a teacher",
                                     "I'm Happy today", "call me when you can",
                                     "This is Awful",   NULL};
    char buf[64];
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        buf[0] = '\0';
        T_OK(rose_companion_find_name(yes[i].text, buf, sizeof(buf)) == 1, "find_name \"%s\"",
             yes[i].text);
        T_STR(buf, yes[i].want, "find_name \"%s\" gives %s", yes[i].text, yes[i].want);
    }
    for (i = 0; no[i]; i++) {
        memcpy(buf, "unset", 6);
        T_OK(rose_companion_find_name(no[i], buf, sizeof(buf)) == 0 && strcmp(buf, "unset") == 0,
             "no name in \"%s\"", no[i]);
    }
    T_INT(rose_companion_find_name(NULL, buf, sizeof(buf)), 0, "find_name(NULL)");
    memcpy(buf, "unset", 6);
    T_OK(rose_companion_find_name("my name is Alexandra", buf, 5) == 0 && strcmp(buf, "unset") == 0,
         "a name that does not fit is not written");
}

static unsigned long rnd_state = 88172645463325252UL;

static unsigned
rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state >> 16);
}

/* Random bytes, weighted toward text that the engine's rules react to. */
static char *
random_text(size_t max)
{
    static const char *const bits[] = {"I ",       "my ", "mom ", "'m ",      "died ",  "sad ",
                                       "? ",       ". ",  "you ", "name is ", "Sarah ", "*",
                                       "#",        "’",   "é",    "🌿",        "\xff",   "\xc3",
                                       "\xe2\x80", " ",   "\n",   "call me "};
    size_t len = rnd() % max, i = 0;
    char *s = malloc(len + 1);

    while (s && i < len) {
        if (rnd() % 3 == 0) {
            const char *b = bits[rnd() % (sizeof(bits) / sizeof(bits[0]))];
            size_t n = strlen(b);
            if (i + n > len)
                break;
            memcpy(s + i, b, n);
            i += n;
        } else {
            s[i++] = (char)(rnd() % 255 + 1);
        }
    }
    if (s)
        s[i] = '\0';
    return s;
}

static void
test_random(void)
{
    struct rose_companion_msg h[6];
    char *texts[6] = {0}, *mem[3] = {0}, *name = NULL, *r;
    const char *mems[3];
    struct rose_companion_ctx ctx;
    int i, j, bad = 0, empty = 0, invalid = 0, markup = 0;

    for (i = 0; i < 2000; i++) {
        for (j = 0; j < 6; j++) {
            free(texts[j]);
            texts[j] = random_text(300);
            h[j].role = j % 2 ? "assistant" : (rnd() % 5 ? "user" : NULL);
            h[j].text = rnd() % 7 ? texts[j] : NULL;
        }
        for (j = 0; j < 3; j++) {
            free(mem[j]);
            mem[j] = random_text(200);
            mems[j] = rnd() % 5 ? mem[j] : NULL;
        }
        free(name);
        name = random_text(80);
        memset(&ctx, 0, sizeof(ctx));
        ctx.message = texts[rnd() % 6];
        ctx.history = rnd() % 4 ? h : NULL;
        ctx.history_len = rnd() % 7;
        ctx.name = rnd() % 2 ? name : NULL;
        ctx.memories = mems;
        ctx.memories_len = rnd() % 4;
        ctx.activity = rnd() % 2 ? name : NULL;
        ctx.seed = rnd();
        r = NULL;
        if (rose_companion_reply(&ctx, &r) != ROSE_OK || r == NULL) {
            bad++;
            continue;
        }
        empty += r[0] == '\0';
        invalid += !rose_utf8_valid(r, strlen(r));
        markup += strchr(r, '*') != NULL || strchr(r, '#') != NULL;
        free(r);
    }
    for (j = 0; j < 6; j++)
        free(texts[j]);
    for (j = 0; j < 3; j++)
        free(mem[j]);
    free(name);
    T_INT(bad, 0, "2,000 random inputs: every call succeeds");
    T_INT(empty, 0, "2,000 random inputs: never an empty reply");
    T_INT(invalid, 0, "2,000 random inputs: always valid UTF-8");
    T_INT(markup, 0, "2,000 random inputs: never markup");

    /* Very long input: bounded, and still a sentence or three. */
    {
        size_t n = 1 << 20, k;
        char *big = malloc(n + 1);
        for (k = 0; big && k < n; k++)
            big[k] = "I miss my mom so much "[k % 22];
        if (big)
            big[n] = '\0';
        memset(&ctx, 0, sizeof(ctx));
        ctx.message = big;
        r = NULL;
        T_INT(rose_companion_reply(&ctx, &r), ROSE_OK, "1 MiB message: ok");
        T_OK(r && strlen(r) < 600 && sentences(r) <= 3, "1 MiB message: a short reply");
        free(r);
        free(big);
    }
}

static int
sorted(const char *const *list, size_t n)
{
    size_t i;

    for (i = 1; i < n; i++)
        if (strcmp(list[i - 1], list[i]) >= 0)
            return 0;
    return 1;
}

int
main(void)
{
    T_OK(sorted(common_words, COUNT(common_words)), "common_words is sorted for bsearch");
    T_OK(sorted(name_stop, COUNT(name_stop)), "name_stop is sorted for bsearch");
    test_grieving();
    test_anxious();
    test_happy();
    test_angry();
    test_lonely();
    test_silence();
    test_questions_to_rose();
    test_names();
    test_memories();
    test_no_repeat();
    test_find_name();
    test_random();
    return t_done();
}
