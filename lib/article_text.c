/*
 * article_text.c -- plain text (.txt) and Markdown (.md, .markdown) files, and how a
 * text's title is picked (article_parse_text, see article.h).
 *
 * Titles of plain-text files are the hard part: the corpus is scraped web pages, whose
 * first lines are often navigation ("Back to Live Signals", "Pull to refresh", "Logo"),
 * dates and all-caps labels. article_pick_title() passes over such lines and takes the
 * first line that reads like a headline; when the text opens straight into prose it falls
 * back to the first sentence (see title_fallback for why). JSON records without a title
 * are titled the same way (article_json.c).
 *
 * Markdown is turned into text (md_to_text) before the headline scan and indexing:
 * emphasis, code ticks and link targets go, link and image text stays.
 */
#include "article_int.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Title heuristics for plain text: only the top of a file is considered. */
#define TITLE_WINDOW_LINES 40     /* non-empty lines searched for a title */
#define HEADLINE_MIN_WORDS 3      /* "Logo", "Meta", "Daily Brief" are too short */
#define HEADLINE_MAX_WORDS 25     /* longer lines are prose */
#define HEADLINE_MAX_BYTES 400    /* ...and so are longer lines, whatever their words */
#define TITLE_SOFT_BYTES 120      /* a prose fallback title is cut near this length */
#define TITLE_SENTENCE_MAX 200    /* ...or at the end of its first sentence, if before */

/* Steps through the lines of [buf, buf+len): the next line (without '\n') in *s, *n.
 * Returns 0 at the end. */
static int next_line(const char *buf, size_t len, size_t *pos, const char **s, size_t *n)
{
    const char *nl;

    if (*pos >= len)
        return 0;
    *s = buf + *pos;
    nl = memchr(*s, '\n', len - *pos);
    *n = nl ? (size_t)(nl - *s) : len - *pos;
    *pos += *n + (nl != NULL);
    return 1;
}

/* Inline Markdown to text: emphasis markers, code ticks, "~~" and escapes go; links and
 * images keep their text. The link scan only ever moves forward (see the two caches), so
 * a line full of unmatched '[' or '](' stays linear. */
static void md_inline(const char *s, size_t n, struct strbuf *o)
{
    size_t skip_from = SIZE_MAX, skip_to = 0;
    size_t rp = 0, rp_from = 0; /* no ')' in [rp_from, rp); s[rp] is ')' or rp == n */
    size_t bang_at = SIZE_MAX;  /* output offset of a '!' written just before a '[' */

    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
        unsigned char next = i + 1 < n ? (unsigned char)s[i + 1] : ' ';

        if (skip_from != SIZE_MAX && i >= skip_from) {
            /* the "](url)" of a link whose text we just wrote */
            if (i < skip_to)
                i = skip_to;
            skip_from = SIZE_MAX;
            continue;
        }
        if (c == '\\' && i + 1 < n && next < 0x80 && !is_alnum(next) && !is_space(next)) {
            sb_putc(o, (char)next);
            i += 2;
            continue;
        }
        if (c == '`' || (c == '~' && next == '~')) {
            i += c == '~' ? 2 : 1;
            continue;
        }
        if (c == '[' && skip_from == SIZE_MAX) {
            size_t j = i + 1;
            while (j < n && s[j] != '[' && s[j] != ']')
                j++;
            if (j + 1 < n && s[j] == ']' && s[j + 1] == '(') {
                size_t q = j + 2;
                if (!(rp_from <= q && q <= rp)) {
                    rp_from = q > rp ? q : rp;
                    rp = rp_from;
                    while (rp < n && s[rp] != ')')
                        rp++;
                    rp_from = q;
                }
                if (rp < n) {
                    if (bang_at != SIZE_MAX && bang_at + 1 == o->len && prev == '!')
                        o->len--; /* an image: keep its alt text only */
                    skip_from = j;
                    skip_to = rp + 1;
                    i++;
                    continue;
                }
            }
            sb_putc(o, '[');
            i++;
            continue;
        }
        if (c == '*' || c == '_') {
            /* Drop emphasis markers, keep a lone "*" between spaces ("2 * 3") and
             * intra-word ones ("snake_case", "5*3"). */
            int lone = is_space(prev) && is_space(next);
            int inword = (is_alnum(prev) || prev >= 0x80) && (is_alnum(next) || next >= 0x80);
            if (lone || inword)
                sb_putc(o, (char)c);
            i++;
            continue;
        }
        if (c == '!' && next == '[')
            bang_at = o->len;
        sb_putc(o, (char)c);
        i++;
    }
}

