/*
 * companion.c — the offline companion engine (see companion.h).
 *
 * A reply is made in three steps:
 *   1. read: split the message into words, score them against keyword tables
 *      for a topic (grief, worry, joy...), find the people it names ("my
 *      mom"), a first-person clause to reflect ("I keep thinking about mom"
 *      becomes "you keep thinking about mom"), the person's name, and the
 *      long-term memory that shares the most with the message;
 *   2. compose: an opening, a middle (the reflection, the memory, or an image
 *      from nature) and one open question, each picked from the topic's
 *      phrases by a hash of the message and the seed, skipping phrases Rose
 *      used in her last replies, and the name placed in one sentence;
 *   3. check: if that equals her previous reply, compose with the next
 *      choices.
 * Every read is capped (SCAN_MAX, WORDS_MAX, HISTORY_SCAN, MEMORIES_SCAN), so
 * the work per reply is bounded whatever the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "engines/companion.h"

/* What one reply reads at most.  A chat message is capped at 4,000 bytes
 * (ROSE_MESSAGE_MAX) before it gets here; the caps are for the engine's own
 * safety when called with anything else. */
#define SCAN_MAX 4096     /* bytes of one message, history entry or memory */
#define WORDS_MAX 256     /* words of one text */
#define WORD_BYTES_MAX 40 /* longer "words" are noise, never reflected */
#define HISTORY_SCAN 12   /* newest history entries looked at for replies and feelings */
#define NAME_SCAN 64      /* newest history entries searched for an introduction */
#define PREV_USER 3       /* the person's earlier messages a feeling carries over from */
#define RECENT_MAX 6      /* Rose's own replies checked for repeated phrases */
#define MEMORIES_SCAN 20  /* memories considered (DESIGN.md top-K is <= 20) */
#define MEMORY_SCAN 512   /* bytes of one memory */
#define REFLECT_WORDS 12  /* words of the person's clause reflected back */
#define PIECE_MAX 256     /* bytes of a reflection, memory clause or activity */
#define NAME_MAX_BYTES 64 /* bytes of a name */
#define REPLY_MAX 2048    /* bytes of a reply; the pieces above fit well inside */

/* ---- words ------------------------------------------------------------ */

/* Flags of a word: what came just before it. */
#define W_COMMA 0x01 /* a comma */
#define W_BREAK 0x02 /* any clause punctuation, or the start of the text */
#define W_STOP 0x04  /* . ! ? or the start of the text: a new sentence */
#define W_CAP 0x08   /* the word itself starts with an ASCII capital */

struct words {
    size_t n;
    int question;              /* a '?' appeared */
    int shouting;              /* mostly capitals: reflect the words in lowercase */
    const char *w[WORDS_MAX];  /* as written (with ’ turned into ') */
    const char *lo[WORDS_MAX]; /* ASCII lowercase */
    unsigned char flags[WORDS_MAX];
    char text[SCAN_MAX + WORDS_MAX + 8];
    char low[SCAN_MAX + WORDS_MAX + 8];
};

enum ch { CH_SPACE, CH_WORD, CH_APOS, CH_COMMA, CH_BREAK, CH_STOP, CH_QUESTION };

/* What the character p[0..k) is to the splitter.  Letters of any script are
 * word characters; punctuation, symbols and emoji are not, so nothing but
 * letters, digits and apostrophes is ever reflected back. */
static enum ch
classify(const char *p, size_t k)
{
    unsigned char c = (unsigned char)p[0], c1 = k > 1 ? (unsigned char)p[1] : 0;

    if (k == 0)
        return CH_SPACE; /* a byte that is not UTF-8 */
    if (k == 1) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            return CH_WORD;
        if (c == '\'')
            return CH_APOS;
        if (c == ',')
            return CH_COMMA;
        if (c == '.' || c == '!')
            return CH_STOP;
        if (c == '?')
            return CH_QUESTION;
        if (c == '\n' || c == ';' || c == ':' || c == '(' || c == ')' || c == '"')
            return CH_BREAK;
        return CH_SPACE;
    }
    if (k == 3 && c == 0xe2 && c1 == 0x80) {
        unsigned char c2 = (unsigned char)p[2];
        if (c2 == 0x98 || c2 == 0x99)
            return CH_APOS; /* ‘ ’ */
        if (c2 == 0xa6)
            return CH_STOP; /* … */
        if (c2 == 0x93 || c2 == 0x94 || c2 == 0x9c || c2 == 0x9d)
            return CH_BREAK; /* – — “ ” */
        return CH_SPACE;
    }
    if (k == 2 && c == 0xc2)
        return CH_SPACE; /* U+0080..U+00BF: C1 controls, no-break space, ¡ « » ¿ */
    if (k == 2 && c == 0xc3 && (c1 == 0x97 || c1 == 0xb7))
        return CH_SPACE; /* × ÷ */
    if (k == 3 && (c == 0xe2 || (c == 0xe3 && c1 == 0x80) || (c == 0xef && c1 >= 0xb8)))
        return CH_SPACE; /* symbols, CJK punctuation, variation selectors, full-width forms */
    if (k == 4 && c == 0xf0 && c1 == 0x9f)
        return CH_SPACE; /* emoji and pictographs */
    return CH_WORD;
}

static char
lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Split the first max bytes of s (NULL: nothing) into words. */
static void
split_words(struct words *ws, const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max) : 0, r = 0, out = 0, start = 0, k, i;
    unsigned flags = W_BREAK | W_STOP;
    int in_word = 0, too_long = 0;
    size_t upper = 0, lower = 0;

    ws->n = 0;
    ws->question = ws->shouting = 0;
    while (r < n || in_word) {
        enum ch kind = CH_SPACE;

        k = 1;
        if (r < n) {
            k = rose_utf8_char_len(s + r, n - r);
            kind = classify(s + r, k);
            if (k == 0)
                k = 1;
        }
        /* An apostrophe belongs to the word when a letter follows it. */
        if (kind == CH_APOS && in_word && r + k < n) {
            size_t k2 = rose_utf8_char_len(s + r + k, n - r - k);
            if (k2 > 0 && classify(s + r + k, k2) == CH_WORD) {
                if (out - start + 1 > WORD_BYTES_MAX)
                    too_long = 1;
                else
                    ws->text[out++] = '\'';
                r += k;
                continue;
            }
        }
        if (kind == CH_WORD) {
            if (!in_word) {
                start = out;
                in_word = 1;
                too_long = 0;
            }
            if (out - start + k > WORD_BYTES_MAX) {
                too_long = 1;
            } else {
                memcpy(ws->text + out, s + r, k);
                out += k;
            }
            if (s[r] >= 'A' && s[r] <= 'Z')
                upper++;
            else if (s[r] >= 'a' && s[r] <= 'z')
                lower++;
            r += k;
            continue;
        }
        if (in_word) {
            in_word = 0;
            if (too_long || ws->n == WORDS_MAX) {
                out = start;
                flags |= W_BREAK; /* never bridge a clause across noise */
            } else {
                ws->text[out] = '\0';
                for (i = start; i <= out; i++)
                    ws->low[i] = lower_ascii(ws->text[i]);
                ws->w[ws->n] = ws->text + start;
                ws->lo[ws->n] = ws->low + start;
                ws->flags[ws->n] =
                    (unsigned char)(flags |
                                    (ws->text[start] >= 'A' && ws->text[start] <= 'Z' ? W_CAP : 0));
                ws->n++;
                out++;
                flags = 0;
            }
            if (ws->n == WORDS_MAX)
                break;
        }
        if (r >= n)
            break;
        if (kind == CH_COMMA)
            flags |= W_COMMA | W_BREAK;
        else if (kind == CH_BREAK)
            flags |= W_BREAK;
        else if (kind == CH_STOP)
            flags |= W_STOP | W_BREAK;
        else if (kind == CH_QUESTION)
            flags |= W_STOP | W_BREAK, ws->question = 1;
        r += k;
    }
    ws->shouting = upper > 8 && upper * 10 > (upper + lower) * 6;
}

/* ---- word lists ------------------------------------------------------- */

/* Sorted (strcmp order) for bsearch; the unit test checks the order. */
static const char *const common_words[] = {
    "a",         "about",     "after",   "again",  "ago",      "all",    "also",   "always",
    "am",        "an",        "and",     "any",    "anymore",  "are",    "around", "as",
    "at",        "away",      "back",    "be",     "because",  "been",   "before", "being",
    "but",       "by",        "came",    "can",    "can't",    "cannot", "cant",   "could",
    "couldn't",  "day",       "days",    "did",    "didn't",   "didnt",  "do",     "does",
    "doesn't",   "doesnt",    "doing",   "don't",  "dont",     "down",   "even",   "ever",
    "every",     "feel",      "feeling", "feels",  "felt",     "first",  "for",    "from",
    "get",       "gets",      "getting", "go",     "going",    "gone",   "got",    "had",
    "has",       "have",      "having",  "he",     "her",      "here",   "hers",   "him",
    "his",       "hmm",       "how",     "i",      "i'd",      "i'll",   "i'm",    "i've",
    "id",        "if",        "ill",     "im",     "in",       "into",   "is",     "isn't",
    "isnt",      "it",        "it's",    "its",    "ive",      "just",   "keep",   "keeps",
    "kind",      "know",      "last",    "lately", "like",     "lol",    "lot",    "made",
    "make",      "maybe",     "me",      "mm",     "month",    "months", "more",   "most",
    "much",      "my",        "myself",  "never",  "next",     "no",     "not",    "now",
    "of",        "off",       "oh",      "ok",     "okay",     "on",     "one",    "only",
    "or",        "other",     "our",     "out",    "over",     "really", "right",  "said",
    "same",      "say",       "see",     "she",    "should",   "since",  "so",     "some",
    "something", "sometimes", "still",   "such",   "take",     "tell",   "than",   "that",
    "that's",    "thats",     "the",     "their",  "them",     "then",   "there",  "these",
    "they",      "thing",     "things",  "think",  "thinking", "this",   "those",  "though",
    "through",   "time",      "to",      "today",  "told",     "too",    "took",   "uh",
    "um",        "up",        "us",      "very",   "want",     "wanted", "was",    "wasn't",
    "wasnt",     "way",       "we",      "week",   "well",     "went",   "were",   "what",
    "when",      "where",     "which",   "while",  "who",      "why",    "will",   "with",
    "would",     "yeah",      "year",    "years",  "yes",      "yet",    "you",    "you're",
    "your",      "yours",
};

/* Words that follow "I'm", "this is" or "call me" but are states, not
 * names.  Sorted. */
