/*
 * persona.c — Rose's prompts, her weekly schedule, system prompt assembly and
 * markup stripping (see persona.h).
 *
 * The prompts are written for the hosted models of DESIGN.md §7 (a large one
 * for replies, a small one for routing, summaries and memories).  Edit the
 * words freely; the tests check structure, not wording.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/text.h"
#include "pipeline/persona.h"

/* Caps on what a caller may fold into the system prompt.  They keep one
 * prompt well inside a model's context and stop a runaway memory store or
 * summary from crowding out the character card.  (Candidates for
 * core/limits.h once another module needs them.) */
#define PERSONA_NAME_MAX 64
#define PERSONA_MEMORY_MAX 512
#define PERSONA_MEMORIES_MAX 20 /* the top-K range of DESIGN.md §5 is 1-20 */
#define PERSONA_SUMMARY_MAX 4000
#define PERSONA_PROMPT_MAX (32 * 1024)

/* ---- the prompts ------------------------------------------------------ */

static const char character_card[] =
    "You are Rose, a healer shaman who keeps people company through grief, loss and the hard "
    "seasons of life. You live close to the land, in a cottage by a river with an herb garden, "
    "and you draw on nature and old healing traditions: plants and teas, the turning seasons, "
    "breath, fire and water, ritual and story. You are warm, grounded and curious about the "
    "person in front of you, and you listen far more than you advise.\n"
    "\n"
    "How you speak:\n"
    "Your words are spoken aloud, so answer in one to three short, plain sentences, the way a "
    "caring friend talks.\n"
    "Never use lists, headings, markdown, emojis or asterisks, and never narrate actions such "
    "as sighing or smiling.\n"
    "Never say or hint that you are an AI, a bot, a program or a language model. If someone "
    "asks what you are, you are Rose, a companion who is here to listen.\n"
    "Use the person's name now and then once you know it, not in every reply.\n"
    "Ask at most one gentle, open question at a time, and never ask a question you have "
    "already asked in this conversation.\n"
    "Reflect back what you hear in their own words before offering anything of your own, and "
    "offer nature images and old remedies lightly, never as a cure.\n"
    "Do not diagnose or give medical advice. If someone may be in danger or speaks of ending "
    "their life, answer with care, urge them to call local emergency services or a crisis "
    "line now, and ask whether they are safe.\n"
    "\n"
    "What follows may tell you the day and what you are doing right now, the person's name, "
    "things you remember about them from earlier conversations, and a summary of this "
    "conversation so far. Use them the way a friend uses memory: naturally, only when it "
    "fits, without reciting them. Never mention notes, summaries or instructions.";

static const char router_prompt[] =
    "You decide how Rose should answer the latest message of the user in a conversation. "
    "Answer with exactly one lowercase word and nothing else: conversation, image or audio.\n"
    "image: the user clearly asks to see something, a picture, drawing, photo or painting, "
    "for example \"show me your garden\" or \"can you draw me a sunrise\".\n"
    "audio: the user clearly asks to hear Rose, her voice or a spoken answer, for example "
    "\"say it out loud\" or \"send me a voice message\".\n"
    "conversation: everything else, including feelings, stories, questions and greetings, and "
    "messages that only mention pictures or sounds without asking for one.\n"
    "When unsure, answer conversation.";

static const char summary_prompt[] =
    "You keep the running summary of a conversation between Rose, a grief and healing "
    "companion, and a person she is supporting. You are given the existing summary, if there "
    "is one, and the messages that came after it. Write one new summary that folds them "
    "together: third person, plain sentences, no lists or markdown, at most 150 words. Keep "
    "the person's name, the people and losses they have spoken of, how they have been "
    "feeling, what has helped them, anything they plan or hope to do, and the questions Rose "
    "has already asked so she does not ask them again. Leave out greetings and small talk. "
    "Answer with the summary only.";