/* True for a thematic break or setext underline: three or more of one of "-*_=" and
 * nothing else but spaces. */
static int md_is_rule(const char *s, size_t n)
{
    size_t count = 0;
    char mark = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\t')
            continue;
        if (mark == 0 && strchr("-*_=", s[i]) != NULL)
            mark = s[i];
        if (s[i] != mark)
            return 0;
        count++;
    }
    return count >= 3;
}

/* True for a code fence line ("```", "~~~"). */
static int md_is_fence(const char *s, size_t n)
{
    return n >= 3 && (memcmp(s, "```", 3) == 0 || memcmp(s, "~~~", 3) == 0);
}

/* For a "# heading" line (1-6 '#' then a space or nothing), the heading text without the
 * markers; NULL when the line is not a heading. level receives the number of '#'. */
static const char *md_heading(const char *s, size_t n, size_t *outn, int *level)
{
    size_t h = 0;

    while (h < n && h < 7 && s[h] == '#')
        h++;
    if (h == 0 || h > 6 || (h < n && s[h] != ' ' && s[h] != '\t'))
        return NULL;
    s += h, n -= h;
    article_trim(&s, &n);
    /* An optional closing sequence: "## Title ##". */
    {
        size_t e = n;
        while (e > 0 && s[e - 1] == '#')
            e--;
        if (e == 0 || s[e - 1] == ' ' || s[e - 1] == '\t')
            n = e;
    }
    article_trim(&s, &n);
    *outn = n;
    *level = (int)h;
    return s;
}

/* Markdown to plain text, line by line: block markers (headings, quotes, rules, fences)
 * are dropped, bullets become "- ", inline markup goes through md_inline. */
static void md_to_text(const char *buf, size_t len, struct strbuf *o)
{
    size_t pos = 0, n;
    const char *s;
    int in_fence = 0;

    while (next_line(buf, len, &pos, &s, &n)) {
        const char *t = s, *h;
        size_t tn = n, hn;
        int level;

        article_trim(&t, &tn);
        if (md_is_fence(t, tn)) {
            in_fence = !in_fence;
            continue;
        }
        if (in_fence) {
            if (n > 0 && s[n - 1] == '\r')
                n--;
            sb_append(o, s, n);
            sb_putc(o, '\n');
            continue;
        }
        if (md_is_rule(t, tn)) {
            sb_putc(o, '\n');
            continue;
        }
        while (tn > 0 && t[0] == '>') {
            t++, tn--;
            article_trim(&t, &tn);
        }
        if ((h = md_heading(t, tn, &hn, &level)) != NULL) {
            t = h, tn = hn;
        } else if (tn >= 2 && (t[0] == '*' || t[0] == '+' || t[0] == '-') && t[1] == ' ') {
            sb_append(o, "- ", 2);
            t += 2, tn -= 2;
        }
        md_inline(t, tn, o);
        sb_putc(o, '\n');
    }
}

/* Navigation and boilerplate lines of scraped pages, matched against a whole line... */
static const char *const ui_exact[] = {
    "menu", "share", "home", "search", "logo", "follow", "following", "subscribe", "login",
    "log in", "sign in", "sign up", "register", "advertisement", "close", "more",
    "related", "trending", "newsletter", "print", "comments", "share this article",
    "share this story", "skip to content", "skip to main content", "pull to refresh",
    "daily brief", "why sign up", "open menu", "main menu", "toggle navigation",
};

/* ...or against its first words. */
static const char *const ui_prefix[] = {
    "back to ", "skip to ", "pull to refresh", "sign in", "sign up", "log in", "subscribe",
    "share this", "share on ", "follow us", "read more", "read next", "continue reading",
    "listen to this", "accept all", "accept cookies", "we use cookies",
    "this website uses cookies", "advertisement", "why sign up", "daily brief",
    "click here", "download the app", "open in app", "jump to ", "go to ", "return to ",
    "you are here", "all rights reserved", "copyright ", "\xC2\xA9",
};

/* True when a (trimmed) line is a navigation or UI phrase. */
static int is_ui_phrase(const char *s, size_t n)
{
    /* Ignore trailing decoration: "Menu >", "Share:". */
    while (n > 0 && (unsigned char)s[n - 1] < 0x80 && !is_alnum((unsigned char)s[n - 1]))
        n--;
    for (size_t i = 0; i < sizeof ui_exact / sizeof ui_exact[0]; i++)
        if (strlen(ui_exact[i]) == n && lower_eq(s, ui_exact[i], n))
            return 1;
    for (size_t i = 0; i < sizeof ui_prefix / sizeof ui_prefix[0]; i++) {
        size_t pl = strlen(ui_prefix[i]);
        /* A whole-word prefix: "Subscribe now", not "Subscribers flee". */
        if (starts_with_ci(s, n, ui_prefix[i]) &&
            (pl == n || ui_prefix[i][pl - 1] == ' ' || !is_alpha((unsigned char)s[pl])))
            return 1;
    }
    return 0;
}