static const char *const name_stop[] = {
    "able",       "about",     "afraid",     "alive",       "all",          "alone",
    "alright",    "amazing",   "an",         "angry",       "annoyed",      "anxious",
    "ashamed",    "asking",    "at",         "awake",       "away",         "awful",
    "back",       "bad",       "beautiful",  "better",      "bitter",       "blessed",
    "bored",      "boring",    "broke",      "broken",      "busy",         "calling",
    "calm",       "certain",   "cold",       "concerned",   "confused",     "confusing",
    "crazy",      "crying",    "curious",    "dead",        "depressed",    "devastated",
    "difficult",  "divorced",  "doing",      "done",        "down",         "drained",
    "drunk",      "dying",     "early",      "embarrassed", "empty",        "engaged",
    "excited",    "exhausted", "exhausting", "fed",         "feeling",      "fine",
    "finished",   "fortunate", "fragile",    "free",        "frightened",   "frustrated",
    "fun",        "funny",     "furious",    "getting",     "glad",         "going",
    "gonna",      "good",      "grateful",   "great",       "grieving",     "guilty",
    "happy",      "hard",      "having",     "healing",     "heartbroken",  "heavy",
    "here",       "home",      "honestly",   "hopeful",     "hopeless",     "horrible",
    "hot",        "human",     "hungry",     "hurt",        "hurting",      "ill",
    "impossible", "in",        "insane",     "interested",  "irritated",    "isolated",
    "jealous",    "just",      "kidding",    "kinda",       "late",         "later",
    "leaving",    "literally", "lonely",     "looking",     "lost",         "lovely",
    "lucky",      "mad",       "married",    "miserable",   "missing",      "mourning",
    "nervous",    "new",       "nice",       "no",          "not",          "now",
    "numb",       "off",       "ok",         "okay",        "old",          "on",
    "only",       "out",       "over",       "overwhelmed", "overwhelming", "painful",
    "peaceful",   "pregnant",  "pretty",     "probably",    "proud",        "quite",
    "ready",      "real",      "really",     "recovering",  "relieved",     "retired",
    "ridiculous", "right",     "sad",        "safe",        "scared",       "scary",
    "searching",  "sick",      "single",     "sitting",     "sleepy",       "so",
    "sorry",      "still",     "strange",    "strong",      "struggling",   "stuck",
    "supposed",   "sure",      "talking",    "terrible",    "terrified",    "thankful",
    "the",        "there",     "thinking",   "thirsty",     "tired",        "today",
    "tomorrow",   "tonight",   "too",        "trapped",     "trying",       "unbearable",
    "unfair",     "unhappy",   "unsure",     "unwell",      "upset",        "used",
    "very",       "waiting",   "walking",    "warm",        "weak",         "weird",
    "well",       "widowed",   "wonderful",  "wondering",   "worried",      "worse",
    "writing",    "wrong",     "yes",        "young",
};

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
in_sorted(const char *const *list, size_t n, const char *w)
{
    return bsearch(&w, list, n, sizeof(*list), cmp_str) != NULL;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int
is_common(const char *lo)
{
    return in_sorted(common_words, COUNT(common_words), lo);
}

/* Short unsorted lists: linear search. */
static int
in_list(const char *const *list, const char *w)
{
    for (; *list; list++)
        if (strcmp(*list, w) == 0)
            return 1;
    return 0;
}

static const char *const negators[] = {"not",   "never",  "no",     "don't",   "dont",  "didn't",
                                       "didnt", "isn't",  "isnt",   "wasn't",  "wasnt", "aren't",
                                       "arent", "hardly", "barely", "without", NULL};

/* Words that must never come back in a reply: Rose does not talk about
 * being a machine, even when asked in the person's own words. */
static const char *const excluded[] = {"ai",  "bot", "bots",    "chatbot", "robot",
                                       "gpt", "llm", "chatgpt", "model",   NULL};

/* Family, partners, friends and pets: one family id per kind of person, so
 * "mom", "mum" and "mother" find each other. */
enum kin_family {
    KIN_NONE,
    KIN_MOTHER,
    KIN_FATHER,
    KIN_GRANDMOTHER,
    KIN_GRANDFATHER,
    KIN_PARTNER,
    KIN_CHILD,
    KIN_SIBLING,
    KIN_FRIEND,
    KIN_PET,
    KIN_AUNT,
    KIN_UNCLE,
    KIN_COUSIN,
    KIN_GRANDCHILD,
    KIN_PARENTS
};

/* clang-format off */
static const struct kin {
    const char *word;
    enum kin_family family;
} kin_words[] = {
    {"mom", KIN_MOTHER},         {"mum", KIN_MOTHER},          {"mother", KIN_MOTHER},
    {"ma", KIN_MOTHER},          {"mama", KIN_MOTHER},         {"mamma", KIN_MOTHER},
    {"mommy", KIN_MOTHER},       {"mummy", KIN_MOTHER},        {"mam", KIN_MOTHER},
    {"dad", KIN_FATHER},         {"father", KIN_FATHER},       {"papa", KIN_FATHER},
    {"daddy", KIN_FATHER},       {"pa", KIN_FATHER},           {"pop", KIN_FATHER},
    {"grandma", KIN_GRANDMOTHER}, {"gran", KIN_GRANDMOTHER},   {"granny", KIN_GRANDMOTHER},
    {"grandmother", KIN_GRANDMOTHER}, {"nana", KIN_GRANDMOTHER}, {"nan", KIN_GRANDMOTHER},
    {"grandpa", KIN_GRANDFATHER}, {"granddad", KIN_GRANDFATHER}, {"grandad", KIN_GRANDFATHER},
    {"grandfather", KIN_GRANDFATHER}, {"husband", KIN_PARTNER}, {"wife", KIN_PARTNER},
    {"partner", KIN_PARTNER},    {"spouse", KIN_PARTNER},      {"boyfriend", KIN_PARTNER},
    {"girlfriend", KIN_PARTNER}, {"fiance", KIN_PARTNER},      {"fiancee", KIN_PARTNER},
    {"son", KIN_CHILD},          {"daughter", KIN_CHILD},      {"child", KIN_CHILD},
    {"baby", KIN_CHILD},         {"kid", KIN_CHILD},           {"children", KIN_CHILD},
    {"kids", KIN_CHILD},         {"brother", KIN_SIBLING},     {"sister", KIN_SIBLING},
    {"sibling", KIN_SIBLING},    {"twin", KIN_SIBLING},        {"friend", KIN_FRIEND},
    {"bestie", KIN_FRIEND},      {"dog", KIN_PET},             {"cat", KIN_PET},
    {"pet", KIN_PET},            {"puppy", KIN_PET},           {"kitten", KIN_PET},
    {"horse", KIN_PET},          {"aunt", KIN_AUNT},           {"auntie", KIN_AUNT},
    {"uncle", KIN_UNCLE},        {"cousin", KIN_COUSIN},       {"grandson", KIN_GRANDCHILD},
    {"granddaughter", KIN_GRANDCHILD}, {"grandchild", KIN_GRANDCHILD},
    {"parents", KIN_PARENTS},    {"parent", KIN_PARENTS},
};
/* clang-format on */

/* Strip a possessive "'s" into buf: "mother's" -> "mother". */
static const char *
strip_possessive(const char *lo, char *buf, size_t len)
{
    size_t n = strlen(lo);

    if (n > 2 && n < len && lo[n - 2] == '\'' && lo[n - 1] == 's') {
        memcpy(buf, lo, n - 2);
        buf[n - 2] = '\0';
        return buf;
    }
    return lo;
}

static const struct kin *
kin_of(const char *lo)
{
    char buf[WORD_BYTES_MAX + 1];
    const char *w = strip_possessive(lo, buf, sizeof(buf));
    size_t i;

    for (i = 0; i < COUNT(kin_words); i++)
        if (strcmp(kin_words[i].word, w) == 0)
            return &kin_words[i];
    return NULL;
}

/* ---- topics ----------------------------------------------------------- */

/* In priority order: on equal scores the earlier topic wins. */
enum topic {
    TOPIC_NONE,
    TOPIC_CRISIS,
    TOPIC_GRIEF,
    TOPIC_ANXIETY,
    TOPIC_ANGER,
    TOPIC_LONELY,
    TOPIC_GUILT,
    TOPIC_SAD,
    TOPIC_TIRED,
    TOPIC_JOY,
    TOPIC_ADVICE,
    TOPIC_DOING,    /* "what are you doing?" */
    TOPIC_WHO,      /* "who are you?" */
    TOPIC_HOW,      /* "how are you?" */
    TOPIC_ASK_ROSE, /* any other question to Rose ("do you like tea?") */
    TOPIC_QUESTION, /* any other question */
    TOPIC_BYE,
    TOPIC_THANKS,
    TOPIC_GREETING,
    TOPIC_SILENCE,
    TOPIC__MAX
};

#define FEELING(t) ((t) >= TOPIC_GRIEF && (t) <= TOPIC_JOY)

/* Keyword phrases.  Words are separated by one space; a trailing '*' on a
 * word matches any ending ("worr*": worry, worried, worrying).  Apostrophes
 * are ignored when comparing, so "can't sleep" also matches "cant sleep". */
/* clang-format off */
static const struct keyword {
    const char *phrase;
    enum topic topic;
    int weight;
} keywords[] = {
    {"suicid*", TOPIC_CRISIS, 10},        {"kill myself", TOPIC_CRISIS, 10},
    {"killing myself", TOPIC_CRISIS, 10}, {"end my life", TOPIC_CRISIS, 10},
    {"end it all", TOPIC_CRISIS, 10},     {"want to die", TOPIC_CRISIS, 10},
    {"wanna die", TOPIC_CRISIS, 10},      {"don't want to live", TOPIC_CRISIS, 10},
    {"don't want to be here anymore", TOPIC_CRISIS, 10},
    {"self harm", TOPIC_CRISIS, 10},      {"hurt myself", TOPIC_CRISIS, 10},
    {"hurting myself", TOPIC_CRISIS, 10}, {"better off dead", TOPIC_CRISIS, 10},
    {"no reason to live", TOPIC_CRISIS, 10},

    {"died", TOPIC_GRIEF, 3},      {"dead", TOPIC_GRIEF, 2},       {"death", TOPIC_GRIEF, 3},
    {"passed away", TOPIC_GRIEF, 4}, {"passed", TOPIC_GRIEF, 1},   {"pass away", TOPIC_GRIEF, 3},
    {"funeral", TOPIC_GRIEF, 3},   {"grief", TOPIC_GRIEF, 3},      {"griev*", TOPIC_GRIEF, 3},
    {"mourn*", TOPIC_GRIEF, 3},    {"loss", TOPIC_GRIEF, 2},       {"lost my", TOPIC_GRIEF, 2},
    {"lost our", TOPIC_GRIEF, 2},  {"miss her", TOPIC_GRIEF, 3},   {"miss him", TOPIC_GRIEF, 3},
    {"miss them", TOPIC_GRIEF, 3}, {"miss my", TOPIC_GRIEF, 3},    {"missing her", TOPIC_GRIEF, 3},
    {"missing him", TOPIC_GRIEF, 3}, {"missing my", TOPIC_GRIEF, 3}, {"widow*", TOPIC_GRIEF, 3},
    {"buried", TOPIC_GRIEF, 2},    {"burial", TOPIC_GRIEF, 2},     {"grave", TOPIC_GRIEF, 2},
    {"cemetery", TOPIC_GRIEF, 3},  {"memorial", TOPIC_GRIEF, 2},   {"hospice", TOPIC_GRIEF, 2},
    {"miscarriage", TOPIC_GRIEF, 4}, {"stillborn", TOPIC_GRIEF, 4}, {"put down", TOPIC_GRIEF, 2},
    {"no longer with us", TOPIC_GRIEF, 3}, {"anniversary", TOPIC_GRIEF, 1},
    {"gone", TOPIC_GRIEF, 1},

    {"anxious", TOPIC_ANXIETY, 3},  {"anxiety", TOPIC_ANXIETY, 3},  {"worr*", TOPIC_ANXIETY, 2},
    {"panic*", TOPIC_ANXIETY, 3},   {"scared", TOPIC_ANXIETY, 2},   {"afraid", TOPIC_ANXIETY, 2},
    {"fear*", TOPIC_ANXIETY, 2},    {"nervous", TOPIC_ANXIETY, 2},  {"stress*", TOPIC_ANXIETY, 2},
    {"overwhelm*", TOPIC_ANXIETY, 2}, {"can't sleep", TOPIC_ANXIETY, 3},
    {"cannot sleep", TOPIC_ANXIETY, 3}, {"couldn't sleep", TOPIC_ANXIETY, 3},
    {"insomnia", TOPIC_ANXIETY, 3}, {"racing", TOPIC_ANXIETY, 1},   {"dread*", TOPIC_ANXIETY, 2},
    {"terrified", TOPIC_ANXIETY, 3}, {"on edge", TOPIC_ANXIETY, 2}, {"restless", TOPIC_ANXIETY, 1},
    {"tense", TOPIC_ANXIETY, 1},     {"sick", TOPIC_ANXIETY, 1},     {"hospital", TOPIC_ANXIETY, 1},
    {"diagnos*", TOPIC_ANXIETY, 2}, {"surgery", TOPIC_ANXIETY, 2},  {"cancer", TOPIC_ANXIETY, 2},

    {"angry", TOPIC_ANGER, 3},      {"anger", TOPIC_ANGER, 3},      {"mad", TOPIC_ANGER, 2},
    {"furious", TOPIC_ANGER, 3},    {"rage", TOPIC_ANGER, 3},       {"hate", TOPIC_ANGER, 2},
    {"unfair", TOPIC_ANGER, 2},     {"frustrat*", TOPIC_ANGER, 2},  {"annoyed", TOPIC_ANGER, 2},
    {"irritat*", TOPIC_ANGER, 2},   {"pissed", TOPIC_ANGER, 3},     {"resent*", TOPIC_ANGER, 2},
    {"fed up", TOPIC_ANGER, 2},     {"livid", TOPIC_ANGER, 3},      {"betray*", TOPIC_ANGER, 2},

    {"lonely", TOPIC_LONELY, 3},    {"loneliness", TOPIC_LONELY, 3}, {"alone", TOPIC_LONELY, 2},
    {"isolated", TOPIC_LONELY, 3},  {"no one", TOPIC_LONELY, 2},    {"nobody", TOPIC_LONELY, 2},
    {"no friends", TOPIC_LONELY, 3}, {"by myself", TOPIC_LONELY, 2}, {"left out", TOPIC_LONELY, 2},
    {"on my own", TOPIC_LONELY, 2}, {"abandoned", TOPIC_LONELY, 2},
    {"don't have anyone", TOPIC_LONELY, 3},

    {"guilt*", TOPIC_GUILT, 3},     {"blame", TOPIC_GUILT, 2},      {"my fault", TOPIC_GUILT, 3},
    {"should have", TOPIC_GUILT, 2}, {"shouldn't have", TOPIC_GUILT, 2},
    {"regret*", TOPIC_GUILT, 3},    {"ashamed", TOPIC_GUILT, 3},    {"shame", TOPIC_GUILT, 2},
    {"if only", TOPIC_GUILT, 2},

    {"sad", TOPIC_SAD, 3},          {"sadness", TOPIC_SAD, 3},      {"depress*", TOPIC_SAD, 3},
    {"down", TOPIC_SAD, 1},         {"crying", TOPIC_SAD, 2},       {"cry", TOPIC_SAD, 2},
    {"cried", TOPIC_SAD, 2},        {"tears", TOPIC_SAD, 2},        {"empty", TOPIC_SAD, 2},
    {"numb", TOPIC_SAD, 2},         {"hopeless", TOPIC_SAD, 3},     {"heartbroken", TOPIC_SAD, 3},
    {"heart broken", TOPIC_SAD, 3}, {"miserable", TOPIC_SAD, 3},    {"unhappy", TOPIC_SAD, 3},
    {"awful", TOPIC_SAD, 2},        {"terrible", TOPIC_SAD, 2},     {"struggl*", TOPIC_SAD, 2},
    {"hurt*", TOPIC_SAD, 1},        {"pain", TOPIC_SAD, 1},         {"heavy", TOPIC_SAD, 1},
    {"lost", TOPIC_SAD, 1},         {"hard", TOPIC_SAD, 1},         {"rough", TOPIC_SAD, 1},
    {"difficult", TOPIC_SAD, 1},         {"not ok", TOPIC_SAD, 2},       {"not okay", TOPIC_SAD, 2},
    {"not good", TOPIC_SAD, 2},     {"not well", TOPIC_SAD, 2},     {"not fine", TOPIC_SAD, 2},

    {"tired", TOPIC_TIRED, 2},      {"exhausted", TOPIC_TIRED, 3},  {"drained", TOPIC_TIRED, 2},
    {"worn out", TOPIC_TIRED, 2},   {"weary", TOPIC_TIRED, 2},      {"burnt out", TOPIC_TIRED, 3},
    {"burned out", TOPIC_TIRED, 3}, {"burnout", TOPIC_TIRED, 3},    {"no energy", TOPIC_TIRED, 2},

    {"happy", TOPIC_JOY, 3},        {"glad", TOPIC_JOY, 2},         {"good news", TOPIC_JOY, 3},
    {"great news", TOPIC_JOY, 3},   {"grateful", TOPIC_JOY, 3},     {"thankful", TOPIC_JOY, 3},
    {"excited", TOPIC_JOY, 3},      {"wonderful", TOPIC_JOY, 2},    {"amazing", TOPIC_JOY, 2},
    {"great", TOPIC_JOY, 1},        {"better", TOPIC_JOY, 2},       {"proud", TOPIC_JOY, 2},
    {"joy*", TOPIC_JOY, 2},         {"celebrat*", TOPIC_JOY, 2},    {"relieved", TOPIC_JOY, 2},
    {"peaceful", TOPIC_JOY, 2},     {"good day", TOPIC_JOY, 2},     {"got the job", TOPIC_JOY, 3},
    {"got engaged", TOPIC_JOY, 3},  {"blessed", TOPIC_JOY, 2},      {"fantastic", TOPIC_JOY, 2},
    {"hopeful", TOPIC_JOY, 2},      {"love it", TOPIC_JOY, 2},

    {"what should i do", TOPIC_ADVICE, 3}, {"should i", TOPIC_ADVICE, 2},
    {"what do i do", TOPIC_ADVICE, 3},     {"what can i do", TOPIC_ADVICE, 3},
    {"any advice", TOPIC_ADVICE, 3},       {"advice", TOPIC_ADVICE, 2},
    {"help me", TOPIC_ADVICE, 2},          {"how do i", TOPIC_ADVICE, 2},
    {"how can i", TOPIC_ADVICE, 2},        {"how do you cope", TOPIC_ADVICE, 3},
    {"how to cope", TOPIC_ADVICE, 3},

    {"what are you doing", TOPIC_DOING, 5}, {"what are you up to", TOPIC_DOING, 5},
    {"what're you doing", TOPIC_DOING, 5},  {"what you doing", TOPIC_DOING, 5},
    {"what r u doing", TOPIC_DOING, 5},     {"what are u doing", TOPIC_DOING, 5},
    {"whatcha doing", TOPIC_DOING, 5},      {"wyd", TOPIC_DOING, 5},
    {"where are you", TOPIC_DOING, 4},      {"what have you been doing", TOPIC_DOING, 5},
    {"who are you", TOPIC_WHO, 5},          {"what are you", TOPIC_WHO, 4},
    {"what's your name", TOPIC_WHO, 5},     {"what is your name", TOPIC_WHO, 5},
    {"are you real", TOPIC_WHO, 5},         {"are you human", TOPIC_WHO, 5},
    {"are you a bot", TOPIC_WHO, 5},        {"are you a robot", TOPIC_WHO, 5},
    {"are you an ai", TOPIC_WHO, 5},        {"are you ai", TOPIC_WHO, 5},
    {"are you a person", TOPIC_WHO, 5},     {"are you a machine", TOPIC_WHO, 5},
    {"are you a computer", TOPIC_WHO, 5},   {"are you a program", TOPIC_WHO, 5},
    {"tell me about yourself", TOPIC_WHO, 5}, {"who is rose", TOPIC_WHO, 5},
    {"how are you", TOPIC_HOW, 4},          {"how're you", TOPIC_HOW, 4},
    {"how r u", TOPIC_HOW, 4},              {"how are u", TOPIC_HOW, 4},
    {"how have you been", TOPIC_HOW, 4},    {"how's your day", TOPIC_HOW, 4},
    {"how is your day", TOPIC_HOW, 4},      {"how do you feel", TOPIC_HOW, 4},
    {"how you doing", TOPIC_HOW, 4},        {"how are things", TOPIC_HOW, 3},

    {"bye", TOPIC_BYE, 3},          {"goodbye", TOPIC_BYE, 3},      {"good night", TOPIC_BYE, 3},
    {"goodnight", TOPIC_BYE, 3},    {"see you", TOPIC_BYE, 2},      {"talk later", TOPIC_BYE, 2},
    {"talk to you later", TOPIC_BYE, 3}, {"gotta go", TOPIC_BYE, 3}, {"got to go", TOPIC_BYE, 3},
    {"have to go", TOPIC_BYE, 2},   {"to bed", TOPIC_BYE, 2},       {"go to sleep", TOPIC_BYE, 2},
    {"thank*", TOPIC_THANKS, 3},    {"thx", TOPIC_THANKS, 3},
    {"appreciate it", TOPIC_THANKS, 2},
    {"hi", TOPIC_GREETING, 2},      {"hello", TOPIC_GREETING, 2},   {"hey", TOPIC_GREETING, 2},
    {"hiya", TOPIC_GREETING, 2},    {"howdy", TOPIC_GREETING, 2},
    {"greetings", TOPIC_GREETING, 2},
    {"good morning", TOPIC_GREETING, 3}, {"good afternoon", TOPIC_GREETING, 3},
    {"good evening", TOPIC_GREETING, 3},
};
/* clang-format on */

/* Compare word w with the pattern p[0..len), ignoring apostrophes on both
 * sides; prefix: p only has to start w. */
static int
word_matches(const char *w, const char *p, size_t len, int prefix)
{
    size_t i = 0;

    for (;;) {
        while (*w == '\'')
            w++;
        while (i < len && p[i] == '\'')
            i++;
        if (i == len)
            return prefix || *w == '\0';
        if (*w != p[i])
            return 0;
        w++;
        i++;
    }
}

/* Number of words of ws from i that the phrase matches, 0 if it does not.
 * A phrase never spans a clause break. */
static size_t
match_phrase(const struct words *ws, size_t i, const char *phrase)
{
    size_t j = i, len;

    while (*phrase) {
        int prefix;
        const char *sp = strchr(phrase, ' ');

        len = sp ? (size_t)(sp - phrase) : strlen(phrase);
        prefix = len > 1 && phrase[len - 1] == '*';
        if (j >= ws->n || (j > i && (ws->flags[j] & W_BREAK)))
            return 0;
        if (!word_matches(ws->lo[j], phrase, prefix ? len - 1 : len, prefix))
            return 0;
        j++;
        phrase += len;
        if (*phrase == ' ')
            phrase++;
    }
    return j - i;
}

/* Is the word at i negated ("not happy", "never really worried")?  Looks at
 * up to three words before it within the same clause. */
static int
negated(const struct words *ws, size_t i)
{
    size_t k;

    for (k = 1; k <= 3 && k <= i; k++) {
        if (ws->flags[i - k + 1] & W_BREAK)
            break;
        if (in_list(negators, ws->lo[i - k]))
            return 1;
    }
    return 0;
}

/* Score ws against the keyword table into score[]; hit[i] (if not NULL)
 * gets the topic of a keyword found at word i, for choosing what to
 * reflect.  A negated joy word counts as sadness; other negated feelings
 * count for nothing.  Crisis words count even when negated: asking "are you
 * safe?" once too often is the right mistake to make. */
static void
score_words(const struct words *ws, int score[TOPIC__MAX], unsigned char *hit)
{
    size_t i, k, m, j;

    memset(score, 0, sizeof(int) * TOPIC__MAX);
    if (hit)
        memset(hit, 0, ws->n);
    for (i = 0; i < ws->n; i++) {
        for (k = 0; k < COUNT(keywords); k++) {
            const struct keyword *kw = &keywords[k];
            enum topic t = kw->topic;

            if (kw->phrase[0] != ws->lo[i][0])
                continue;
            if ((m = match_phrase(ws, i, kw->phrase)) == 0)
                continue;
            if (FEELING(t) && negated(ws, i)) {
                if (t != TOPIC_JOY)
                    continue;
                t = TOPIC_SAD;
            }
            score[t] += kw->weight;
            if (hit)
                for (j = i; j < i + m; j++)
                    hit[j] = (unsigned char)t;
        }
    }
}

/* The topic a score table speaks for. */
static enum topic
pick_topic(const int score[TOPIC__MAX], const struct words *ws)
{
    int t, best = TOPIC_NONE;
    size_t i;

    if (score[TOPIC_CRISIS] > 0)
        return TOPIC_CRISIS;
    for (t = TOPIC_GRIEF; t <= TOPIC_JOY; t++)
        if (score[t] > 0 && (best == TOPIC_NONE || score[t] > score[best]))
            best = t;
    if (best != TOPIC_NONE)
        return (enum topic)best;
    if (score[TOPIC_ADVICE] > 0)
        return TOPIC_ADVICE;
    for (t = TOPIC_DOING; t <= TOPIC_HOW; t++)
        if (score[t] > 0 && (best == TOPIC_NONE || score[t] > score[best]))
            best = t;
    if (best != TOPIC_NONE)
        return (enum topic)best;
    if (ws->question) {
        for (i = 0; i < ws->n; i++)
            if (strcmp(ws->lo[i], "you") == 0 || strcmp(ws->lo[i], "your") == 0 ||
                strcmp(ws->lo[i], "u") == 0 || strcmp(ws->lo[i], "yourself") == 0)
                return TOPIC_ASK_ROSE;
        return TOPIC_QUESTION;
    }
    for (t = TOPIC_BYE; t <= TOPIC_GREETING; t++)
        if (score[t] > 0 && (best == TOPIC_NONE || score[t] > score[best]))
            best = t;
    if (best != TOPIC_NONE)
        return (enum topic)best;
    return ws->n > 0 ? TOPIC_NONE : TOPIC_SILENCE;
}

/* ---- Rose's phrases --------------------------------------------------- */

/*
 * Placeholders: {n} ", Name" and {N} "Name, " (only in the one sentence
 * that carries the name, else nothing), {r} the reflected clause, {m} the
 * memory clause, {k} the person they spoke of ("your mom", else "them"),
 * {a} Rose's activity, {q} the person's short phrase.  Every opening and
 * question has {n} or {N}, so the name can go in any of them.  Keep each
 * phrase one sentence with no other '.', '!' or '?'.
 */
struct pool {
    const char *const *s;
    size_t n;
};
#define POOL(a)                                                                                    \
    {                                                                                              \
        a, COUNT(a)                                                                                \
    }
#define NO_POOL                                                                                    \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

static const char *const none_open[] = {
    "Thank you for sharing that with me{n}.",
    "I'm listening{n}.",
    "I hear you{n}.",
    "I'm glad you told me{n}.",
};
static const char *const none_ask[] = {
    "How does that sit with you{n}?",
    "What feels most important about it right now{n}?",
    "How are you feeling as you tell me this{n}?",
    "Would you tell me a little more{n}?",
};

static const char *const grief_open[] = {
    "I'm so sorry{n}.",
    "Oh{n}, my heart goes out to you.",
    "Thank you for trusting me with this{n}.",
    "I'm so sorry{n}, that is a heavy loss to carry.",
};
static const char *const grief_wisdom[] = {
    "Grief comes and goes like the tide, and there is no wrong way to move through it.",
    ("In the old ways we keep a candle lit for the ones we love, because love does not end "
     "when a life does."),
    "Even in winter the roots are alive under the snow, and so is the love you carry.",
};
static const char *const grief_ask[] = {
    "What do you miss most about {k}{n}?",
    "Would you tell me a little about {k}{n}?",
    "How has the grief been for you these days{n}?",
    "How are you looking after yourself through this{n}?",
    "Is there a memory of {k} that you keep coming back to{n}?",
};

static const char *const anxiety_open[] = {
    "That sounds really frightening{n}.",
    "I can hear how much worry you're holding{n}.",
    "Anxiety can make everything feel so loud{n}, and you're not alone in it.",
    "Thank you for telling me{n}, that takes courage when your mind is racing.",
};
static const char *const anxiety_wisdom[] = {
    ("Let's slow down together, breathing in as if smelling a flower and out as if cooling a "
     "cup of tea."),
    ("Try pressing your feet into the floor for a moment, because the earth stays steady even "
     "when our thoughts do not."),
    ("A racing mind is like a river in flood, and it does settle when we stop fighting the "
     "current."),
};
static const char *const anxiety_ask[] = {
    "What is weighing on you most right now{n}?",
    "When did this worry start to feel so heavy{n}?",
    "What usually helps you feel even a little safer{n}?",
    "Is it the nights that are hardest{n}, or does it follow you through the day?",
};

static const char *const anger_open[] = {
    "That sounds really frustrating{n}.",
    "It makes sense that you're angry{n}.",
    "Anger often shows up to protect something we care about{n}.",
    "I can hear the fire in that{n}, and it's alright to feel it.",
};
static const char *const anger_wisdom[] = {
    "Anger is a kind of fire, and fire can warm or burn depending on how we tend it.",
    ("Sometimes a brisk walk or a shout into the wind lets the heat move through instead of "
     "staying stuck."),
};
static const char *const anger_ask[] = {
    "What happened that brought this up{n}?",
    "What do you wish they understood{n}?",
    "Underneath the anger, is there something that hurts{n}?",
};

static const char *const lonely_open[] = {
    "Loneliness can be such a heavy quiet{n}.",
    "I'm really glad you reached out{n}.",
    "I'm here with you right now{n}, and you're not as alone as it feels.",
};
static const char *const lonely_wisdom[] = {
    ("Even a lone tree in a field is joined to the others through its roots, more than we can "
     "see."),
    ("Sometimes one small thread of connection, a call or a walk among people, starts to warm "
     "the cold."),
};
static const char *const lonely_ask[] = {
    "When do you feel the loneliness most{n}?",
    "Is there someone you miss being close to{n}?",
    "What would help you feel a little less alone this week{n}?",
};

static const char *const guilt_open[] = {
    "Guilt can be so heavy to carry{n}.",
    "I can hear how hard you're being on yourself{n}.",
    "Thank you for being so honest with me{n}.",
};
static const char *const guilt_wisdom[] = {
    "We often judge our past selves for what we could not have known then.",
    "Guilt is often love looking backward, wishing it could have done more.",
};
static const char *const guilt_ask[] = {
    "What would you say to a friend who felt this way{n}?",
    "What do you wish you had done differently{n}?",
    "Could you offer yourself a little of the kindness you would give someone else{n}?",
};

static const char *const sad_open[] = {
    "I'm sorry you're hurting{n}.",
    "That sounds so heavy{n}.",
    "It's alright to feel low{n}, you don't have to hide it with me.",
};
static const char *const sad_wisdom[] = {
    "Tears are like rain, they water what needs to grow again.",
    "Some days are grey skies, and we can rest under them without fixing anything.",
};
static const char *const sad_ask[] = {
    "What has been weighing on your heart{n}?",
    "How long have you been feeling this way{n}?",
    "What would feel comforting to you right now{n}?",
};

static const char *const tired_open[] = {
    "You sound really worn out{n}.",
    "It sounds like you've been carrying a lot{n}.",
    "Being this tired touches everything{n}.",
};
static const char *const tired_wisdom[] = {
    "Even the fields rest through winter, and rest is not a failure, it is part of healing.",
    "A warm cup of chamomile and an early night can be medicine too.",
};
static const char *const tired_ask[] = {
    "What has been draining you the most{n}?",
    "When did you last have a moment just for yourself{n}?",
    "What kind of rest would truly help you right now{n}?",
};

static const char *const joy_open[] = {
    "Oh, that's wonderful to hear{n}!",
    "I'm so glad{n}, that warms my heart.",
    "What lovely news{n}.",
    "That brings a real smile to my face{n}.",
};
static const char *const joy_wisdom[] = {
    "Moments like this are worth savouring, like sun on your face after a long winter.",
    "Joy deserves to be felt fully, just as much as sorrow does.",
};
static const char *const joy_ask[] = {
    "What made it feel so good{n}?",
    "How are you going to celebrate{n}?",
    "Who would you love to share this with{n}?",
    "How does it feel to have this good moment{n}?",
};

static const char *const advice_open[] = {
    "I can't choose for you{n}, but I trust that you know more than you think.",
    "That's a big question to hold{n}.",
    "There's no single right path here{n}, only the one that feels true to you.",
};
static const char *const advice_wisdom[] = {
    "Answers often come clearer in the quiet, like a pond that clears once the mud settles.",
};
static const char *const advice_ask[] = {
    "What does your heart tell you{n}?",
    "If you imagine each choice, which one lets you breathe a little easier{n}?",
    "What would feel kindest to yourself{n}?",
};

static const char *const doing_open[] = {
    "Right now I'm {a}{n}.",
    "Oh, I'm {a}{n}.",
    "At the moment I'm {a}{n}, and I'm glad you stopped by.",
};
static const char *const doing_open_quiet[] = {
    "Right now I'm just here{n}, sitting quietly and listening.",
    "Not much at all{n}, I'm simply here with you.",
};
static const char *const doing_ask[] = {
    "What about you, how is your day going{n}?",
    "And how are you doing today{n}?",
    "What have you been up to{n}?",
};

static const char *const who_open[] = {
    "{N}I'm Rose, a healer who walks beside people through grief and hard seasons.",
    "My name is Rose{n}, and I'm here to listen and keep you company.",
    "{N}I'm Rose, a companion who sits with people through loss and healing.",
};
static const char *const who_ask[] = {
    "What brings you here today{n}?",
    "What would you like to talk about{n}?",
    "How can I keep you company today{n}?",
};

static const char *const how_open[] = {
    "I'm well{n}, thank you for asking.",
    "I'm feeling peaceful today{n}, thank you.",
    "My heart is quiet and steady today{n}, thank you for asking.",
};
static const char *const how_middle[] = {
    "I've been {a}.",
};
static const char *const how_ask[] = {
    "How are you, truly{n}?",
    "And how is your heart today{n}?",
    "How have things been for you{n}?",
};

static const char *const ask_rose_open[] = {
    "What a kind thing to ask{n}.",
    "I'm glad you asked{n}.",
    "Oh, I like that question{n}.",
};
static const char *const ask_rose_middle[] = {
    ("My joys are simple ones, the garden, the river, the fire in the evening and a warm cup "
     "of tea."),
    "I find most of what I need out among the trees and the herbs.",
};
static const char *const ask_rose_ask[] = {
    "What about you{n}, what brings you comfort these days?",
    "What made you wonder about that{n}?",
    "And what is it like for you{n}?",
};

static const char *const question_open[] = {
    "That's a good question{n}.",
    "Some questions don't have easy answers{n}, and that's alright.",
    "I'm glad you asked{n}.",
};
static const char *const question_wisdom[] = {
    "I often find my own answers out among the trees, in the quiet between thoughts.",
};
static const char *const question_ask[] = {
    "What's your own sense of it{n}?",
    "What made you wonder about that{n}?",
    "What do you think sits underneath that question{n}?",
};

static const char *const bye_open[] = {
    "Take gentle care of yourself{n}.",
    "Go softly{n}, and be kind to yourself.",
    "It was good to talk with you{n}.",
};
static const char *const bye_middle[] = {
    "I'll be here whenever you want to talk again.",
    "My door is always open, whenever you need it.",
};

static const char *const thanks_open[] = {
    "You're so welcome{n}.",
    "It means a lot that you'd say that{n}.",
    "Of course{n}, I'm glad to be here with you.",
};
static const char *const thanks_ask[] = {
    "Is there anything else on your heart{n}?",
    "How are you feeling now{n}?",
};

static const char *const greeting_open[] = {
    "Hello{n}, it's good to hear from you.",
    "Hi{n}, I'm glad you're here.",
    "Welcome{n}, come and sit with me a while.",
};
static const char *const greeting_ask[] = {
    "How is your heart today{n}?",
    "What's on your mind today{n}?",
    "How have you been feeling lately{n}?",
    "What brings you here today{n}?",
};

static const char *const silence_open[] = {
    "I'm here whenever you're ready{n}.",
    "Take all the time you need{n}.",
    "No rush at all{n}.",
    "It's alright to sit in the quiet for a while{n}.",
};
static const char *const silence_ask[] = {
    "What would you like to share when you're ready{n}?",
    "Whenever you're ready, what's on your heart{n}?",
    "Would you like to tell me how you're feeling{n}?",
};

static const char *const crisis_open[] = {
    "I'm really glad you told me{n}, and I'm staying right here with you.",
    "Thank you for telling me something so painful{n}, you matter to me.",
};
static const char *const crisis_middle[] = {
    ("If you might act on these thoughts, please call your local emergency number or a crisis "
     "line right now so someone can be with you in person."),
    ("Please reach out to a crisis line or emergency services now, or to someone you trust "
     "who can be with you."),
};
static const char *const crisis_ask[] = {
    "Are you safe right now{n}?",
    "Is there someone who can be with you right now{n}?",
};

static const char *const intro_open[] = {
    "It's lovely to meet you{n}.",
    "What a beautiful name{n}.",
    "Thank you for telling me your name{n}.",
};

static const char *const reflect_middle[] = {
    "It sounds like {r}.",
    "I hear that {r}.",
    "What I'm hearing is that {r}.",
};
static const char *const memory_middle[] = {
    "I remember {m}.",
    "I haven't forgotten {m}.",
};
static const char *const reflect_memory_middle[] = {
    "It sounds like {r}, and I remember {m}.",
    "I hear that {r}, and I haven't forgotten {m}.",
};
static const char *const frag_ask[] = {
    "When you say {q}, what comes up for you{n}?",
    "What does {q} bring up for you{n}?",
};

/* Last resort when every composed reply equals the previous one. */
static const char *const fallback[] = {
    "I'm here with you{n}, and I'm listening.",
    "Take your time{n}, I'm right here with you.",
};

static const struct voice {
    struct pool open, middle, ask;
} voices[TOPIC__MAX] = {
    [TOPIC_NONE] = {POOL(none_open), NO_POOL, POOL(none_ask)},
    [TOPIC_CRISIS] = {POOL(crisis_open), POOL(crisis_middle), POOL(crisis_ask)},
    [TOPIC_GRIEF] = {POOL(grief_open), POOL(grief_wisdom), POOL(grief_ask)},
    [TOPIC_ANXIETY] = {POOL(anxiety_open), POOL(anxiety_wisdom), POOL(anxiety_ask)},
    [TOPIC_ANGER] = {POOL(anger_open), POOL(anger_wisdom), POOL(anger_ask)},
    [TOPIC_LONELY] = {POOL(lonely_open), POOL(lonely_wisdom), POOL(lonely_ask)},
    [TOPIC_GUILT] = {POOL(guilt_open), POOL(guilt_wisdom), POOL(guilt_ask)},
    [TOPIC_SAD] = {POOL(sad_open), POOL(sad_wisdom), POOL(sad_ask)},
    [TOPIC_TIRED] = {POOL(tired_open), POOL(tired_wisdom), POOL(tired_ask)},
    [TOPIC_JOY] = {POOL(joy_open), POOL(joy_wisdom), POOL(joy_ask)},
    [TOPIC_ADVICE] = {POOL(advice_open), POOL(advice_wisdom), POOL(advice_ask)},
    [TOPIC_DOING] = {POOL(doing_open), NO_POOL, POOL(doing_ask)},
    [TOPIC_WHO] = {POOL(who_open), NO_POOL, POOL(who_ask)},
    [TOPIC_HOW] = {POOL(how_open), POOL(how_middle), POOL(how_ask)},
    [TOPIC_ASK_ROSE] = {POOL(ask_rose_open), POOL(ask_rose_middle), POOL(ask_rose_ask)},
    [TOPIC_QUESTION] = {POOL(question_open), POOL(question_wisdom), POOL(question_ask)},
    [TOPIC_BYE] = {POOL(bye_open), POOL(bye_middle), NO_POOL},
    [TOPIC_THANKS] = {POOL(thanks_open), NO_POOL, POOL(thanks_ask)},
    [TOPIC_GREETING] = {POOL(greeting_open), NO_POOL, POOL(greeting_ask)},
    [TOPIC_SILENCE] = {POOL(silence_open), NO_POOL, POOL(silence_ask)},
};

/* ---- reading the conversation ---------------------------------------- */

struct analysis {
    struct words msg; /* the message */
    struct words tmp; /* scratch: a history entry or a memory */
    unsigned char hit[WORDS_MAX];
    enum topic topic;
    int soft;  /* the topic comes from context, not from this message */
    int intro; /* this message tells us the name, and it is news */
    int says_name; /* this message gives the name, news or not ("my name is sarah and ...") */
    char name[NAME_MAX_BYTES + 1];
    char kin[PIECE_MAX];            /* "your mom" */
    char refl[PIECE_MAX];           /* "you keep thinking about mom" */
    char frag[PIECE_MAX];           /* "her cooking" */
    char memory[PIECE_MAX];         /* "that your mother passed away last spring" */
    char activity[PIECE_MAX];       /* "tending the herb garden at dawn" */
    const char *recent[RECENT_MAX]; /* Rose's last replies, newest first */
    size_t recent_len[RECENT_MAX];
    size_t nrecent;
    const char *prev_user[PREV_USER]; /* the person's previous messages, newest first */
    unsigned long long hash;
};

/* Append word to dst (a piece of at most PIECE_MAX - 1 bytes), with sep
 * before it unless dst is empty.  Returns 0 when it does not fit. */
static int
piece_add(char *dst, const char *sep, const char *word)
{
    size_t n = strlen(dst), s = n ? strlen(sep) : 0, w = strlen(word);

    if (n + s + w >= PIECE_MAX)
        return 0;
    memcpy(dst + n, sep, s);
    memcpy(dst + n + s, word, w + 1);
    return 1;
}

/* The word as it should appear in a reply: lowercase when the person was
 * shouting. */
static const char *
as_written(const struct words *ws, size_t i)
{
    return ws->shouting ? ws->lo[i] : ws->w[i];
}

static int
has_excluded(const struct words *ws, size_t from, size_t to)
{
    size_t i;

    for (i = from; i < to; i++)
        if (in_list(excluded, ws->lo[i]))
            return 1;
    return 0;
}

/* ---- names ---- */

/* Could the word at i be a name?  Letters only, 2 to 32 bytes, not a state
 * ("sad"), a common word or a family word; after a weak cue ("I'm") it must
 * be capitalised and not all capitals. */
static int
name_word_ok(const struct words *ws, size_t i, int weak)
{
    const char *w = ws->w[i], *p;
    size_t n = strlen(w);
    int has_lower = 0;

    if (n < 2 || n > 32)
        return 0;
    if (w[0] == '\'' || (w[0] >= '0' && w[0] <= '9'))
        return 0;
    for (p = w; *p; p++) {
        if (*p >= '0' && *p <= '9')
            return 0;
        if (*p >= 'a' && *p <= 'z')
            has_lower = 1;
    }
    if (in_sorted(name_stop, COUNT(name_stop), ws->lo[i]) || is_common(ws->lo[i]) ||
        kin_of(ws->lo[i]) || in_list(excluded, ws->lo[i]))
        return 0;
    if (weak && (!(ws->flags[i] & W_CAP) || !has_lower))
        return 0;
    return 1;
}

/* Find a self-introduction in ws; see rose_companion_find_name(). */
static int
find_name_in(const struct words *ws, char *buf, size_t len)
{
    static const struct cue {
        const char *phrase;
        int weak;
    } cues[] = {
        {"my name is", 0}, {"my name's", 0}, {"call me", 0},
        {"i'm", 1},        {"i am", 1},      {"this is", 1},
    };
    size_t i, c, m, n;
    char *p;

    for (i = 0; i < ws->n; i++) {
        for (c = 0; c < COUNT(cues); c++) {
            if ((m = match_phrase(ws, i, cues[c].phrase)) == 0)
                continue;
            if (i + m >= ws->n)
                continue;
            /* "my name is, um, Sarah" is rare; "I'm. Sad" is noise. */
            if (ws->flags[i + m] & (cues[c].weak ? W_BREAK : W_STOP))
                continue;
            if (!name_word_ok(ws, i + m, cues[c].weak))
                continue;
            n = strlen(ws->w[i + m]);
            if (n >= len)
                return 0;
            memcpy(buf, ws->w[i + m], n + 1);
            /* "sarah" and "SARAH" become "Sarah"; "McKenzie" stays. */
            for (p = buf + 1; *p && !(*p >= 'a' && *p <= 'z'); p++)
                ;
            if (*p == '\0')
                for (p = buf + 1; *p; p++)
                    *p = lower_ascii(*p);
            if (buf[0] >= 'a' && buf[0] <= 'z')
                buf[0] = (char)(buf[0] - 'a' + 'A');
            return 1;
        }
    }
    return 0;
}

int
rose_companion_find_name(const char *text, char *buf, size_t len)
{
    struct words *ws;
    int found;

    if (text == NULL || buf == NULL || len == 0)
        return 0;
    if ((ws = malloc(sizeof(*ws))) == NULL)
        return 0;
    split_words(ws, text, SCAN_MAX);
    found = find_name_in(ws, buf, len);
    free(ws);
    return found;
}

/* The name to use: the one this message introduces, else the caller's,
 * else one the person gave earlier in the history. */
static void
find_name(struct analysis *an, const struct rose_companion_ctx *ctx, size_t hfrom, size_t hlen)
{
    char found[NAME_MAX_BYTES + 1], given[PIECE_MAX] = "";
    size_t i, n;

    /* The caller's name, as at most three clean words. */
    an->name[0] = '\0';
    if (ctx->name) {
        split_words(&an->tmp, ctx->name, NAME_MAX_BYTES);
        for (i = 0; i < an->tmp.n && i < 3; i++)
            if (!piece_add(given, " ", an->tmp.w[i]))
                break;
        if ((n = strlen(given)) <= NAME_MAX_BYTES)
            memcpy(an->name, given, n + 1);
    }
    for (i = hlen; an->name[0] == '\0' && i > hfrom; i--) {
        const struct rose_companion_msg *m = &ctx->history[i - 1];
        if (m->role && m->text && strcmp(m->role, "user") == 0) {
            split_words(&an->tmp, m->text, SCAN_MAX);
            if (find_name_in(&an->tmp, found, sizeof(found)))
                memcpy(an->name, found, strlen(found) + 1);
        }
    }
    if (find_name_in(&an->msg, found, sizeof(found))) {
        /* An introduction only if it is news: "Sarah" is not news when we
         * know her as "Sarah Jones". */
        n = strlen(found);
        an->says_name = 1;
        an->intro =
            !rose_strnieq(an->name, found, n) || (an->name[n] != '\0' && an->name[n] != ' ');
        if (an->intro)
            memcpy(an->name, found, n + 1);
    }
}

/* ---- reflection ---- */

/* First-person words a reflected clause may start with. */
static const char *const self_words[] = {"i",  "i'm", "im",    "i've",  "ive", "i'd", "i'll",
                                         "my", "we",  "we're", "we've", "our", NULL};

/* Words a reflected clause should not end on. */
static const char *const dangling[] = {
    "and", "but", "so",   "or",  "the",  "a",      "an",   "to",   "of", "that", "because", "with",
    "my",  "i",   "is",   "was", "just", "really", "very", "like", "um", "uh",   "for",     "in",
    "at",  "on",  "when", "if",  "your", "our",    "rose", "then", "as", NULL};

static const char *const conjunctions[] = {
    "and",   "but",       "because", "cause",    "since", "so",     "that",     "when",
    "as",    "after",     "before",  "while",    "until", "though", "although", "now",
    "today", "yesterday", "lately",  "recently", "then",  "or",     "yet",      "also",
    "still", "well",      "oh",      "honestly", NULL};

/* Words before "I" that make a question ("should I", "what do I"). */
static const char *const inverting[] = {"should", "do",    "can",  "could", "would", "will", "am",
                                        "did",    "shall", "may",  "might", "must",  "what", "how",
                                        "why",    "where", "when", "who",   "which", "whom", NULL};

/* Words after "you" that make it the subject ("you know" -> "I know"). */
static const char *const you_verbs[] = {
    "are",   "were",       "know",  "said",  "say",    "told",   "have",   "had",
    "do",    "did",        "can",   "could", "would",  "will",   "should", "make",
    "made",  "understand", "get",   "got",   "listen", "helped", "help",   "always",
    "never", "must",       "might", "seem",  "sound",  "feel",   NULL};

/* clang-format off */
static const struct swap {
    const char *from, *to;
} swaps[] = {
    {"i", "you"},         {"i'm", "you're"},    {"im", "you're"},    {"i've", "you've"},
    {"ive", "you've"},    {"i'd", "you'd"},     {"i'll", "you'll"},  {"me", "you"},
    {"my", "your"},       {"mine", "yours"},    {"myself", "yourself"}, {"we", "you"},
    {"we're", "you're"},  {"we've", "you've"},  {"we'd", "you'd"},   {"we'll", "you'll"},
    {"us", "you"},        {"our", "your"},      {"ours", "yours"},   {"ourselves", "yourselves"},
    {"your", "my"},       {"yours", "mine"},    {"yourself", "myself"}, {"you're", "I'm"},
    {"youre", "I'm"},     {"you've", "I've"},   {"you'll", "I'll"},  {"you'd", "I'd"},
};
/* clang-format on */

/* The word at i seen from Rose's side: "my" -> "your", "you" -> "me"... */
static const char *
swap_word(const struct words *ws, size_t i)
{
    const char *lo = ws->lo[i], *prev = i > 0 ? ws->lo[i - 1] : "";
    size_t k;

    for (k = 0; k < COUNT(swaps); k++)
        if (strcmp(lo, swaps[k].from) == 0)
            return swaps[k].to;
    if (strcmp(lo, "you") == 0 || strcmp(lo, "u") == 0)
        return i + 1 < ws->n && in_list(you_verbs, ws->lo[i + 1]) ? "I" : "me";
    if (strcmp(lo, "am") == 0)
        return "are";
    if (strcmp(lo, "was") == 0 && strcmp(prev, "i") == 0)
        return "were";
    if (strcmp(lo, "are") == 0 && strcmp(prev, "you") == 0)
        return "am";
    if (strcmp(lo, "were") == 0 && strcmp(prev, "you") == 0)
        return "was";
    /* "I'm Sad": a capital on a plain word is emphasis, not a name. */
    if ((ws->flags[i] & W_CAP) &&
        (is_common(lo) || kin_of(lo) || in_sorted(name_stop, COUNT(name_stop), lo)))
        return lo;
    return as_written(ws, i);
}

/* Choose the first-person clause to reflect ("I keep thinking about mom")
 * and write it from Rose's side into an->refl.  Prefers a clause that holds
 * a keyword of the topic. */
static void
build_reflection(struct analysis *an)
{
    const struct words *ws = &an->msg;
    size_t i, j, end, best_i = 0, best_end = 0;
    int score, best = -1;

    an->refl[0] = '\0';
    for (i = 0; i < ws->n && i < 64; i++) {
        if (!in_list(self_words, ws->lo[i]))
            continue;
        for (end = i + 1; end < ws->n && end - i < REFLECT_WORDS; end++)
            if (ws->flags[end] & W_BREAK)
                break;
        while (end - i > 1 && in_list(dangling, ws->lo[end - 1]))
            end--;
        if (end - i < 2 || has_excluded(ws, i, end))
            continue;
        /* "I don't know" has nothing of its own to reflect. */
        for (j = i; j < end && is_common(ws->lo[j]); j++)
            ;
        if (j == end && end - i < 4)
            continue;
        /* "should I do about my job" is half a question, not a clause. */
        if (i > 0 && !(ws->flags[i] & W_BREAK) && in_list(inverting, ws->lo[i - 1]))
            continue;
        /* "my" starts a clause ("my mom died") only at a clause start or
         * after a conjunction; "about my job" is not one. */
        if ((strcmp(ws->lo[i], "my") == 0 || strcmp(ws->lo[i], "our") == 0) &&
            (end - i < 3 ||
             (i > 0 && !(ws->flags[i] & W_BREAK) && !in_list(conjunctions, ws->lo[i - 1]))))
            continue;
        if (an->says_name) {
            /* the name's first word, as the message writes it ("sarah" of "Sarah Jones") */
            for (j = i; j < end; j++) {
                size_t wn = strlen(ws->w[j]);
                if (rose_strnieq(ws->w[j], an->name, wn) &&
                    (an->name[wn] == '\0' || an->name[wn] == ' '))
                    break;
            }
            if (j < end)
                continue; /* "I'm Sarah" is answered by the greeting, or needs no echo */
        }
        score = end - i >= 3;
        for (j = i; j < end; j++)
            if (an->hit[j] != 0 && an->hit[j] == (unsigned char)an->topic) {
                score += 4;
                break;
            }
        if (score > best) {
            best = score;
            best_i = i;
            best_end = end;
        }
        i = end - 1; /* the next clause starts after this one */
    }
    if (best < 0)
        return;
    for (j = best_i; j < best_end; j++)
        if (!piece_add(an->refl, " ", swap_word(ws, j)))
            break;
}

/* A short message that is not a feeling or a sentence about themselves
 * ("her cooking"): reflect it as a phrase. */
static void
build_fragment(struct analysis *an)
{
    const struct words *ws = &an->msg;
    size_t i;
    int content = 0;

    an->frag[0] = '\0';
    if (ws->n == 0 || ws->n > 6 || ws->question || has_excluded(ws, 0, ws->n))
        return;
    for (i = 0; i < ws->n; i++) {
        if (i > 0 && (ws->flags[i] & W_BREAK))
            return; /* two clauses is not a phrase */
        if (!is_common(ws->lo[i]))
            content = 1;
    }
    if (!content)
        return;
    for (i = 0; i < ws->n; i++) {
        const char *w = swap_word(ws, i);
        /* A capital only because the phrase started a sentence goes. */
        if (i == 0 && w == ws->w[0] && (is_common(ws->lo[0]) || kin_of(ws->lo[0])))
            w = ws->lo[0];
        if (!piece_add(an->frag, " ", w)) {
            an->frag[0] = '\0';
            return;
        }
    }
}

/* The person the message speaks of, as Rose would say it: "my mom" -> "your
 * mom", "my late husband" -> "your late husband", a bare "mom" -> "your
 * mom".  Empty if there is none. */
static void
find_kin(char *out, const struct words *ws)
{
    static const char *const adjectives[] = {"late",    "dear",   "little", "big",      "older",
                                             "younger", "baby",   "best",   "beloved",  "old",
                                             "sweet",   "eldest", "oldest", "youngest", NULL};
    static const char *const determiners[] = {"a",     "an",    "the",  "his",  "her",
                                              "their", "your",  "this", "that", "some",
                                              "any",   "every", NULL};
    char buf[WORD_BYTES_MAX + 1];
    size_t i, d;

    out[0] = '\0';
    for (i = 0; i < ws->n; i++) {
        const struct kin *k = kin_of(ws->lo[i]);
        const char *word;

        if (k == NULL)
            continue;
        word = strip_possessive(ws->lo[i], buf, sizeof(buf));
        d = i;
        if (d > 0 && !(ws->flags[d] & W_BREAK) && in_list(adjectives, ws->lo[d - 1]))
            d--;
        if (d > 0 && !(ws->flags[d] & W_BREAK) &&
            (strcmp(ws->lo[d - 1], "my") == 0 || strcmp(ws->lo[d - 1], "our") == 0)) {
            piece_add(out, "", "your");
            if (d < i)
                piece_add(out, " ", ws->lo[d]);
            piece_add(out, " ", word);
            return;
        }
        /* A bare "mom" or "grandpa" is a name for that person. */
        if (k->family <= KIN_GRANDFATHER &&
            (i == 0 || (ws->flags[i] & W_BREAK) || !in_list(determiners, ws->lo[i - 1]))) {
            piece_add(out, "", "your");
            piece_add(out, " ", word);
            return;
        }
    }
}

/* ---- memories ---- */

/* Verbs a memory note may start with ("Has a dog called Max"). */
static const char *const memory_verbs[] = {
    "has",     "had",       "is",        "was",     "lost",       "lives",   "lived",   "works",
    "worked",  "loves",     "loved",     "likes",   "liked",      "misses",  "missed",  "wants",
    "wanted",  "needs",     "needed",    "feels",   "felt",       "enjoys",  "enjoyed", "finds",
    "found",   "struggles", "struggled", "prefers", "moved",      "started", "became",  "got",
    "gets",    "goes",      "went",      "takes",   "took",       "plays",   "played",  "grew",
    "cares",   "cared",     "wishes",    "hopes",   "hoped",      "keeps",   "kept",    "worries",
    "worried", "fears",     "believes",  "thinks",  "studies",    "studied", "teaches", "visits",
    "visited", "buried",    "cannot",    "can't",   "does",       "doesn't", "hasn't",  "isn't",
    "wasn't",  "sleeps",    "slept",     "cries",   "cried",      "writes",  "plans",   "planned",
    "talks",   "walks",     "runs",      "attends", "volunteers", "will",    "would",   "used",
    NULL};

static const char *const adverbs[] = {"recently", "often",     "always",  "never",     "still",
                                      "also",     "sometimes", "usually", "currently", "just",
                                      "really",   "now",       "once",    NULL};

/* Personal nouns a memory may start with ("Mother passed away..."). */
static const char *const personal_nouns[] = {"name",   "birthday", "job",       "work",     "home",
                                             "family", "health",   "favourite", "favorite", NULL};

static const char *const gerund_nouns[] = {
    "morning", "evening", "nothing", "something", "anything", "everything",
    "wedding", "sibling", "darling", "spring",    "building", "ceiling",
    "king",    "thing",   "ring",    "sing",      "string",   NULL};

/* A third-person verb as it goes after "you": has -> have, misses -> miss. */
static const char *
verb_for_you(const char *lo, char *buf, size_t len)
{
    static const struct swap irregular[] = {
        {"has", "have"},      {"is", "are"},         {"was", "were"},     {"does", "do"},
        {"doesn't", "don't"}, {"hasn't", "haven't"}, {"isn't", "aren't"}, {"wasn't", "weren't"},
        {"goes", "go"},       {"she's", "you're"},   {"he's", "you're"},
    };
    size_t n = strlen(lo), k;

    for (k = 0; k < COUNT(irregular); k++)
        if (strcmp(lo, irregular[k].from) == 0)
            return irregular[k].to;
    if (n >= len || n < 4 || lo[n - 1] != 's' || lo[n - 2] == 's' || lo[n - 2] == '\'')
        return lo;
    memcpy(buf, lo, n + 1);
    if (n > 4 && strcmp(lo + n - 3, "ies") == 0)
        memcpy(buf + n - 3, "y", 2);
    else if (n > 4 && (strcmp(lo + n - 4, "sses") == 0 || strcmp(lo + n - 4, "shes") == 0 ||
                       strcmp(lo + n - 4, "ches") == 0 || strcmp(lo + n - 3, "xes") == 0))
        buf[n - 2] = '\0';
    else
        buf[n - 1] = '\0';
    return buf;
}

static int
ends_with_ing(const char *lo)
{
    size_t n = strlen(lo);
    return n >= 5 && strcmp(lo + n - 3, "ing") == 0 && !in_list(gerund_nouns, lo);
}

/* Turn a third-person memory note into a clause Rose can say to the person:
 *   "Her mother passed away last spring" -> "that your mother passed away last spring"
 *   "Experiencing anxiety since her mother's death" -> "you've been experiencing anxiety..."
 *   "Has a dog called Max" -> "you have a dog called Max"
 * Only the first sentence of the note is used. */
static void
memory_clause(char *out, const struct words *ws)
{
    static const char *const subjects[] = {"she", "he", "they", "user", NULL};
    static const char *const possessives[] = {"her", "his", "their", "user's", NULL};
    static const char *const not_nouns[] = {
        "and",   "but",  "so",   "very",    "a",      "the", "every", "to",       "at", "in",
        "on",    "with", "when", "because", "since",  "for", "of",    "from",     "or", "too",
        "again", "a",    "lot",  "dearly",  "deeply", "so",  "much",  "terribly", NULL};
    char vbuf[WORD_BYTES_MAX + 1];
    size_t i, n;
    int subject_next = 0, lower_first = 0;
    const char *first = ws->n ? ws->lo[0] : "";

    out[0] = '\0';
    for (n = 0; n < ws->n && n < 24 && !(n > 0 && (ws->flags[n] & W_STOP)); n++)
        ;
    if (n == 0)
        return;

    i = 0;
    if (in_list(subjects, first) || in_list(possessives, first) ||
        (strcmp(first, "the") == 0 && n > 1 && strncmp(ws->lo[1], "user", 4) == 0)) {
        piece_add(out, "", "that");
    } else if (ends_with_ing(first)) {
        piece_add(out, "", "you've been");
        lower_first = 1;
    } else if (in_list(adverbs, first)) {
        piece_add(out, "", "you");
        piece_add(out, " ", first);
        subject_next = 1;
        i = 1;
    } else if (in_list(memory_verbs, first)) {
        piece_add(out, "", "you");
        piece_add(out, " ", verb_for_you(first, vbuf, sizeof(vbuf)));
        i = 1;
    } else if (in_list(personal_nouns, first) || kin_of(first)) {
        piece_add(out, "", "that your");
        lower_first = 1;
    } else {
        piece_add(out, "", "that");
        lower_first = is_common(first);
    }

    for (; i < n; i++) {
        const char *lo = ws->lo[i], *w = ws->w[i];
        const char *sep = (ws->flags[i] & W_COMMA) ? ", " : " ";

        if (strcmp(lo, "the") == 0 && i + 1 < n && strncmp(ws->lo[i + 1], "user", 4) == 0)
            continue; /* "the user" -> "you" */
        if (in_list(subjects, lo)) {
            w = "you";
            subject_next = 1;
        } else if (in_list(possessives, lo) && (i + 1 < n && !(ws->flags[i + 1] & W_BREAK) &&
                                                !in_list(not_nouns, ws->lo[i + 1]))) {
            w = "your"; /* "her mother"; "misses her" keeps its "her" */
        } else if (strcmp(lo, "herself") == 0 || strcmp(lo, "himself") == 0 ||
                   strcmp(lo, "themselves") == 0 || strcmp(lo, "themself") == 0) {
            w = "yourself";
        } else if (strcmp(lo, "she's") == 0 || strcmp(lo, "he's") == 0) {
            /* "'s" is "has" before "been" or "got", else "is". */
            w = i + 1 < n &&
                        (strcmp(ws->lo[i + 1], "been") == 0 || strcmp(ws->lo[i + 1], "got") == 0)
                    ? "you've"
                    : "you're";
        } else if (strcmp(lo, "they're") == 0) {
            w = "you're";
        } else if (strcmp(lo, "they've") == 0) {
            w = "you've";
        } else if (subject_next) {
            if (in_list(adverbs, lo)) {
                w = lo;
            } else {
                w = verb_for_you(lo, vbuf, sizeof(vbuf));
                subject_next = 0;
            }
        } else if (i == 0 && lower_first) {
            w = lo;
        }
        if (!piece_add(out, sep, w))
            break;
    }
}

/* Content words of ws (not common, at least 4 bytes or 3 with a capital
 * like "Max", plural and possessive endings cut) for matching a memory
 * against the message. */
static size_t
content_words(const struct words *ws, char out[][WORD_BYTES_MAX + 1], size_t max)
{
    size_t i, k, n = 0, len;
    char buf[WORD_BYTES_MAX + 1];

    for (i = 0; i < ws->n && n < max; i++) {
        const char *w = strip_possessive(ws->lo[i], buf, sizeof(buf));
        if (is_common(w) || kin_of(w) || in_list(excluded, w))
            continue;
        len = strlen(w);
        if (len > 4 && w[len - 1] == 's' && w[len - 2] != 's')
            len--;
        if (len < 4 && !(len == 3 && (ws->flags[i] & W_CAP)))
            continue;
        for (k = 0; k < n; k++)
            if (strncmp(out[k], w, len) == 0 && out[k][len] == '\0')
                break;
        if (k < n)
            continue;
        memcpy(out[n], w, len);
        out[n][len] = '\0';
        n++;
    }
    return n;
}

static int
seen_recently(const struct analysis *an, const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < an->nrecent; i++)
        if (memmem(an->recent[i], an->recent_len[i], s, n) != NULL)
            return 1;
    return 0;
}