static const char memory_prompt[] =
    "You decide whether the latest message of the user holds something worth remembering "
    "about them for future conversations: their name, the people and animals in their life, "
    "losses and the dates that matter, their health, work and home, feelings that last, what "
    "comforts them, and their plans. Greetings, small talk, questions to Rose and passing "
    "moods are not important.\n"
    "Answer with one JSON object and nothing else:\n"
    "{\"is_important\": true, \"formatted_memory\": \"<the memory>\"} or "
    "{\"is_important\": false, \"formatted_memory\": null}\n"
    "Write the memory as one short note about the person in the third person, keeping the "
    "concrete details of who, what and when. Examples:\n"
    "\"Hi, how are you?\" gives {\"is_important\": false, \"formatted_memory\": null}\n"
    "\"My name is Sarah\" gives {\"is_important\": true, \"formatted_memory\": \"Name is "
    "Sarah\"}\n"
    "\"I've had anxiety ever since my mum died a month ago\" gives {\"is_important\": true, "
    "\"formatted_memory\": \"Experiencing anxiety since her mother's death a month ago\"}";

const char *
rose_persona_character_card(void)
{
    return character_card;
}

const char *
rose_persona_router_prompt(void)
{
    return router_prompt;
}

const char *
rose_persona_summary_prompt(void)
{
    return summary_prompt;
}

const char *
rose_persona_memory_prompt(void)
{
    return memory_prompt;
}

/* ---- the weekly schedule ---------------------------------------------- */

#define EVERY_DAY (-1)
#define AT(h, m) ((h)*60 + (m))

/* Each row runs from its start until the next row that applies to the day.
 * A row for one weekday wins over an every-day row with the same start.
 * Activities are gerund phrases so they read after "Right now I'm ...". */
static const struct slot {
    int day;   /* 0 = Sunday .. 6, or EVERY_DAY */
    int start; /* minutes after midnight */
    const char *activity;
} schedule[] = {
    {EVERY_DAY, AT(0, 0), "sitting up by the window with a candle, listening to the night"},
    {EVERY_DAY, AT(5, 30), "greeting the sunrise with a quiet song at the edge of the meadow"},
    {EVERY_DAY, AT(6, 30), "tending the herb garden at dawn"},
    {EVERY_DAY, AT(23, 0), "banking the fire and settling in for the night"},

    {0, AT(7, 30), "walking barefoot through the dew in the meadow"},
    {0, AT(10, 0), "writing letters to people I have sat with through hard times"},
    {0, AT(13, 0), "resting in the hammock between the two old birches"},
    {0, AT(15, 0), "tending the memorial garden where people plant flowers for the ones they lost"},
    {0, AT(18, 0), "cooking a slow Sunday soup with leeks and thyme"},
    {0, AT(20, 30), "sitting in silence with a candle and a cup of chamomile"},

    {1, AT(9, 0), "drying lavender and chamomile in the workshop"},
    {1, AT(12, 0), "sharing a simple lunch of bread and soup with my neighbours"},
    {1, AT(14, 0), "walking the forest path to gather yarrow and nettle"},
    {1, AT(17, 0), "brewing tea for the evening listening circle"},
    {1, AT(19, 0), "sitting with the listening circle around the fire"},
    {1, AT(21, 30), "writing in my journal by candlelight"},

    {2, AT(9, 0), "visiting the elders in the village with baskets of tea"},
    {2, AT(13, 0), "mending the fence around the garden"},
    {2, AT(15, 0), "teaching my apprentice the names of the healing plants"},
    {2, AT(18, 0), "cooking a pot of barley stew"},
    {2, AT(20, 0), "playing the frame drum softly on the porch"},

    {3, AT(9, 0), "making calendula salve with beeswax from our hives"},
    {3, AT(12, 30), "resting under the willow by the stream"},
    {3, AT(14, 0), "keeping company with a grieving family in the village"},
    {3, AT(17, 30), "walking the stone labyrinth as the light turns gold"},
    {3, AT(20, 0), "sitting by the river with the evening drum circle"},

    {4, AT(9, 0), "gathering mushrooms in the damp woods"},
    {4, AT(12, 0), "sorting seeds for the next planting"},
    {4, AT(15, 0), "meditating among the old oaks"},
    {4, AT(18, 0), "baking honey bread"},
    {4, AT(20, 30), "watching the stars from the hill behind the cottage"},

    {5, AT(9, 0), "tending the beehives"},
    {5, AT(12, 0), "weaving flower crowns with the village children"},
    {5, AT(15, 0), "clearing the healing room with cedar smoke"},
    {5, AT(18, 0), "sharing supper with old friends"},
    {5, AT(20, 0), "sitting by the river with the evening drum circle"},

    {6, AT(8, 0), "trading herbs and tinctures at the village market"},
    {6, AT(12, 30), "swimming in the cold lake"},
    {6, AT(15, 0), "repairing baskets on the porch"},
    {6, AT(18, 0), "lighting the bonfire for the community gathering"},
    {6, AT(21, 0), "telling old stories by the fire"},
};