/* Word statistics of a line, for the headline test. */
struct line_stats {
    size_t tokens;       /* whitespace-separated tokens */
    size_t letter_words; /* tokens with a letter in them ("2026" and "|" are not words) */
    size_t cjk;          /* CJK/Hangul characters, which are not separated by spaces */
    int has_lower, has_upper, has_nonascii;
};

static void line_stats(const char *s, size_t n, struct line_stats *st)
{
    int in_tok = 0, tok_letter = 0;

    memset(st, 0, sizeof *st);
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : ' ';
        if (is_space(c)) {
            if (in_tok) {
                st->tokens++;
                st->letter_words += tok_letter;
            }
            in_tok = tok_letter = 0;
            continue;
        }
        in_tok = 1;
        if (is_alpha(c))
            tok_letter = 1;
        if (c >= 'a' && c <= 'z')
            st->has_lower = 1;
        if (c >= 'A' && c <= 'Z')
            st->has_upper = 1;
        if (c >= 0xC0) { /* a lead byte: one non-ASCII character */
            st->has_nonascii = 1;
            /* U+00C0..U+07FF are mostly letters (Latin, Greek, Cyrillic, Arabic...);
             * U+3000..U+DFFF is CJK, kana and Hangul. U+2000.. (dashes, bullets) and
             * emoji are not words. */
            if (c >= 0xC3 && c <= 0xDF)
                tok_letter = 1;
            if (c >= 0xE3 && c <= 0xED) {
                tok_letter = 1;
                st->cjk++;
            }
        }
    }
}

/* True for a list item: "- x", "* x", "+ x", "• x", "1. x", "2) x". */
static int is_list_item(const char *s, size_t n)
{
    size_t d = 0;

    if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ')
        return 1;
    if (n >= 4 && memcmp(s, "\xE2\x80\xA2 ", 4) == 0)
        return 1;
    while (d < n && d < 3 && is_digit((unsigned char)s[d]))
        d++;
    return d > 0 && d + 1 < n && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ';
}

enum line_kind { LINE_SKIP, LINE_HEADLINE, LINE_PROSE };

/* Classifies a trimmed line near the top of a text: a headline, prose (the body has
 * started, so the title was not there), or something to pass over. */
static enum line_kind classify_line(const char *s, size_t n)
{
    struct line_stats st;
    size_t words;
    char d[11];
    unsigned char last;

    if (n == 0 || is_ui_phrase(s, n))
        return LINE_SKIP;
    if (n > HEADLINE_MAX_BYTES)
        return LINE_PROSE;
    line_stats(s, n, &st);
    if (st.tokens > HEADLINE_MAX_WORDS)
        return LINE_PROSE;
    words = st.letter_words + st.cjk / 2;
    if (words < HEADLINE_MIN_WORDS || is_list_item(s, n))
        return LINE_SKIP;
    /* Headlines start with a letter, a digit, a quote or a parenthesis; lines starting
     * with other ASCII punctuation are markup, code or decoration ("#tag", "{...}"). */
    if ((unsigned char)s[0] < 0x80 && !is_alnum((unsigned char)s[0]) && s[0] != '"' &&
        s[0] != '\'' && s[0] != '(')
        return LINE_SKIP;
    /* A final period, colon or comma makes a sentence or a lead-in, not a headline; "?"
     * and "!" are fine ("Meta Abandons the Open-Source Strategy?"). */
    last = (unsigned char)s[n - 1];
    if (last == '.' || last == ':' || last == ';' || last == ',')
        return LINE_SKIP;
    /* Short all-caps labels: "PLATFORM RELEASE", "TOP NEWS HEADLINES". */
    if (st.has_upper && !st.has_lower && !st.has_nonascii && st.letter_words <= 6)
        return LINE_SKIP;
    /* Date lines: "Apr 10, 2026", "Published April 10, 2026 at 9:00 AM". */
    if (st.tokens <= 8 && article_find_date(s, n, d))
        return LINE_SKIP;
    /* Bylines: "By Newzino Staff". */
    if (st.tokens <= 6 && starts_with_ci(s, n, "by "))
        return LINE_SKIP;
    return LINE_HEADLINE;
}