/* Pick the memory that shares the most with the message (a family word
 * counts most) and write it as a clause into an->memory.  A memory Rose
 * mentioned in her last replies is not brought up again.  Returns the
 * feeling the memory speaks of, or TOPIC_NONE. */
static enum topic
find_memory(struct analysis *an, const struct rose_companion_ctx *ctx)
{
    char msg_words[32][WORD_BYTES_MAX + 1], mem_words[32][WORD_BYTES_MAX + 1];
    unsigned msg_kin = 0, mem_kin;
    size_t nmsg, nmem, i, j, k, count;
    int best, best_score, s, score[TOPIC__MAX];
    unsigned char used[MEMORIES_SCAN] = {0};
    enum topic t;

    an->memory[0] = '\0';
    if (ctx->memories == NULL || ctx->memories_len == 0)
        return TOPIC_NONE;
    count = ctx->memories_len < MEMORIES_SCAN ? ctx->memories_len : MEMORIES_SCAN;
    for (i = 0; i < an->msg.n; i++) {
        const struct kin *kn = kin_of(an->msg.lo[i]);
        if (kn)
            msg_kin |= 1u << kn->family;
    }
    nmsg = content_words(&an->msg, msg_words, 32);

    for (;;) {
        best = -1;
        best_score = 1; /* a memory needs a score of 2: one shared word */
        for (i = 0; i < count; i++) {
            if (used[i] || ctx->memories[i] == NULL)
                continue;
            split_words(&an->tmp, ctx->memories[i], MEMORY_SCAN);
            if (has_excluded(&an->tmp, 0, an->tmp.n))
                continue;
            mem_kin = 0;
            for (j = 0; j < an->tmp.n; j++) {
                const struct kin *kn = kin_of(an->tmp.lo[j]);
                if (kn)
                    mem_kin |= 1u << kn->family;
            }
            s = 0;
            for (k = 1; k <= KIN_PARENTS; k++)
                if ((msg_kin & mem_kin) & (1u << k))
                    s += 3;
            nmem = content_words(&an->tmp, mem_words, 32);
            for (j = 0; j < nmem; j++)
                for (k = 0; k < nmsg; k++)
                    if (strcmp(mem_words[j], msg_words[k]) == 0)
                        s += 2;
            if (s > best_score) {
                best_score = s;
                best = (int)i;
            }
        }
        if (best < 0)
            return TOPIC_NONE;
        used[best] = 1;
        split_words(&an->tmp, ctx->memories[best], MEMORY_SCAN);
        memory_clause(an->memory, &an->tmp);
        /* "that " or "you " alone would say nothing. */
        if (strlen(an->memory) > 12 && !seen_recently(an, an->memory, strlen(an->memory)))
            break;
        an->memory[0] = '\0';
    }
    score_words(&an->tmp, score, NULL);
    t = pick_topic(score, &an->tmp);
    return FEELING(t) ? t : TOPIC_NONE;
}