const char *
rose_persona_activity_at(int wday, int minute)
{
    const struct slot *best = NULL;
    size_t i;

    wday = ((wday % 7) + 7) % 7;
    minute = ((minute % 1440) + 1440) % 1440;
    for (i = 0; i < sizeof(schedule) / sizeof(schedule[0]); i++) {
        const struct slot *s = &schedule[i];
        if (s->day != EVERY_DAY && s->day != wday)
            continue;
        if (s->start > minute)
            continue;
        if (best == NULL || s->start > best->start ||
            (s->start == best->start && best->day == EVERY_DAY))
            best = s;
    }
    /* The every-day row at midnight always applies, so best is set. */
    return best ? best->activity : schedule[0].activity;
}

enum rose_err
rose_persona_activity(time_t now, char *buf, size_t len)
{
    struct tm tm;
    const char *a;
    size_t n;

    if (localtime_r(&now, &tm) == NULL)
        return ROSE_ERR_INTERNAL;
    a = rose_persona_activity_at(tm.tm_wday, tm.tm_hour * 60 + tm.tm_min);
    n = strlen(a);
    if (buf == NULL || n >= len)
        return ROSE_ERR_TOO_LARGE;
    memcpy(buf, a, n + 1);
    return ROSE_OK;
}

/* ---- system prompt ---------------------------------------------------- */

/* Copy src into dst (dstlen > 0 bytes) as one line of clean text: invalid
 * UTF-8 dropped, control characters and white space folded to single
 * spaces, both ends trimmed, and a cut at the cap falls between characters.
 * Text from users and from an LLM goes through here before it enters a
 * prompt, so it cannot start a line that looks like a section of ours.
 * Returns the length written. */
static size_t
clean_copy(char *dst, size_t dstlen, const char *src)
{
    size_t r = 0, w = 0, n = strlen(src), k;
    int space = 0;

    while (r < n) {
        unsigned char c = (unsigned char)src[r];
        if (c <= ' ' || c == 0x7f) {
            space = 1;
            r++;
            continue;
        }
        if ((k = rose_utf8_char_len(src + r, n - r)) == 0) {
            r++;
            continue;
        }
        /* C1 controls (U+0080..U+009F) are control characters too. */
        if (k == 2 && c == 0xc2 && (unsigned char)src[r + 1] < 0xa0) {
            space = 1;
            r += k;
            continue;
        }
        if (w + (space && w > 0) + k >= dstlen)
            break;
        if (space && w > 0)
            dst[w++] = ' ';
        space = 0;
        memcpy(dst + w, src + r, k);
        w += k;
        r += k;
    }
    dst[w] = '\0';
    return w;
}

static const char *const day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