/* Looks for an explicit title: a "Title:" line or a "# " heading among the first
 * TITLE_WINDOW_LINES non-empty lines; in Markdown also a setext heading ("Title\n===")
 * there, and a "# " heading anywhere (outside code fences). */
static int explicit_title(const char *buf, size_t len, int md, const char **ts, size_t *tn)
{
    size_t pos = 0, n, nonempty = 0, prev_n = 0;
    const char *s, *prev = NULL;
    int in_fence = 0;

    while (next_line(buf, len, &pos, &s, &n)) {
        const char *h;
        size_t hn;
        int level, in_window;

        article_trim(&s, &n);
        if (n == 0) {
            prev = NULL;
            continue;
        }
        in_window = ++nonempty <= TITLE_WINDOW_LINES;
        if (!in_window && !md)
            break;
        if (md && md_is_fence(s, n)) {
            in_fence = !in_fence;
            prev = NULL;
            continue;
        }
        if (in_fence)
            continue;
        if ((h = md_heading(s, n, &hn, &level)) != NULL && level == 1 && hn > 0) {
            *ts = h, *tn = hn;
            return 1;
        }
        if (in_window && starts_with_ci(s, n, "title:")) {
            h = s + 6, hn = n - 6;
            article_trim(&h, &hn);
            if (hn > 0) {
                *ts = h, *tn = hn;
                return 1;
            }
        }
        if (md && in_window && prev != NULL && s[0] == '=' && md_is_rule(s, n)) {
            *ts = prev, *tn = prev_n;
            return 1;
        }
        prev = s, prev_n = n;
    }
    return 0;
}

/* A headline of one or two words ("Budget Cuts", "Oil Surge") is too short for the
 * headline test, which passes over "Logo" or "Meta" in navigation. It is taken when it
 * stands alone at the top: the file's first line, every word capitalised, not a
 * navigation phrase, no final punctuation, a blank line after it and no headline after
 * that (else it is a label over the real headline). */
static int short_headline(const char *buf, size_t len, const char **ts, size_t *tn)
{
    size_t pos = 0, n, n2, n3;
    const char *s, *s2, *s3;
    struct line_stats st;

    if (!next_line(buf, len, &pos, &s, &n))
        return 0;
    article_trim(&s, &n);
    if (n == 0 || n > 60 || is_ui_phrase(s, n))
        return 0;
    line_stats(s, n, &st);
    if (st.letter_words < 1 || st.letter_words >= HEADLINE_MIN_WORDS ||
        st.tokens != st.letter_words || !st.has_lower)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((i == 0 || s[i - 1] == ' ') && c < 0x80 && !(c >= 'A' && c <= 'Z'))
            return 0;
        if (c < 0x80 && !is_alnum(c) && c != ' ' && c != '-' && c != '\'')
            return 0;
    }
    if (!next_line(buf, len, &pos, &s2, &n2))
        return 0;
    article_trim(&s2, &n2);
    if (n2 != 0)
        return 0;
    while (next_line(buf, len, &pos, &s3, &n3)) {
        article_trim(&s3, &n3);
        if (n3 == 0)
            continue;
        if (classify_line(s3, n3) == LINE_HEADLINE)
            return 0; /* a label over the real headline */
        *ts = s, *tn = n;
        return 1;
    }
    return 0;
}

/* The first line among the top TITLE_WINDOW_LINES that reads like a headline, passing
 * over navigation, labels and dates, and giving up once prose starts. */
static int headline_title(const char *buf, size_t len, const char **ts, size_t *tn)
{
    size_t pos = 0, n, nonempty = 0;
    const char *s;

    if (short_headline(buf, len, ts, tn))
        return 1;

    while (next_line(buf, len, &pos, &s, &n)) {
        article_trim(&s, &n);
        if (n == 0)
            continue;
        if (++nonempty > TITLE_WINDOW_LINES)
            break;
        switch (classify_line(s, n)) {
        case LINE_HEADLINE:
            *ts = s, *tn = n;
            return 1;
        case LINE_PROSE:
            return 0;
        case LINE_SKIP:
            break;
        }
    }
    return 0;
}

/* When no line reads like a headline the text opens with prose (corpus file 002 starts
 * "The open-source artificial intelligence ecosystem has never been short of innovation.
 * Over the past few years, ..."). A section heading further down would misname the
 * article, so the title is the start of the first substantial line: its first sentence
 * when that ends within TITLE_SENTENCE_MAX bytes, else the line cut at a word boundary
 * near TITLE_SOFT_BYTES. Navigation and date lines are still passed over; if every line
 * is such, the first non-empty line is used as it is. */