/* Rose's activity, cleaned to words and commas, first sentence only. */
static void
clean_activity(struct analysis *an, const char *activity)
{
    size_t i;

    an->activity[0] = '\0';
    if (activity == NULL)
        return;
    split_words(&an->tmp, activity, PIECE_MAX);
    for (i = 0; i < an->tmp.n && !(i > 0 && (an->tmp.flags[i] & W_STOP)); i++) {
        const char *w = i == 0 && (an->tmp.flags[0] & W_CAP) && ends_with_ing(an->tmp.lo[0])
                            ? an->tmp.lo[0]
                            : an->tmp.w[i];
        if (!piece_add(an->activity, (an->tmp.flags[i] & W_COMMA) ? ", " : " ", w))
            break;
    }
}

static unsigned long long
fnv1a(const char *s, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Read the message and its context into an. */
static void
analyse(struct analysis *an, const struct rose_companion_ctx *ctx)
{
    int score[TOPIC__MAX];
    size_t i, k, hlen, hfrom;
    enum topic mem_topic, prev_topic;

    hlen = ctx->history ? ctx->history_len : 0;
    hfrom = hlen > HISTORY_SCAN ? hlen - HISTORY_SCAN : 0;
    an->nrecent = 0;
    memset(an->prev_user, 0, sizeof(an->prev_user));
    for (i = hlen, k = 0; i > hfrom; i--) {
        const struct rose_companion_msg *m = &ctx->history[i - 1];
        if (m->role == NULL || m->text == NULL)
            continue;
        if (strcmp(m->role, "assistant") == 0 && an->nrecent < RECENT_MAX) {
            an->recent[an->nrecent] = m->text;
            an->recent_len[an->nrecent] = strnlen(m->text, SCAN_MAX);
            an->nrecent++;
        } else if (strcmp(m->role, "user") == 0 && k < PREV_USER) {
            an->prev_user[k++] = m->text;
        }
    }

    split_words(&an->msg, ctx->message, SCAN_MAX);
    an->hash =
        fnv1a(ctx->message ? ctx->message : "", ctx->message ? strnlen(ctx->message, SCAN_MAX) : 0);
    score_words(&an->msg, score, an->hit);
    an->topic = pick_topic(score, &an->msg);
    an->soft = 0;
    an->intro = 0;
    an->says_name = 0;
    find_name(an, ctx, hlen > NAME_SCAN ? hlen - NAME_SCAN : 0, hlen);
    if (an->intro && an->topic == TOPIC_NONE)
        an->topic = TOPIC_GREETING;
    if (an->topic == TOPIC_CRISIS)
        an->intro = 0; /* nothing may push the safety sentence out */

    find_kin(an->kin, &an->msg);
    clean_activity(an, ctx->activity);
    build_reflection(an);
    /* "Hi, I had a rough day" is about the day, not the greeting. */
    if (an->topic == TOPIC_GREETING && !an->intro && an->refl[0])
        an->topic = TOPIC_NONE;
    mem_topic = find_memory(an, ctx);

    /* A message with no feeling of its own ("I keep thinking about mom",
     * "yes") takes its feeling from a memory it touches or from what the
     * person said just before, and a feeling continues the one before. */
    if (an->topic == TOPIC_NONE && mem_topic != TOPIC_NONE) {
        an->topic = mem_topic;
        an->soft = 1;
    }
    for (i = 0; i < PREV_USER && an->prev_user[i]; i++) {
        split_words(&an->tmp, an->prev_user[i], SCAN_MAX);
        score_words(&an->tmp, score, NULL);
        prev_topic = pick_topic(score, &an->tmp);
        if (!FEELING(prev_topic))
            continue;
        if (an->topic == TOPIC_NONE && an->msg.n <= 16) {
            an->topic = prev_topic;
            an->soft = 1;
        }
        /* Sadness or loneliness after a death is grief. */
        if ((an->topic == TOPIC_SAD || an->topic == TOPIC_LONELY) && prev_topic == TOPIC_GRIEF)
            an->topic = TOPIC_GRIEF;
        /* "I miss her so much" speaks of the mother named just before. */
        if (an->kin[0] == '\0' && FEELING(an->topic))
            find_kin(an->kin, &an->tmp);
    }
    if (an->topic == TOPIC_NONE && an->refl[0] == '\0' && an->memory[0] == '\0')
        build_fragment(an);
    else
        an->frag[0] = '\0';
}

/* ---- composing -------------------------------------------------------- */

static unsigned long long
mix(unsigned long long x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* The literal text a phrase is recognised by in Rose's earlier replies: its
 * first run of at least 12 bytes without a placeholder. */
static void
phrase_key(const char *tpl, const char **key, size_t *len)
{
    const char *p = tpl, *run = tpl;

    *key = NULL;
    *len = 0;
    for (;; p++) {
        if (*p == '{' || *p == '\0') {
            if (p - run >= 12) {
                *key = run;
                *len = (size_t)(p - run) < 40 ? (size_t)(p - run) : 40;
                return;
            }
            if (*p == '\0')
                return;
            p = strchr(p, '}');
            if (p == NULL)
                return;
            run = p + 1;
        }
    }
}

/* A phrase from pool: chosen by the message hash, the seed, the slot (so
 * the opening and the question vary independently) and the attempt, and
 * not one Rose used in her last replies if another is left. */
static const char *
pick(const struct analysis *an, const struct pool *pool, unsigned slot, unsigned long seed,
     unsigned attempt)
{
    size_t base, k, len;
    const char *key;

    if (pool->n == 0)
        return NULL;
    base = (size_t)((mix(an->hash ^ mix((unsigned long long)seed + 0x9e3779b97f4a7c15ULL * slot)) +
                     attempt) %
                    pool->n);
    for (k = 0; k < pool->n; k++) {
        const char *tpl = pool->s[(base + k) % pool->n];
        phrase_key(tpl, &key, &len);
        if (key == NULL || !seen_recently(an, key, len))
            return tpl;
    }
    return pool->s[base];
}

/* Expand one phrase into b.  with_name: this is the sentence that carries
 * the name. */
static enum rose_err
expand(struct rose_buf *b, const struct analysis *an, const char *tpl, int with_name)
{
    size_t start = b->len;
    const char *p, *val;
    enum rose_err err = ROSE_OK;

    for (p = tpl; *p && err == ROSE_OK; p++) {
        if (p[0] != '{' || p[1] == '\0' || p[2] != '}') {
            err = rose_buf_append(b, p, 1);
            continue;
        }
        val = "";
        switch (p[1]) {
        case 'n':
            if (with_name && an->name[0])
                err = rose_buf_printf(b, ", %s", an->name);
            break;
        case 'N':
            if (with_name && an->name[0])
                err = rose_buf_printf(b, "%s, ", an->name);
            break;
        case 'r':
            val = an->refl;
            break;
        case 'm':
            val = an->memory;
            break;
        case 'k':
            val = an->kin[0] ? an->kin : "them";
            break;
        case 'a':
            val = an->activity;
            break;
        case 'q':
            val = an->frag;
            break;
        default:
            break;
        }
        if (err == ROSE_OK)
            err = rose_buf_puts(b, val);
        p += 2;
    }
    /* A sentence starts with a capital, whatever was put in front. */
    if (err == ROSE_OK && b->len > start && b->data[start] >= 'a' && b->data[start] <= 'z')
        b->data[start] = (char)(b->data[start] - 'a' + 'A');
    return err;
}

static int
has_name_slot(const char *tpl)
{
    return strstr(tpl, "{n}") != NULL || strstr(tpl, "{N}") != NULL;
}

/* Compose one reply into b (empty on entry). */
static enum rose_err
compose(struct rose_buf *b, const struct analysis *an, unsigned long seed, unsigned attempt)
{
    const struct voice *v = &voices[an->topic];
    const char *s[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0, i, slots = 0, name_at;
    int middle = -1;
    enum rose_err err;
    struct pool open = v->open, ask = v->ask;

    if (an->soft)
        open = voices[TOPIC_NONE].open;
    if (an->topic == TOPIC_DOING && an->activity[0] == '\0')
        open = (struct pool)POOL(doing_open_quiet);
    if (an->topic == TOPIC_NONE && an->frag[0])
        ask = (struct pool)POOL(frag_ask);

    if (an->intro)
        s[n++] = pick(an, &(struct pool)POOL(intro_open), 1, seed, attempt);
    if (!(an->intro && an->topic == TOPIC_GREETING))
        s[n++] = pick(an, &open, 2, seed, attempt);

    middle = (int)n;
    if (an->topic == TOPIC_CRISIS) {
        s[n++] = pick(an, &v->middle, 3, seed, attempt);
    } else if (an->memory[0] && an->refl[0] && FEELING(an->topic)) {
        s[n++] = pick(an, &(struct pool)POOL(reflect_memory_middle), 3, seed, attempt);
    } else if (an->memory[0]) {
        s[n++] = pick(an, &(struct pool)POOL(memory_middle), 3, seed, attempt);
    } else if (an->refl[0] &&
               (FEELING(an->topic) || an->topic == TOPIC_NONE || an->topic == TOPIC_ADVICE)) {
        s[n++] = pick(an, &(struct pool)POOL(reflect_middle), 3, seed, attempt);
    } else if (an->topic == TOPIC_HOW && an->activity[0] == '\0') {
        middle = -1; /* "I've been {a}" needs an activity */
    } else if (v->middle.n > 0) {
        s[n++] = pick(an, &v->middle, 3, seed, attempt);
    } else {
        middle = -1;
    }
    if (ask.n > 0)
        s[n++] = pick(an, &ask, 4, seed, attempt);

    /* One to three sentences: an introduction pushes out the middle. */
    if (n > 3 && middle >= 0) {
        for (i = (size_t)middle; i + 1 < n; i++)
            s[i] = s[i + 1];
        n--;
    }

    /* The name goes in one sentence: the introduction if there is one,
     * else one chosen by the hash. */
    for (i = 0; i < n; i++) {
        if (s[i] == NULL)
            return ROSE_ERR_INTERNAL; /* an empty pool: a bug in the tables */
        slots += has_name_slot(s[i]);
    }
    name_at = an->intro ? 0 : (slots ? (size_t)(mix(an->hash ^ seed ^ 0x5a5a) % slots) : 0);
    for (i = 0; i < n; i++) {
        int with = 0;
        if (has_name_slot(s[i]))
            with = name_at-- == 0;
        if (i > 0 && (err = rose_buf_puts(b, " ")) != ROSE_OK)
            return err;
        if ((err = expand(b, an, s[i], with)) != ROSE_OK)
            return err;
    }
    return ROSE_OK;
}

static int
same_as_last(const struct analysis *an, const struct rose_buf *b)
{
    return an->nrecent > 0 && an->recent_len[0] == b->len &&
           memcmp(an->recent[0], b->data, b->len) == 0;
}

enum rose_err
rose_companion_reply(const struct rose_companion_ctx *ctx, char **out)
{
    struct analysis *an;
    struct rose_buf b;
    unsigned attempt;
    size_t i;
    enum rose_err err = ROSE_OK;

    if (ctx == NULL || out == NULL)
        return ROSE_ERR_INTERNAL;
    if ((an = calloc(1, sizeof(*an))) == NULL)
        return ROSE_ERR_NOMEM;
    rose_buf_init(&b, REPLY_MAX);
    analyse(an, ctx);

    for (attempt = 0; attempt < 4; attempt++) {
        rose_buf_reset(&b);
        if ((err = compose(&b, an, ctx->seed, attempt)) != ROSE_OK)
            goto out;
        if (b.len > 0 && !same_as_last(an, &b))
            break;
    }
    if (attempt == 4) {
        for (i = 0; i < COUNT(fallback); i++) {
            rose_buf_reset(&b);
            if ((err = expand(&b, an, fallback[i], 1)) != ROSE_OK)
                goto out;
            if (!same_as_last(an, &b))
                break;
        }
    }
    if ((*out = rose_buf_steal(&b)) == NULL)
        err = ROSE_ERR_NOMEM;
out:
    rose_buf_free(&b);
    free(an);
    return err;
}