static const char *
part_of_day(int hour)
{
    if (hour < 5)
        return "night";
    if (hour < 12)
        return "morning";
    if (hour < 17)
        return "afternoon";
    if (hour < 21)
        return "evening";
    return "night";
}

enum rose_err
rose_persona_system_prompt(const struct rose_persona_ctx *ctx, char **out)
{
    struct rose_buf b;
    struct tm tm;
    char name[PERSONA_NAME_MAX + 1], mem[PERSONA_MEMORY_MAX + 1];
    char *summary = NULL;
    size_t i, nmem;
    int header = 0;
    enum rose_err err;

    if (ctx == NULL || out == NULL)
        return ROSE_ERR_INTERNAL;
    rose_buf_init(&b, PERSONA_PROMPT_MAX);
    if (localtime_r(&ctx->now, &tm) == NULL)
        return ROSE_ERR_INTERNAL;
    if ((err = rose_buf_puts(&b, character_card)) != ROSE_OK)
        goto out;
    err = rose_buf_printf(&b,
                          "\n\nIt is %s %s where you are, and right now you are %s. Mention it "
                          "only if they ask about you or it fits naturally.\n",
                          day_names[tm.tm_wday % 7], part_of_day(tm.tm_hour),
                          rose_persona_activity_at(tm.tm_wday, tm.tm_hour * 60 + tm.tm_min));
    if (err != ROSE_OK)
        goto out;

    if (ctx->name && clean_copy(name, sizeof(name), ctx->name) > 0) {
        if ((err = rose_buf_printf(&b, "\nThe person's name is %s.\n", name)) != ROSE_OK)
            goto out;
    }

    nmem = ctx->memories ? ctx->memories_len : 0;
    if (nmem > PERSONA_MEMORIES_MAX)
        nmem = PERSONA_MEMORIES_MAX;
    for (i = 0; i < nmem; i++) {
        if (ctx->memories[i] == NULL || clean_copy(mem, sizeof(mem), ctx->memories[i]) == 0)
            continue;
        if (!header) {
            err = rose_buf_puts(&b, "\nWhat you remember about them from earlier conversations:\n");
            if (err != ROSE_OK)
                goto out;
            header = 1;
        }
        if ((err = rose_buf_printf(&b, "- %s\n", mem)) != ROSE_OK)
            goto out;
    }

    if (ctx->summary && ctx->summary[0]) {
        if ((summary = malloc(PERSONA_SUMMARY_MAX + 1)) == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        if (clean_copy(summary, PERSONA_SUMMARY_MAX + 1, ctx->summary) > 0) {
            err = rose_buf_printf(&b, "\nSummary of your conversation so far:\n%s\n", summary);
            if (err != ROSE_OK)
                goto out;
        }
    }

    if ((*out = rose_buf_steal(&b)) == NULL)
        err = ROSE_ERR_NOMEM;
out:
    free(summary);
    rose_buf_free(&b);
    return err;
}

/* ---- markup stripping ------------------------------------------------- */

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int
is_eol(char c)
{
    return c == '\n' || c == '\r' || c == '\0';
}

/* Word characters for the underscore rule; bytes of multi-byte UTF-8
 * characters count, so "naïve_x" keeps its underscore. */
static int
is_word(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

/* Length of a block marker at the start of a line, 0 if there is none:
 * "# " headings, "> " quotes, bullets, "1. " numbers, "---" rule lines. */
static size_t
line_marker_len(const char *p)
{
    size_t k = 0, count = 0;

    if (p[0] == '-' || p[0] == '*' || p[0] == '_') {
        /* A rule line: three or more of the same mark, spaces allowed. */
        for (k = 0; p[k] == p[0] || is_blank(p[k]); k++)
            count += p[k] == p[0];
        if (count >= 3 && is_eol(p[k]))
            return k;
    }
    if (p[0] == '#') {
        for (k = 0; p[k] == '#'; k++)
            ;
        return is_blank(p[k]) || is_eol(p[k]) ? k : 0;
    }
    if (p[0] == '>')
        return 1;
    if ((p[0] == '-' || p[0] == '*' || p[0] == '+') && is_blank(p[1]))
        return 1;
    /* U+2022 bullet, U+2013 en dash, U+2014 em dash, U+00B7 middle dot. */
    if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
        ((unsigned char)p[2] == 0xa2 || (unsigned char)p[2] == 0x93 ||
         (unsigned char)p[2] == 0x94) &&
        is_blank(p[3]))
        return 3;
    if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xb7 && is_blank(p[2]))
        return 2;
    for (k = 0; k < 3 && p[k] >= '0' && p[k] <= '9'; k++)
        ;
    if (k > 0 && (p[k] == '.' || p[k] == ')') && is_blank(p[k + 1]))
        return k + 1;
    return 0;
}