static void title_fallback(const char *buf, size_t len, const char **ts, size_t *tn)
{
    size_t pos = 0, n, nonempty = 0, first_n = 0;
    const char *s, *first = NULL, *pick = NULL;
    struct line_stats st;
    char d[11];

    while (next_line(buf, len, &pos, &s, &n)) {
        article_trim(&s, &n);
        if (n == 0)
            continue;
        if (first == NULL)
            first = s, first_n = n;
        if (++nonempty > TITLE_WINDOW_LINES)
            break;
        if (is_ui_phrase(s, n))
            continue;
        line_stats(s, n < HEADLINE_MAX_BYTES ? n : HEADLINE_MAX_BYTES, &st);
        if (st.letter_words + st.cjk / 2 < HEADLINE_MIN_WORDS)
            continue;
        if (st.tokens <= 8 && article_find_date(s, n < 200 ? n : 200, d))
            continue;
        pick = s;
        break;
    }
    if (pick == NULL) {
        *ts = first, *tn = first != NULL ? first_n : 0;
        return;
    }
    s = pick;
    if (n > TITLE_SOFT_BYTES) {
        size_t lim = n - 1 < TITLE_SENTENCE_MAX ? n - 1 : TITLE_SENTENCE_MAX, cut;
        for (size_t i = 20; i < lim; i++) {
            if ((s[i] == '.' || s[i] == '?' || s[i] == '!') && is_space((unsigned char)s[i + 1])) {
                *ts = s, *tn = s[i] == '.' ? i : i + 1;
                return;
            }
        }
        cut = TITLE_SOFT_BYTES;
        while (cut > 0 && !is_space((unsigned char)s[cut]))
            cut--;
        n = cut > 0 ? cut : utf8_cut(s, n, TITLE_SOFT_BYTES);
        while (n > 0 && strchr(",;:-", s[n - 1]) != NULL)
            n--;
    } else if (n >= 2 && s[n - 1] == '.' && s[n - 2] != '.') {
        n--;
    }
    *ts = s, *tn = n;
}

/* The title of a text (see article_parse_text); NULL when out of memory. raw is the
 * cleaned file, plain the text the headline scan reads (the same for .txt; Markdown
 * converted to text for .md). */
char *article_pick_title(const char *raw, size_t rawlen, const char *plain, size_t plainlen,
                         int md)
{
    const char *ts = NULL;
    size_t tn = 0;

    if (explicit_title(raw, rawlen, md, &ts, &tn)) {
        if (md) {
            struct strbuf b = {0};
            char *t, *out;
            size_t n;
            md_inline(ts, tn, &b);
            t = sb_take(&b, &n);
            if (t == NULL)
                return NULL;
            out = article_title_dup(t, n);
            free(t);
            return out;
        }
        return article_title_dup(ts, tn);
    }
    if (!headline_title(plain, plainlen, &ts, &tn))
        title_fallback(plain, plainlen, &ts, &tn);
    return article_title_dup(ts != NULL ? ts : "", tn);
}

int article_parse_text(const char *buf, size_t len, int markdown, struct article *out,
                       char *why, size_t whylen)
{
    char dbuf[11];
    const char *text;
    char *clean = NULL, *body = NULL, *title = NULL, *date = NULL;
    size_t clen = 0, tlen, blen = 0;

    if ((clean = article_file_text(buf, len, 0, out, &clen, why, whylen)) == NULL)
        return -1;
    text = clean, tlen = clen;
    if (tlen >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, tlen -= 3;
    if (article_is_blank(text, tlen)) {
        free(clean);
        article_why(why, whylen, "empty file");
        return -1;
    }
    if (markdown) {
        struct strbuf b = {0};
        md_to_text(text, tlen, &b);
        if ((body = sb_take(&b, &blen)) == NULL)
            goto oom;
        if (article_is_blank(body, blen)) {
            free(clean);
            free(body);
            article_why(why, whylen, "no text (only Markdown markup)");
            return -1;
        }
    } else {
        if ((body = malloc(tlen + 1)) == NULL)
            goto oom;
        memcpy(body, text, tlen);
        body[tlen] = '\0';
        blen = tlen;
    }
    if ((title = article_pick_title(text, tlen, body, blen, markdown)) == NULL)
        goto oom;
    if (article_find_date(body, blen, dbuf) && (date = strdup(dbuf)) == NULL)
        goto oom;
    free(clean);
    replace_field(&out->title, title);
    replace_field(&out->body, body);
    out->body_len = blen;
    replace_field(&out->date, date);
    return 0;

oom:
    free(clean);
    free(body);
    free(title);
    free(date);
    article_why(why, whylen, "%s", ARTICLE_OOM);
    return -1;
}