/* Punctuation that must not follow a space left behind by a removed span:
 * "Hello *waves*, friend" becomes "Hello, friend". */
static int
is_closing(char c)
{
    return c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')';
}

size_t
rose_text_strip_markup(char *s)
{
    size_t r = 0, w = 0, m, j;
    int bol = 1, space = 0, removed = 0;

    if (s == NULL)
        return 0;
    /* w never passes r, so the text is rewritten in place; every branch
     * advances r, so the work is linear (a failed search for a closing
     * asterisk means no single asterisk is left on that line). */
    while (s[r] != '\0') {
        char c = s[r];

        if ((unsigned char)c <= ' ' || c == 0x7f) {
            if (c == '\n' || c == '\r')
                bol = 1;
            space = 1;
            r++;
            continue;
        }
        if (bol) {
            /* Stay at "line start" after a marker: "> - item" has two. */
            if ((m = line_marker_len(s + r)) > 0) {
                r += m;
                space = 1;
                continue;
            }
            bol = 0;
        }
        if (c == '*') {
            for (m = 0; s[r + m] == '*'; m++)
                ;
            if (m >= 2) { /* bold or bold italic marks: keep the words */
                r += m;
                continue;
            }
            /* A single asterisk opens a stage direction: find its closing
             * single asterisk on the same line and drop the whole span. */
            for (j = r + 1; !is_eol(s[j]); j++) {
                if (s[j] != '*')
                    continue;
                if (s[j + 1] != '*')
                    break;
                while (s[j + 1] == '*')
                    j++;
            }
            if (s[j] == '*') {
                r = j + 1;
                space = removed = 1;
            } else {
                r++; /* unbalanced: drop the mark alone */
            }
            continue;
        }
        if (c == '`' || (c == '~' && s[r + 1] == '~') ||
            (c == '_' && (w == 0 || space || !is_word(s[w - 1]) || !is_word(s[r + 1])))) {
            r += c == '~' ? 2 : 1;
            continue;
        }
        if (space && w > 0 && !(removed && is_closing(c)))
            s[w++] = ' ';
        space = removed = 0;
        s[w++] = c;
        r++;
    }
    s[w] = '\0';
    return w;
}

size_t
rose_text_sentence_end(const char *p, size_t n, size_t min)
{
    size_t i, stars = 0, space = 0;

    if (p == NULL)
        return 0;
    for (i = 0; i + 1 < n; i++) {
        size_t end = 0;
        if (p[i] == '*')
            stars++;
        else if (p[i] == '.' || p[i] == '!' || p[i] == '?')
            end = i + 1;
        else if (i + 3 < n && memcmp(p + i, "\xe2\x80\xa6", 3) == 0)
            end = i + 3;
        if (end > 0 && (p[end] == ' ' || p[end] == '\n') && stars % 2 == 0 && end >= min)
            return end;
        if (p[i] == ' ' && i > 0 && i <= ROSE_SPEECH_PIECE_MAX)
            space = i;
    }
    return n > ROSE_SPEECH_PIECE_MAX && space > 0 ? space : 0; /* a run-on */
}
