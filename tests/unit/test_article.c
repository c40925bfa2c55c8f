/*
 * test_article.c -- unit tests for lib/article*.c: every input format with good and bad
 * input (binary, empty, invalid UTF-8, broken HTML, wrong JSON types, truncated JSON and
 * gzip, over-long lines), date recognition, the title heuristics on the real corpus files
 * (read from $QUIRE_SRC/corpus), and allocation failure on every parser path.
 *
 * Allocation failure is injected by replacing malloc/calloc/realloc in this executable
 * (glibc supports replacing them; the real ones are found with dlsym(RTLD_NEXT)), so the
 * failures reach article.c and the libraries under it -- jansson, gumbo (through
 * article.c's allocator), zlib -- alike. The replacement also counts live blocks, so
 * each failure path is checked for leaks without valgrind. Valgrind replaces malloc
 * itself, even here, so under valgrind that one test is skipped (valgrind's leak check
 * covers the rest), and so it is under the sanitizers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "article.h"
#include "seeded.h"
#include "util.h"

/* ---- allocation failure injection ------------------------------------------------------ */

/* Sanitizer runtimes bring their own malloc (clang links it into the executable), which a
 * second replacement here would fight with: there the fault test is skipped. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_FAULT_INJECTION 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define NO_FAULT_INJECTION 1
#endif
#endif

/* volatile: the compiler knows what malloc does and may assume a call to it leaves these
 * alone, but ours changes them. */
static volatile long fail_countdown = -1; /* allocations to let through; -1: never fail */
static volatile int injected;             /* set when a failure was injected */
static volatile long live_blocks;         /* blocks allocated and not yet freed */

#ifndef NO_FAULT_INJECTION
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym may allocate while we are looking the real functions up: serve that from here. */
static _Alignas(max_align_t) unsigned char boot_heap[4096];
static size_t boot_used;
static int resolving;

static void *boot_alloc(size_t n)
{
    size_t a = (n + 15) & ~(size_t)15;
    void *p;

    if (a > sizeof boot_heap - boot_used)
        return NULL;
    p = boot_heap + boot_used;
    boot_used += a;
    return p;
}

static int is_boot(const void *p)
{
    return (const unsigned char *)p >= boot_heap &&
           (const unsigned char *)p < boot_heap + sizeof boot_heap;
}

static void resolve_real(void)
{
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

/* True when this allocation is the one to fail. */
static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown-- > 0)
        return 0;
    injected = 1;
    return 1;
}

void *malloc(size_t n)
{
    void *p;

    if (real_malloc == NULL) {
        if (resolving)
            return boot_alloc(n);
        resolve_real();
    }
    if (should_fail())
        return NULL;
    p = real_malloc(n);
    if (p != NULL)
        live_blocks++;
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p;

    if (real_calloc == NULL) {
        if (resolving)
            return boot_alloc(n * size); /* boot_heap is zeroed static storage */
        resolve_real();
    }
    if (should_fail())
        return NULL;
    p = real_calloc(n, size);
    if (p != NULL)
        live_blocks++;
    return p;
}

void *realloc(void *p, size_t n)
{
    void *q;

    if (real_realloc == NULL)
        resolve_real();
    if (is_boot(p))
        return NULL; /* never happens: dlsym does not grow its blocks */
    if (should_fail())
        return NULL;
    q = real_realloc(p, n);
    if (p == NULL && q != NULL)
        live_blocks++;
    else if (p != NULL && n == 0 && q == NULL)
        live_blocks--; /* glibc's realloc(p, 0) frees p */
    return q;
}

void free(void *p)
{
    if (p == NULL || is_boot(p))
        return;
    if (real_free == NULL)
        resolve_real();
    live_blocks--;
    real_free(p);
}
#endif

/* True when our malloc is the one being called. It is not under valgrind, which replaces
 * malloc even in the executable (valgrind checks for leaks instead), nor under the
 * sanitizers. Called through a volatile pointer so the compiler cannot reason about it. */
static void *(*volatile probe_malloc)(size_t) = malloc;
static void *volatile probe_block;

static int injection_works(void)
{
    injected = 0;
    fail_countdown = 0;
    probe_block = probe_malloc(16);
    fail_countdown = -1;
    free(probe_block);
    return injected;
}

/* One parser call under fault injection. Returns the call's status; ctx is the test's. */
typedef int (*fault_op)(void *ctx, char *why, size_t whylen);

/* Fails the 1st, 2nd, ... allocation of op in turn until op gets through without an
 * injected failure; each injected failure must end in -1 with "out of memory" (or
 * also_ok, when not NULL) in the reason. Returns how many failure points there were (so
 * a test can check it saw some). */
static int run_with_failures(fault_op op, void *ctx, void (*undo)(void *ctx),
                             const char *also_ok)
{
    for (long k = 0; k < 100000; k++) {
        char why[256] = "";
        long live = live_blocks;
        int rc;

        injected = 0;
        fail_countdown = k;
        rc = op(ctx, why, sizeof why);
        fail_countdown = -1;
        if (!injected) {
            assert_int_equal(rc, 0);
            if (undo != NULL)
                undo(ctx);
            assert_int_equal(live_blocks, live);
            return (int)k;
        }
        if (rc != -1 || (strstr(why, "out of memory") == NULL &&
                         (also_ok == NULL || strstr(why, also_ok) == NULL)))
            fail_msg("allocation %ld failed: rc %d, reason \"%s\"", k, rc, why);
        if (undo != NULL)
            undo(ctx);
        /* Whatever was allocated before the failure was freed again. */
        if (live_blocks != live)
            fail_msg("allocation %ld failed: %ld blocks leaked", k, live_blocks - live);
    }
    fail_msg("no end to allocations");
    return 0;
}

/* ---- helpers --------------------------------------------------------------------------- */

/* Reads a whole file into a malloc'd buffer. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* A fresh temporary file name (the file exists, empty). */
static void temp_path(char *out, size_t outlen, const char *suffix)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    snprintf(out, outlen, "%s/test_article_XXXXXX%s", dir && *dir ? dir : "/tmp", suffix);
    fd = mkstemps(out, (int)strlen(suffix));
    assert_true(fd >= 0);
    close(fd);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int parse_text_str(const char *s, int md, struct article *a, char *why, size_t wl)
{
    return article_parse_text(s, strlen(s), md, a, why, wl);
}

static int parse_html_str(const char *s, struct article *a, char *why, size_t wl)
{
    return article_parse_html(s, strlen(s), a, why, wl);
}

static int parse_json_str(const char *s, struct article *a, char *why, size_t wl)
{
    return article_parse_json(s, strlen(s), a, why, wl);
}

/* ---- formats --------------------------------------------------------------------------- */

static void test_format_for_path(void **state)
{
    (void)state;
    assert_int_equal(article_format_for_path("a.txt"), ARTICLE_TEXT);
    assert_int_equal(article_format_for_path("dir.d/A.TXT"), ARTICLE_TEXT);
    assert_int_equal(article_format_for_path("x.md"), ARTICLE_MARKDOWN);
    assert_int_equal(article_format_for_path("x.Markdown"), ARTICLE_MARKDOWN);
    assert_int_equal(article_format_for_path("p/x.html"), ARTICLE_HTML);
    assert_int_equal(article_format_for_path("x.HTM"), ARTICLE_HTML);
    assert_int_equal(article_format_for_path("x.jsonl"), ARTICLE_JSONL);
    assert_int_equal(article_format_for_path("x.JSONL.GZ"), ARTICLE_JSONL);
    assert_int_equal(article_format_for_path("x.json"), ARTICLE_JSON);
    assert_int_equal(article_format_for_path("x.ndjson.gz"), ARTICLE_JSONL);
    /* .gz of every format is that format. */
    assert_int_equal(article_format_for_path("a/x.txt.gz"), ARTICLE_TEXT);
    assert_int_equal(article_format_for_path("x.md.GZ"), ARTICLE_MARKDOWN);
    assert_int_equal(article_format_for_path("x.markdown.gz"), ARTICLE_MARKDOWN);
    assert_int_equal(article_format_for_path("x.html.gz"), ARTICLE_HTML);
    assert_int_equal(article_format_for_path("x.htm.gz"), ARTICLE_HTML);
    assert_int_equal(article_format_for_path("x.json.gz"), ARTICLE_JSON);
    assert_int_equal(article_path_gz("x.json.gz"), 1);
    assert_int_equal(article_path_gz("x.json"), 0);
    assert_int_equal(article_format_for_path("x.gz"), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path("x.pdf.gz"), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path(".txt.gz"), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path("x.gz.txt.gz.gz"), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path("x.txt.bak"), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path("txt"), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path("dir/.txt"), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path("a.txt/b"), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path(""), ARTICLE_UNKNOWN);
    assert_int_equal(article_format_for_path(NULL), ARTICLE_UNKNOWN);
}

/* ---- UTF-8 ----------------------------------------------------------------------------- */

/* Cleans in and compares with want (both given with lengths: they may hold NULs). */
static void check_clean(const char *in, size_t inlen, const char *want)
{
    size_t n = 99;
    char *out = article_utf8_clean(in, inlen, &n);

    assert_non_null(out);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    assert_int_equal(out[n], '\0');
    free(out);
}

#define FFFD "\xEF\xBF\xBD"

/* Cleans a string literal (it may hold NULs) and compares with want. */
#define CLEAN(lit, want) check_clean((lit), sizeof(lit) - 1, (want))

static void test_utf8_clean(void **state)
{
    (void)state;
    CLEAN("", "");
    CLEAN("plain ascii", "plain ascii");
    /* valid 2-, 3- and 4-byte sequences, and the extremes U+10FFFF and U+FFFF */
    CLEAN("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBF",
          "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBF");
    CLEAN("a\0b", "a b");                              /* NUL -> space */
    CLEAN("\xC0\xAF", FFFD FFFD);                      /* overlong '/' */
    CLEAN("\xE0\x80\xAF", FFFD FFFD FFFD);             /* overlong, 3 bytes */
    CLEAN("\xF0\x80\x80\xAF", FFFD FFFD FFFD FFFD);    /* overlong, 4 bytes */
    CLEAN("\xED\xA0\x80", FFFD FFFD FFFD);             /* surrogate U+D800 */
    CLEAN("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);    /* U+110000 */
    CLEAN("\xF5\xFF\xFE", FFFD FFFD FFFD);             /* never valid bytes */
    CLEAN("x\x80y", "x" FFFD "y");                     /* stray continuation */
    CLEAN("\xE2\x82", FFFD);                           /* truncated at the end */
    CLEAN("\xE2\x82x", FFFD "x");                      /* truncated mid-text */
    CLEAN("\xF0\x9F\x98", FFFD);                       /* one FFFD per subpart */
    CLEAN("\xE2\x82\xE2\x82\xAC", FFFD "\xE2\x82\xAC"); /* bad, then good */
    {
        size_t n = 9;
        char *out = article_utf8_clean(NULL, 0, &n);
        assert_non_null(out);
        assert_string_equal(out, "");
        assert_int_equal(n, 0);
        free(out);
    }
}

/* ---- dates ----------------------------------------------------------------------------- */

/* The date article_find_date finds in s, or "" when none. */
static const char *date_of(const char *s)
{
    static char d[11];
    memset(d, 0, sizeof d);
    if (!article_find_date(s, strlen(s), d))
        return "";
    return d;
}

static void test_find_date_formats(void **state)
{
    (void)state;
    assert_string_equal(date_of("on Apr 10, 2026 we"), "2026-04-10");
    assert_string_equal(date_of("April 10, 2026"), "2026-04-10");
    assert_string_equal(date_of("Apr. 10, 2026"), "2026-04-10");
    assert_string_equal(date_of("x 2026-04-10 y"), "2026-04-10");
    assert_string_equal(date_of("2026-04-10T12:00:00Z"), "2026-04-10");
    assert_string_equal(date_of("10 April 2026"), "2026-04-10");
    assert_string_equal(date_of("10 Apr 2026"), "2026-04-10");
    assert_string_equal(date_of("10 Apr. 2026"), "2026-04-10");
    assert_string_equal(date_of("April 1st, 2026"), "2026-04-01");
    assert_string_equal(date_of("Sept. 5, 2026"), "2026-09-05");
    assert_string_equal(date_of("September 5 2026"), "2026-09-05");
    assert_string_equal(date_of("april 10,2026"), "2026-04-10");
    assert_string_equal(date_of("Apr\xC2\xA0" "10, 2026"), "2026-04-10"); /* no-break space */
    assert_string_equal(date_of("\xE2\x80\x94" "May 3, 2001"), "2001-05-03"); /* after a dash */
    assert_string_equal(date_of("leap: Feb 29, 2024"), "2024-02-29");
    assert_string_equal(date_of("1 January 1900 and 31 Dec 2100"), "1900-01-01");
    /* The first date written wins, whatever its format. */
    assert_string_equal(date_of("Apr 8, 2026, updated 2026-04-10"), "2026-04-08");
    assert_string_equal(date_of("2026-04-10 then April 8, 2026"), "2026-04-10");
}

static void test_find_date_rejects(void **state)
{
    (void)state;
    assert_string_equal(date_of(""), "");
    assert_string_equal(date_of("April 2026"), "");          /* no day */
    assert_string_equal(date_of("in April, 2026"), "");
    assert_string_equal(date_of("2026-02-30"), "");          /* no such day */
    assert_string_equal(date_of("2026-13-01"), "");
    assert_string_equal(date_of("2026-00-10"), "");
    assert_string_equal(date_of("Apr 31, 2026"), "");
    assert_string_equal(date_of("Feb 29, 2026"), "");        /* not a leap year */
    assert_string_equal(date_of("Feb 29, 2100"), "");        /* nor is 2100 */
    assert_string_equal(date_of("Apr 0, 2026"), "");
    assert_string_equal(date_of("1899-12-31"), "");          /* years 1900-2100 only */
    assert_string_equal(date_of("2101-01-01"), "");
    assert_string_equal(date_of("Apr 10, 20261"), "");       /* not a 4-digit year */
    assert_string_equal(date_of("12026-04-10"), "");
    assert_string_equal(date_of("2026-04-101"), "");
    assert_string_equal(date_of("110 April 2026"), "");      /* day must be 1-2 digits */
    assert_string_equal(date_of("Mayor 10, 2026"), "");      /* not a month word */
    assert_string_equal(date_of("xApr 10, 2026"), "");
    assert_string_equal(date_of("Apr10, 2026"), "");
    assert_string_equal(date_of("Apr 10 , 2026"), "");
    assert_string_equal(date_of("2026/04/10"), "");
    assert_int_equal(article_find_date(NULL, 10, (char[11]){0}), 0);
    /* The length bounds the scan: the year is outside it. */
    assert_int_equal(article_find_date("Apr 10, 2026", 9, (char[11]){0}), 0);
}

/* Long runs of near-dates must stay fast (the scan is linear) and find nothing; a date
 * at the very end is still found. */
static void test_find_date_pathological(void **state)
{
    static const char *const units[] = {"1 ", "April ", "Apr 1", "2026-0", "10 Apr ", "\xC2"};
    size_t n = 128 << 10; /* ample to show a quadratic scan (it would not finish) */
    char *buf = malloc(n + 16);
    char d[11];

    (void)state;
    assert_non_null(buf);
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ul = strlen(units[u]), o = 0;
        while (o + ul <= n) {
            memcpy(buf + o, units[u], ul);
            o += ul;
        }
        assert_int_equal(article_find_date(buf, o, d), 0);
        memcpy(buf + o, " 4 Jul 1976", 11);
        assert_int_equal(article_find_date(buf, o + 11, d), 1);
        assert_string_equal(d, "1976-07-04");
    }
    /* Random bytes: whatever is found must be a valid date string. */
    srand(42);
    for (size_t i = 0; i < n; i++)
        buf[i] = "0123456789 -,.AprMayJunDec\xC2\xA0"[rand() % 29];
    if (article_find_date(buf, n, d)) {
        assert_int_equal(strlen(d), 10);
        assert_int_equal(d[4], '-');
    }
    free(buf);
}

/* ---- plain text ------------------------------------------------------------------------ */

struct corpus_case {
    const char *file;
    const char *title;
    const char *date; /* NULL: no date written in the file */
};

/* The five real scraped files and what they must give. 002 opens straight into prose,
 * so its title is its first sentence (see title_fallback in article_text.c); 004 has no date
 * in any recognised form. */
static const struct corpus_case corpus[] = {
    {"000_2f9b59c24e6afe2f.txt", "Meta Abandons the Open-Source Strategy?", "2026-04-10"},
    {"001_f96bdf5f0f0f437e.txt",
     "Meta Abandons Pure Open-Source With Proprietary Muse Spark Model", "2026-04-10"},
    {"002_93673a55b2262d66.txt",
     "The open-source artificial intelligence ecosystem has never been short of innovation",
     "2026-04-08"},
    {"003_bdfb886f477a69a6.txt",
     "Meta abandons open-source AI playbook with first proprietary model from "
     "Superintelligence Labs",
     "2026-04-08"},
    {"004_f1e5fad00c599f42.txt", "Meta's Muse Spark Signals End of Open-Source Era", NULL},
};

static void test_corpus_titles_and_dates(void **state)
{
    const char *src = getenv("QUIRE_SRC");

    (void)state;
    if (src == NULL || *src == '\0')
        fail_msg("QUIRE_SRC is not set (it must name the source tree)");
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        char path[4096], why[256] = "";
        struct article a = {0};
        size_t len;
        char *buf;

        snprintf(path, sizeof path, "%s/corpus/%s", src, corpus[i].file);
        buf = slurp(path, &len);
        assert_int_equal(article_parse_text(buf, len, 0, &a, why, sizeof why), 0);
        assert_string_equal(a.title, corpus[i].title);
        if (corpus[i].date == NULL)
            assert_null(a.date);
        else
            assert_string_equal(a.date, corpus[i].date);
        assert_int_equal(a.body_len, len); /* the corpus is clean UTF-8: body is the file */
        assert_memory_equal(a.body, buf, len);
        assert_null(a.id); /* the caller sets it */
        article_clear(&a);
        free(buf);
    }
}

/* Title of a text parsed as .txt (md = 0) or .md (md = 1). */
static void check_title(const char *text, int md, const char *want)
{
    struct article a = {0};
    char why[256] = "";

    if (parse_text_str(text, md, &a, why, sizeof why) != 0)
        fail_msg("parse failed: %s", why);
    assert_string_equal(a.title, want);
    article_clear(&a);
}

static void test_text_titles(void **state)
{
    char *big;

    (void)state;
    /* Navigation, dates, labels, bylines and list items are passed over. */
    check_title("Skip to content\nMenu\nSign in to continue\nSubscribe now\n"
                "Apr 10, 2026\nPublished April 10, 2026 at 9:00 AM\nBREAKING NEWS TODAY\n"
                "By Jane Doe\n- a list item here\nShare this article\n"
                "Rust 2.0 released with a new borrow checker\nBody text.\n",
                0, "Rust 2.0 released with a new borrow checker");
    /* A final period means a sentence; "?" and "!" are fine. */
    check_title("This short line is a sentence.\nWhat comes next for open models?\n", 0,
                "What comes next for open models?");
    /* Explicit titles win over the heuristic. */
    check_title("Some opening words here\nTitle:  The Real Title \nbody\n", 0, "The Real Title");
    check_title("# Heading In Text File\nother words in a line\n", 0, "Heading In Text File");
    /* "#hashtag" is not a heading, nor a headline (it starts with punctuation). */
    check_title("#hashtag words in a line\nA proper headline right here\n", 0,
                "A proper headline right here");
    /* Windows line ends and a byte order mark. */
    check_title("\xEF\xBB\xBFLogo\r\nA headline with CRLF ends\r\nbody\r\n", 0,
                "A headline with CRLF ends");
    /* Prose first: the first sentence, without its period. */
    check_title("This opening line is plainly prose and runs on for a while. It has a "
                "second sentence too, which makes the line much longer than any headline "
                "would be in practice, so it is not one.\nA Heading Later On\n",
                0, "This opening line is plainly prose and runs on for a while");
    /* Prose without a sentence end near the start: cut at a word boundary. */
    check_title("word word word word word word word word word word word word word word word "
                "word word word word word word word word word word word word word word word "
                "word word word word word word word word\n",
                0,
                "word word word word word word word word word word word word word word word "
                "word word word word word word word word word");
    /* Nothing but navigation: the first line as it is. */
    check_title("Menu\nShare\n", 0, "Menu");
    /* A huge heading is cut to the limit at a UTF-8 boundary. */
    big = malloc(2 + 3000 * 2 + 1);
    assert_non_null(big);
    memcpy(big, "# ", 2);
    for (int i = 0; i < 3000; i++)
        memcpy(big + 2 + i * 2, "\xC3\xA9", 2);
    big[2 + 3000 * 2] = '\0';
    {
        struct article a = {0};
        char why[128];
        assert_int_equal(parse_text_str(big, 0, &a, why, sizeof why), 0);
        assert_true(strlen(a.title) <= ARTICLE_MAX_TITLE_BYTES);
        assert_true(strlen(a.title) >= ARTICLE_MAX_TITLE_BYTES - 1);
        assert_int_equal(strlen(a.title) % 2, 0); /* whole two-byte characters only */
        article_clear(&a);
    }
    free(big);
}

static void test_text_bad_input(void **state)
{
    struct article a = {0};
    char why[256];
    char bin[4096];
    char *big;

    (void)state;
    assert_int_equal(article_parse_text("", 0, 0, &a, why, sizeof why), -1);
    assert_string_equal(why, "empty file");
    assert_int_equal(article_parse_text(NULL, 0, 0, &a, why, sizeof why), -1);
    assert_string_equal(why, "empty file");
    assert_int_equal(parse_text_str(" \n\t\r\n  \n", 0, &a, why, sizeof why), -1);
    assert_string_equal(why, "empty file");
    assert_int_equal(parse_text_str("\xEF\xBB\xBF \n", 0, &a, why, sizeof why), -1);
    assert_string_equal(why, "empty file");

    /* Binary: a NUL-heavy buffer, as in executables and images. */
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (char)(i % 7 == 0 ? 0 : 'a' + i % 26);
    assert_int_equal(article_parse_text(bin, sizeof bin, 0, &a, why, sizeof why), -1);
    assert_non_null(strstr(why, "binary file"));
    assert_int_equal(article_parse_text("\xFF\xFEh\0i\0", 6, 0, &a, why, sizeof why), -1);
    assert_non_null(strstr(why, "UTF-16"));
    assert_null(a.title); /* nothing was written on failure */
    assert_null(a.body);

    /* Too large: refused before a byte is read. */
    big = malloc((size_t)ARTICLE_MAX_FILE_BYTES + 1);
    assert_non_null(big);
    assert_int_equal(article_parse_text(big, (size_t)ARTICLE_MAX_FILE_BYTES + 1, 0, &a, why,
                                        sizeof why),
                     -1);
    assert_non_null(strstr(why, "file too large"));
    free(big);

    /* A tiny reason buffer is fine, and so is none. */
    assert_int_equal(parse_text_str("", 0, &a, why, 3), -1);
    assert_string_equal(why, "em");
    assert_int_equal(parse_text_str("", 0, &a, NULL, 0), -1);
    assert_int_equal(parse_text_str("x", 0, NULL, why, sizeof why), -1);
}

static void test_text_cleaning(void **state)
{
    struct article a = {0};
    char why[256];
    static const char text[] = "A headline with bad \xC0 bytes\nbody with a\0NUL and \xFF.\n";

    (void)state;
    /* A stray NUL is cleaned, not a reason to refuse the text; bytes that are not UTF-8
     * in text with no UTF-8 in it are Latin-1 (Windows-1252): 0xC0 is À, 0xFF is ÿ. */
    assert_int_equal(article_parse_text(text, sizeof text - 1, 0, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "A headline with bad \xC3\x80 bytes");
    assert_string_equal(a.body, "A headline with bad \xC3\x80 bytes\nbody with a NUL and \xC3\xBF"
                                ".\n");
    assert_int_equal(a.body_len, strlen(a.body));
    article_clear(&a);
    /* Mostly UTF-8 with a bad byte: damaged UTF-8, the bad byte becomes U+FFFD. */
    static const char damaged[] = "Caf\xC3\xA9 na\xC3\xAFve \xC3\xA0 la headline \xFF here\nbody\n";
    assert_int_equal(article_parse_text(damaged, sizeof damaged - 1, 0, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "Caf\xC3\xA9 na\xC3\xAFve \xC3\xA0 la headline " FFFD " here");
    assert_int_equal(a.body_len, strlen(a.body));
    /* Parsing again into the same struct replaces the fields (no leak: valgrind). */
    assert_int_equal(parse_text_str("Second article headline here\nx 2026-01-02\n", 0, &a, why,
                                    sizeof why),
                     0);
    assert_string_equal(a.title, "Second article headline here");
    assert_string_equal(a.date, "2026-01-02");
    article_clear(&a);
    assert_null(a.body);
    assert_int_equal(a.body_len, 0);
}

static void test_markdown(void **state)
{
    struct article a = {0};
    char why[256];
    const char *md =
        "---\n"
        "author: someone\n"
        "---\n"
        "Intro line before the heading\n\n"
        "# The *Real* Title with [a link](http://example.com/x) #\n\n"
        "Some **bold** and _emphasis_ text, snake_case and 2 * 3 kept, ~~struck~~,\n"
        "an ![image alt](pic.png) and a [link](http://example.com \"t\"), `code`, \\*stars\\*.\n"
        "> quoted line\n"
        "* bullet one\n"
        "```\n"
        "code *kept* [as](is)\n"
        "```\n"
        "## Section 10 Apr 2026\n";

    (void)state;
    assert_int_equal(parse_text_str(md, 1, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "The Real Title with a link");
    assert_null(strstr(a.body, "http://example.com"));
    assert_null(strstr(a.body, "**"));
    assert_null(strstr(a.body, "# "));
    assert_non_null(strstr(a.body, "Some bold and emphasis text, snake_case and 2 * 3 kept, "
                                   "struck,"));
    assert_non_null(strstr(a.body, "an image alt and a link, code, *stars*."));
    assert_non_null(strstr(a.body, "\nquoted line\n- bullet one\ncode *kept* [as](is)\n"));
    assert_string_equal(a.date, "2026-04-10");
    article_clear(&a);

    /* Setext heading; and a .md file without any heading uses the headline rules. */
    check_title("Setext Title Here\n=================\n\ntext\n", 1, "Setext Title Here");
    check_title("Logo\n[Back to home](/)\n**A bold headline in markdown**\n\nText.\n", 1,
                "A bold headline in markdown");
    /* A "# " inside a code fence is not a heading. */
    check_title("```\n# not a title\n```\nThe actual headline line\n", 1,
                "The actual headline line");
    assert_int_equal(parse_text_str("***\n---\n", 1, &a, why, sizeof why), -1);
    assert_non_null(strstr(why, "no text"));
}

/* Unmatched link brackets and parentheses must not make the converter quadratic. */
static void test_markdown_pathological(void **state)
{
    static const char *const units[] = {"[", "[a](", "](", "![", "*_`\\"};
    size_t n = 128 << 10; /* ample to show a quadratic scan (it would not finish) */
    char *buf = malloc(n + 1);
    struct article a = {0};
    char why[256];

    (void)state;
    assert_non_null(buf);
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ul = strlen(units[u]), o = 0;
        while (o + ul <= n) {
            memcpy(buf + o, units[u], ul);
            o += ul;
        }
        buf[o] = '\0';
        int rc = article_parse_text(buf, o, 1, &a, why, sizeof why);
        assert_true(rc == 0 || rc == -1);
        article_clear(&a);
    }
    free(buf);
}

/* ---- HTML ------------------------------------------------------------------------------ */

static const char page[] =
    "<!doctype html><html><head><title>  Meta  abandons\n open source | News </title>\n"
    "<meta property=\"article:published_time\" content=\"2026-04-10T08:00:00Z\">\n"
    "<script>var x = \"<p>not text</p>\";</script><style>p{color:red}</style></head>\n"
    "<body><nav><a href=\"/\">Home</a> <a href=\"/w\">World</a></nav>\n"
    "<header><h1>Site header</h1></header>\n"
    "<article><h1>Meta abandons open source</h1>"
    "<p>First<b>para</b>graph,  with\n<a href=\"#\">a link</a>.</p>"
    "<p>Second paragraph.<br>After&nbsp;break</p>"
    "<ul><li>one</li><li>two</li></ul><table><tr><td>cell1</td><td>cell2</td></tr></table>"
    "<aside>Related stuff</aside><div hidden>hidden text</div><form><p>form text</p></form>"
    "<template><p>template text</p></template><svg><text>svg text</text></svg>"
    "<noscript>enable js</noscript><span aria-hidden=\"true\">icon</span>"
    "</article><footer>Copyright</footer></body></html>";

static void test_html_page(void **state)
{
    struct article a = {0};
    char why[256];

    (void)state;
    assert_int_equal(parse_html_str(page, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "Meta abandons open source | News");
    assert_string_equal(a.date, "2026-04-10");
    assert_string_equal(a.body, "Meta abandons open source\n"
                                "Firstparagraph, with a link.\n"
                                "Second paragraph.\n"
                                "After break\n"
                                "one\ntwo\n"
                                "cell1 cell2");
    assert_int_equal(a.body_len, strlen(a.body));
    article_clear(&a);
}

static void test_html_fallbacks(void **state)
{
    struct article a = {0};
    char why[256];

    (void)state;
    /* No <title>: the first <h1>; no <article>: <main>; a date from <meta name="date">. */
    assert_int_equal(parse_html_str("<html><head><title> </title><meta name=\"DATE\" "
                                    "content=\"April 9, 2026\"></head><body><p>outside</p>"
                                    "<main><h1>Main <i>heading</i></h1><p>in main</p></main>",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.title, "Main heading");
    assert_string_equal(a.body, "Main heading\nin main");
    assert_string_equal(a.date, "2026-04-09");
    /* No <main> either: <body>; the date of a <time datetime>; the title may be "". */
    assert_int_equal(parse_html_str("<p>Just text <time datetime=\"2025-12-01T10:00\">Monday"
                                    "</time></p><p>Apr 1, 2020</p>",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.title, "");
    assert_string_equal(a.body, "Just text Monday\nApr 1, 2020");
    assert_string_equal(a.date, "2025-12-01");
    /* Otherwise the first date in the text; a bad meta date is passed over. */
    assert_int_equal(parse_html_str("<meta name=date content=\"soon\"><article><p>On 3 March 2024"
                                    " it rained.</p></article>",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.date, "2024-03-03");
    assert_string_equal(a.body, "On 3 March 2024 it rained.");
    /* An <article> with nothing but a skipped share bar does not empty the page. */
    assert_int_equal(parse_html_str("<body><article><nav>Share</nav></article><p>Real text</p>",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.body, "Real text");
    assert_null(a.date);
    article_clear(&a);
}

static void test_html_bad_input(void **state)
{
    struct article a = {0};
    char why[256];
    char bin[1024];
    char *deep;
    const size_t levels = 20000; /* small enough for gumbo under valgrind */

    (void)state;
    /* Broken markup still gives its text. */
    assert_int_equal(parse_html_str("<html><body><p>Broken <b>markup <i>everywhere<p>and <div>"
                                    "unclosed &amp; <td>stray</td></tr> &#x41;&bogus; <",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.body, "Broken markup everywhere\nand\nunclosed & stray A&bogus; <");
    /* Invalid UTF-8 and NULs are cleaned before gumbo sees them. */
    {
        static const char bad[] = "<p>bad \xC3\x28 and \0 nul</p>";
        assert_int_equal(article_parse_html(bad, sizeof bad - 1, &a, why, sizeof why), 0);
    }
    assert_string_equal(a.body, "bad \xC3\x83( and nul"); /* no UTF-8 in it: Latin-1 */
    /* Regression (tests/fuzz): gumbo 0.10.1 turns an out-of-range character reference into
     * a lone byte that is not UTF-8; the body must still be valid UTF-8. */
    assert_int_equal(parse_html_str("<title>t&#xEEEEEEEE;</title><p>a&#xEEEEEEEE;b"
                                    "&#x110000;&#xD800;&#0;&#99999999999;c</p>",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.title, "t" FFFD);
    assert_string_equal(a.body, "a" FFFD "b" FFFD FFFD FFFD FFFD "c");
    article_clear(&a);

    assert_int_equal(parse_html_str("", &a, why, sizeof why), -1);
    assert_string_equal(why, "no text");
    assert_int_equal(parse_html_str("<html><head><title>Only a title</title></head>"
                                    "<body><script>x()</script><nav>Menu</nav></body>",
                                    &a, why, sizeof why),
                     -1);
    assert_string_equal(why, "no text");
    assert_null(a.title);
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (char)(i * 37 % 256);
    assert_int_equal(article_parse_html(bin, sizeof bin, &a, why, sizeof why), -1);
    assert_non_null(strstr(why, "binary file"));

    /* Deep nesting, which takes gumbo 0.10 time quadratic in the depth, is refused at
     * once; moderate nesting is fine. */
    deep = malloc(levels * 5 + 16);
    assert_non_null(deep);
    for (size_t i = 0; i < levels; i++)
        memcpy(deep + i * 5, "<div>", 5);
    strcpy(deep + levels * 5, "deep");
    assert_int_equal(parse_html_str(deep, &a, why, sizeof why), -1);
    assert_non_null(strstr(why, "nested too deeply"));
    for (size_t i = 0; i < levels; i++)
        memcpy(deep + i * 5, "<b x>", 5);
    assert_int_equal(parse_html_str(deep, &a, why, sizeof why), -1);
    assert_non_null(strstr(why, "nested too deeply"));
    strcpy(deep + 300 * 5, "deep");
    assert_int_equal(parse_html_str(deep + 100 * 5, &a, why, sizeof why), 0);
    assert_string_equal(a.body, "deep");
    /* Many siblings are not depth: sloppy unclosed <p> and <li> and closed elements. */
    for (size_t i = 0; i < levels; i++)
        memcpy(deep + i * 5, i % 2 ? "<li>x" : "<p>yy", 5);
    strcpy(deep + levels * 5, "end");
    assert_int_equal(parse_html_str(deep, &a, why, sizeof why), 0);
    article_clear(&a);
    free(deep);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void test_json_good(void **state)
{
    struct article a = {0};
    char why[256];

    (void)state;
    assert_int_equal(parse_json_str("{\"id\":\"a-1\",\"title\":\" Hello\\n world \","
                                    "\"body\":\"Text \\u00e9\\u0000end\",\"date\":\"2026-04-10\","
                                    "\"source\":\"src\",\"url\":\"http://x/\",\"category\":\"ai\","
                                    "\"extra\":[1,2,{\"deep\":true}]}",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.id, "a-1");
    assert_string_equal(a.title, "Hello world");
    assert_string_equal(a.body, "Text \xC3\xA9 end");
    assert_int_equal(a.body_len, 11);
    assert_string_equal(a.date, "2026-04-10");
    assert_string_equal(a.source, "src");
    assert_string_equal(a.url, "http://x/");
    assert_string_equal(a.category, "ai");

    /* A numeric id; no title; other date spellings; optional fields of the wrong type are
     * dropped; parsing into a used struct replaces every field. */
    assert_int_equal(parse_json_str("{\"id\":-42,\"body\":\"b\",\"date\":\"2026-04-10T12:00:00Z\","
                                    "\"source\":7,\"url\":null,\"category\":[\"x\"],\"title\":5}",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.id, "-42");
    assert_string_equal(a.title, "b"); /* untitled: titled from the body */
    assert_string_equal(a.date, "2026-04-10");
    assert_null(a.source);
    assert_null(a.url);
    assert_null(a.category);
    assert_int_equal(parse_json_str("{\"id\":\"x\",\"body\":\"\",\"title\":\"T\","
                                    "\"date\":\"April 9, 2026\"}",
                                    &a, why, sizeof why),
                     0);
    assert_string_equal(a.body, "");
    assert_string_equal(a.date, "2026-04-09");
    /* A date that is not one is dropped, not an error. */
    assert_int_equal(parse_json_str("{\"id\":\"x\",\"body\":\"b\",\"date\":\"2026-02-30\"}", &a,
                                    why, sizeof why),
                     0);
    assert_null(a.date);
    assert_int_equal(parse_json_str("{\"id\":\"x\",\"body\":\"b\",\"date\":20260410}", &a, why,
                                    sizeof why),
                     0);
    assert_string_equal(a.date, "2026-04-10"); /* YYYYMMDD */
    article_clear(&a);
}

/* Parses line and expects failure with a reason containing want. */
static void check_json_error(const char *line, size_t len, const char *want)
{
    struct article a = {0};
    char why[256] = "";

    if (article_parse_json(line, len, &a, why, sizeof why) != -1)
        fail_msg("accepted: %s", line);
    if (strstr(why, want) == NULL)
        fail_msg("reason \"%s\" does not contain \"%s\"", why, want);
    assert_null(a.id);
    assert_null(a.body);
}

#define JSON_ERROR(line, want) check_json_error((line), strlen(line), (want))

static void test_json_bad(void **state)
{
    char *line;
    size_t n;

    (void)state;
    JSON_ERROR("", "empty line");
    JSON_ERROR("   ", "empty line");
    JSON_ERROR("{\"id\":\"x\",\"body\":\"trunc", "invalid JSON: ");
    JSON_ERROR("{\"id\":\"x\",\"body\":\"trunc", "(line 1, column ");
    JSON_ERROR("{\"id\":\"x\",", "invalid JSON");
    JSON_ERROR("{\"id\":\"x\"} trailing", "invalid JSON");
    JSON_ERROR("{\"id\":\"x\",\"body\":\"\xC3\x28\"}", "invalid JSON");
    JSON_ERROR("[1,2]", "not a JSON object");
    JSON_ERROR("\"str\"", "not a JSON object");
    JSON_ERROR("42", "not a JSON object");
    JSON_ERROR("{\"body\":\"b\"}", "missing \"id\"");
    JSON_ERROR("{\"id\":\"\",\"body\":\"b\"}", "\"id\" is empty");
    JSON_ERROR("{\"id\":[\"x\"],\"body\":\"b\"}", "\"id\" must be a string");
    JSON_ERROR("{\"id\":1.5,\"body\":\"b\"}", "\"id\" must be a string");
    JSON_ERROR("{\"id\":null,\"body\":\"b\"}", "\"id\" must be a string");
    JSON_ERROR("{\"id\":\"x\"}", "missing \"body\"");
    JSON_ERROR("{\"id\":\"x\",\"body\":3}", "\"body\" must be a string");
    JSON_ERROR("{\"id\":\"x\",\"body\":{\"a\":1}}", "\"body\" must be a string");
    JSON_ERROR("{\"id\":\"x\",\"body\":\" \",\"title\":\"\"}", "empty \"body\"");
    JSON_ERROR("{\"id\":\"x\",\"body\":\"\"}", "empty \"body\"");

    /* An id one byte over the limit; the limit itself is fine. */
    line = malloc(ARTICLE_MAX_ID_BYTES + 64);
    assert_non_null(line);
    n = (size_t)sprintf(line, "{\"id\":\"%0*d\",\"body\":\"b\"}", ARTICLE_MAX_ID_BYTES + 1, 7);
    check_json_error(line, n, "\"id\" is too long");
    n = (size_t)sprintf(line, "{\"id\":\"%0*d\",\"body\":\"b\"}", ARTICLE_MAX_ID_BYTES, 7);
    {
        struct article a = {0};
        char why[128];
        assert_int_equal(article_parse_json(line, n, &a, why, sizeof why), 0);
        assert_int_equal(strlen(a.id), ARTICLE_MAX_ID_BYTES);
        article_clear(&a);
    }
    free(line);

    /* Nesting far beyond jansson's depth limit is an error, not a stack overflow. */
    n = 200000;
    line = malloc(2 * n + 64);
    assert_non_null(line);
    n = (size_t)sprintf(line, "{\"id\":\"x\",\"body\":\"b\",\"x\":");
    for (size_t i = 0; i < 100000; i++)
        line[n++] = '[';
    for (size_t i = 0; i < 100000; i++)
        line[n++] = ']';
    line[n++] = '}';
    check_json_error(line, n, "invalid JSON");
    free(line);
}

/* ---- the id at a glance ----------------------------------------------------------------- */

/* The property of article_json_peek_id on one line: when it names an id, the full reader
 * either rejects the line or reads that same id. Returns 1 when the peek named one (and
 * *parsed says whether the reader took the line). */
static int peek_agrees(const char *line, size_t len, int *parsed)
{
    const char *pid = NULL;
    size_t plen = 0;
    int peeked = article_json_peek_id(line, len, &pid, &plen);
    struct article a = {0};
    char why[256];
    *parsed = article_parse_json(line, len, &a, why, sizeof why) == 0;
    if (peeked) {
        assert_true(pid >= line && pid + plen <= line + len);
        if (*parsed && (strlen(a.id) != plen || memcmp(a.id, pid, plen) != 0))
            fail_msg("peeked id \"%.*s\", read \"%s\" in: %.*s", (int)plen, pid, a.id,
                     (int)(len < 300 ? len : 300), line);
    }
    article_clear(&a);
    return peeked;
}

/* The peek at line names want (or nothing, for NULL). */
static void check_peek(const char *line, const char *want)
{
    const char *pid;
    size_t plen;
    int got = article_json_peek_id(line, strlen(line), &pid, &plen);
    if (!want && got)
        fail_msg("peek of %s named \"%.*s\"", line, (int)plen, pid);
    if (want && (!got || plen != strlen(want) || memcmp(pid, want, plen) != 0))
        fail_msg("peek of %s: want \"%s\"", line, want);
}

static void test_json_peek_examples(void **state)
{
    (void)state;
    check_peek("{\"id\":\"a1\",\"body\":\"b\"}", "a1");
    check_peek(" \t{ \"body\" : \"x\\\"id\\\":\\\"no\" , \"id\" : \"yes\" }\r", "yes");
    check_peek("{\"meta\":{\"id\":\"inner\"},\"id\":\"outer\",\"body\":\"b\"}", "outer");
    check_peek("{\"a\":[\"]\",{\"id\":\"x\"},\"}\"],\"id\":\"k\",\"n\":-1.5e3,\"t\":true}", "k");
    check_peek("{\"id\":\"train/pos/0_9\",\"title\":\"tt0453418\",\"body\":\"b\"}",
               "train/pos/0_9");
    /* What only the full reader can tell. */
    check_peek("{\"id\":7,\"body\":\"b\"}", NULL);                       /* an integer id */
    check_peek("{\"id\":\"a\\u0062\",\"body\":\"b\"}", NULL);            /* an escape */
    check_peek("{\"\\u0069d\":\"x\",\"body\":\"b\"}", NULL);             /* an escaped key */
    check_peek("{\"id\":\"x\",\"id\":\"y\",\"body\":\"b\"}", NULL);      /* the last id counts */
    check_peek("{\"id\":\"caf\xc3\xa9\",\"body\":\"b\"}", NULL);         /* not ASCII */
    check_peek("{\"id\":\"\",\"body\":\"b\"}", NULL);                    /* empty */
    check_peek("{\"body\":\"b\"}", NULL);                                /* none */
    check_peek("[{\"id\":\"x\"}]", NULL);
    check_peek("{\"id\":\"x\"} trailing", NULL);
    check_peek("{\"id\":\"x\",\"body\":\"trunc", NULL);
    check_peek("\xEF\xBB\xBF{\"id\":\"x\",\"body\":\"b\"}", NULL);
}

/* A random JSON value, nested at most depth deep, its strings full of what confuses a
 * scanner: quotes, backslashes, braces, "id" itself. */
static void gen_value(struct strbuf *sb, int depth);

static const char *const peek_pieces[] = {
    "id", "\\\"", "\\\\", "\\u0069", "\\u0000", "{", "}", "[", "]", ":", ",", " ",
    "\\n", "a", "Z", "0", "/", "\xc3\xa9", "\\\"id\\\":\\\"x\\\"", "\\/",
};

static void gen_string(struct strbuf *sb)
{
    sb_putc(sb, '"');
    for (int n = (int)(seeded_next() % 6); n > 0; n--)
        sb_puts(sb, peek_pieces[seeded_next() % (sizeof peek_pieces / sizeof peek_pieces[0])]);
    sb_putc(sb, '"');
}

static void gen_space(struct strbuf *sb)
{
    static const char *const sp[] = {"", "", "", " ", "\t", "\r\n ", "  "};
    sb_puts(sb, sp[seeded_next() % 7]);
}

static void gen_value(struct strbuf *sb, int depth)
{
    unsigned kind = (unsigned)(seeded_next() % (depth > 0 ? 7 : 5));
    static const char *const scalars[] = {"0", "-12.5e3", "true", "false", "null", "1e400"};
    switch (kind) {
    case 0: case 1: gen_string(sb); break;
    case 2: sb_puts(sb, scalars[seeded_next() % 6]); break;
    case 3: sb_puts(sb, "\"plain\""); break;
    case 4: sb_puts(sb, "\"id\""); break;
    case 5: /* an object */
    case 6: { /* an array */
        int obj = kind == 5;
        sb_putc(sb, obj ? '{' : '[');
        for (int n = (int)(seeded_next() % 4), i = 0; i < n; i++) {
            if (i)
                sb_putc(sb, ',');
            gen_space(sb);
            if (obj) {
                if (seeded_next() % 3 == 0)
                    sb_puts(sb, "\"id\"");
                else
                    gen_string(sb);
                gen_space(sb);
                sb_putc(sb, ':');
                gen_space(sb);
            }
            gen_value(sb, depth - 1);
            gen_space(sb);
        }
        sb_putc(sb, obj ? '}' : ']');
        break;
    }
    }
}

/* A record: members in random order, among them (usually) one id, plain or not; then, one
 * time in three, broken: cut short or one byte changed. Sets *plain_id when the record is
 * whole, no key of it is escaped and its one "id" is a plain printable string (the peek
 * must then name it). */
static void gen_record(struct strbuf *sb, int *plain_id)
{
    static const char *const ids[] = {
        "\"a1\"", "\"train/pos/0_9\"", "\"x y\"", "\"}\"", "\"{\"", /* plain */
        "\"\"", "7", "\"a\\u0062\"", "\"caf\xc3\xa9\"", "{\"id\":\"n\"}",
    };
    static const char *const keys[] = {"\"id\"", "\"\\u0069d\"", "\"i\\u0064\"", "\"idd\""};
    /* The members: 'i' an id (under one of keys), 'b' the body, 'o' any other. */
    char kinds[8];
    int n = 0, ids_written = 0, plain = 0, escaped_key = 0;
    if (seeded_next() % 8)
        kinds[n++] = 'i';
    if (seeded_next() % 8)
        kinds[n++] = 'b';
    if (seeded_next() % 8 == 0)
        kinds[n++] = 'i';
    for (int k = (int)(seeded_next() % 4); k > 0; k--)
        kinds[n++] = 'o';
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(seeded_next() % (unsigned)(i + 1));
        char t = kinds[i];
        kinds[i] = kinds[j];
        kinds[j] = t;
    }
    sb_putc(sb, '{');
    gen_space(sb);
    for (int i = 0; i < n; i++) {
        if (i) {
            sb_putc(sb, ',');
            gen_space(sb);
        }
        if (kinds[i] == 'i') {
            const char *key = keys[seeded_next() % 2 ? 0 : 1 + seeded_next() % 3];
            unsigned v = (unsigned)(seeded_next() % 10);
            sb_puts(sb, key);
            gen_space(sb);
            sb_putc(sb, ':');
            gen_space(sb);
            sb_puts(sb, ids[v]);
            escaped_key |= strchr(key, '\\') != NULL;
            if (key != keys[3]) {
                ids_written++;
                plain = v < 5 && key == keys[0];
            }
        } else if (kinds[i] == 'b') {
            sb_puts(sb, "\"body\":\"words ");
            sb_puts(sb, peek_pieces[seeded_next() % (sizeof peek_pieces / sizeof peek_pieces[0])]);
            sb_puts(sb, "\"");
        } else {
            static const char *const names[] = {"\"title\"", "\"date\"", "\"ID\"",
                                                "\"i\"", "\"d\"", "\"\""};
            size_t at = sb->len;
            if (seeded_next() % 4)
                sb_puts(sb, names[seeded_next() % 6]);
            else
                gen_string(sb);
            if (sb->len - at == 4 && memcmp(sb->buf + at, "\"id\"", 4) == 0)
                sb->buf[at + 1] = 'k'; /* no stray ids */
            escaped_key |= memchr(sb->buf + at, '\\', sb->len - at) != NULL;
            gen_space(sb);
            sb_putc(sb, ':');
            gen_space(sb);
            gen_value(sb, 3);
        }
        gen_space(sb);
    }
    sb_puts(sb, "}");
    gen_space(sb);
    /* (An escaped key might spell "id": the peek leaves such records to the reader.) */
    *plain_id = ids_written == 1 && plain && !escaped_key;
    if (seeded_next() % 4 == 0 && sb->len > 0) {
        size_t at = (size_t)(seeded_next() % sb->len);
        if (seeded_next() % 2)
            sb->len = at;
        else
            sb->buf[at] = "\"\\{}[],:x \x80"[seeded_next() % 11];
        *plain_id = 0;
    }
}

static void test_json_peek_random(void **state)
{
    (void)state;
    seeded_start("peek at ids");
    unsigned long peeked = 0, parsed = 0, both = 0;
    struct strbuf sb;
    sb_init(&sb);
    for (int i = 0; i < 40000; i++) {
        int plain, ok;
        sb.len = 0;
        gen_record(&sb, &plain);
        assert_false(sb.failed);
        int p = peek_agrees(sb.buf, sb.len, &ok);
        /* Read, with one plain id: the peek names it (the fast path is taken). */
        if (plain && ok && !p)
            fail_msg("no peek at a plain id in: %.*s", (int)sb.len, sb.buf);
        peeked += p;
        parsed += ok;
        both += p && ok;
    }
    sb_free(&sb);
    printf("# peek at ids: 40000 records, %lu peeked, %lu read, %lu both\n", peeked, parsed,
           both);
    /* Both sides of the property were met, many times. */
    assert_true(both > 3000 && peeked > both && parsed > both);
}

/* Every record of the shared corpora: the peek agrees with the reader, and names the id of
 * every record whose id is plain printable ASCII. */
static void test_json_peek_corpora(void **state)
{
    (void)state;
    const char *shared = getenv("QUIRE_SHARED");
    static const char *const names[] = {"bbc-news", "reuters-21578", "scifact", "cranfield",
                                        "wikipedia-en", "imdb-reviews"};
    unsigned long lines = 0, peeked = 0;
    for (size_t c = 0; shared && c < sizeof names / sizeof names[0]; c++) {
        char path[4096], why[256];
        snprintf(path, sizeof path, "%s/corpora/%s/docs.jsonl", shared, names[c]);
        if (access(path, R_OK) != 0)
            snprintf(path, sizeof path, "%s/corpora/%s/docs.jsonl.gz", shared, names[c]);
        if (access(path, R_OK) != 0)
            continue;
        article_lines *r = article_lines_open(path, why, sizeof why);
        if (!r)
            fail_msg("open %s: %s", path, why);
        const char *line;
        size_t len;
        unsigned long lineno;
        int rc;
        while ((rc = article_lines_next(r, &line, &len, &lineno, why, sizeof why)) == 1) {
            int ok;
            int p = peek_agrees(line, len, &ok);
            lines++;
            peeked += p;
            if (ok && !p) {
                struct article a = {0};
                assert_int_equal(article_parse_json(line, len, &a, why, sizeof why), 0);
                int plain = 1;
                for (const char *q = a.id; *q; q++)
                    plain &= *q >= 0x20 && *q <= 0x7E && *q != '"' && *q != '\\';
                if (plain)
                    fail_msg("%s:%lu: no peek at the plain id \"%s\"", path, lineno, a.id);
                article_clear(&a);
            }
        }
        assert_int_equal(rc, 0);
        article_lines_close(r);
    }
    printf("# peek at ids: %lu corpus records, %lu peeked\n", lines, peeked);
}

/* ---- reading JSON Lines ---------------------------------------------------------------- */

/* Reads every line of path into a newline-joined string of "<status>:<lineno>:<text>"
 * records, to compare in one assertion. */
static char *read_all(const char *path)
{
    char why[256];
    article_lines *r = article_lines_open(path, why, sizeof why);
    size_t cap = 1 << 16, o = 0;
    char *out = malloc(cap);
    const char *line;
    size_t len;
    unsigned long lineno;
    int rc;

    if (r == NULL)
        fail_msg("open: %s", why);
    assert_non_null(out);
    out[0] = '\0';
    while ((rc = article_lines_next(r, &line, &len, &lineno, why, sizeof why)) != 0) {
        char rec[128];
        if (rc == 1)
            snprintf(rec, sizeof rec, "1:%lu:%.*s|", lineno, (int)(len < 40 ? len : 40), line);
        else
            snprintf(rec, sizeof rec, "%d:%lu|", rc, lineno);
        assert_true(o + strlen(rec) + 1 < cap);
        strcpy(out + o, rec);
        o += strlen(rec);
        if (rc == -1)
            break;
        if (rc == 1)
            assert_int_equal(line[len], '\0');
    }
    article_lines_close(r);
    return out;
}

static void test_lines_plain(void **state)
{
    char path[4096];
    char *got;
    static const char data[] = "{\"a\":1}\r\n\nsecond line\nlast without newline";

    (void)state;
    temp_path(path, sizeof path, ".jsonl");
    write_file(path, data, sizeof data - 1);
    got = read_all(path);
    assert_string_equal(got, "1:1:{\"a\":1}|1:2:|1:3:second line|1:4:last without newline|");
    free(got);
    /* An empty file has no lines; a lone newline is one empty line. */
    write_file(path, "", 0);
    got = read_all(path);
    assert_string_equal(got, "");
    free(got);
    write_file(path, "\n", 1);
    got = read_all(path);
    assert_string_equal(got, "1:1:|");
    free(got);
    unlink(path);
}

/* Issue 13's silent drops: a BOM before the first JSON line, Latin-1 text and HTML (with a
 * declared charset or none), JSON dates as a year, with a time or as Unix seconds, short
 * headlines, untitled JSON records. */
static void test_issue13_readers(void **state)
{
    char path[4096], why[256];
    struct article a = {0};
    char *got;

    (void)state;
    temp_path(path, sizeof path, ".jsonl");
    static const char bom[] = "\xEF\xBB\xBF{\"id\":\"x\"}\n{\"id\":\"y\"}\n";
    write_file(path, bom, sizeof bom - 1);
    got = read_all(path);
    assert_string_equal(got, "1:1:{\"id\":\"x\"}|1:2:{\"id\":\"y\"}|");
    free(got);
    unlink(path);

    /* Latin-1 text: "café" and "naïve" come out as UTF-8, not U+FFFD. */
    static const char latin1[] = "Caf\xE9 Owners Protest New Rules\n\nA na\xEFve plan, they said.\n";
    assert_int_equal(article_parse_text(latin1, sizeof latin1 - 1, 0, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "Caf\xC3\xA9 Owners Protest New Rules");
    assert_non_null(strstr(a.body, "na\xC3\xAFve"));
    article_clear(&a);
    char *conv = NULL, from[32];
    size_t clen = 0;
    assert_int_equal(article_recode(latin1, sizeof latin1 - 1, 0, &conv, &clen, from, sizeof from), 1);
    assert_string_equal(from, "windows-1252");
    assert_int_equal(clen, strlen(conv));
    free(conv);
    /* Windows-1252's curly quotes (0x93, 0x94) too. */
    static const char cp1252[] = "Quotes Are Curly Here Today\n\nHe said \x93yes\x94 twice.\n";
    assert_int_equal(article_parse_text(cp1252, sizeof cp1252 - 1, 0, &a, why, sizeof why), 0);
    assert_non_null(strstr(a.body, "\xE2\x80\x9Cyes\xE2\x80\x9D"));
    article_clear(&a);
    /* UTF-8 is left alone. */
    static const char utf8[] = "Caf\xC3\xA9 Owners Protest New Rules\n\nText.\n";
    assert_int_equal(article_parse_text(utf8, sizeof utf8 - 1, 0, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "Caf\xC3\xA9 Owners Protest New Rules");
    article_clear(&a);
    assert_int_equal(article_recode(utf8, sizeof utf8 - 1, 1, &conv, &clen, from, sizeof from), 0);
    assert_null(conv);
    /* HTML declaring ISO-8859-7 (Greek): the declaration is followed, not Windows-1252. */
    static const char greek[] = "<html><head><meta charset=\"iso-8859-7\"><title>\xC1\xE8\xDE\xED\xE1 news</title>"
                                "</head><body><p>Some text in the body.</p></body></html>";
    assert_int_equal(article_parse_html_isolated(greek, sizeof greek - 1, &a, why, sizeof why, 5), 0);
    assert_string_equal(a.title, "\xCE\x91\xCE\xB8\xCE\xAE\xCE\xBD\xCE\xB1 news");
    article_clear(&a);
    assert_int_equal(article_recode(greek, sizeof greek - 1, 1, &conv, &clen, from, sizeof from), 1);
    assert_string_equal(from, "iso-8859-7");
    free(conv);
    static const char latin_html[] = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                                     "charset=iso-8859-1\"><title>Caf\xE9</title></head><body><p>"
                                     "D\xE9j\xE0 vu.</p></body></html>";
    assert_int_equal(article_parse_html(latin_html, sizeof latin_html - 1, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "Caf\xC3\xA9");
    article_clear(&a);

    /* JSON dates. */
    static const struct {
        const char *json, *date;
    } dates[] = {
        {"\"2024-05-01T10:00:00Z\"", "2024-05-01"},
        {"\"2020\"", "2020-01-01"},
        {"1714557600", "2024-05-01"},
        {"\"1714557600\"", "2024-05-01"},
        {"\"May 1, 2024\"", "2024-05-01"},
        {"\"soon\"", NULL},
        {"\"20\"", NULL},
        {"20240501", "2024-05-01"},
        {"12345", NULL},
        {"true", NULL},
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "{\"id\":\"d\",\"title\":\"T\",\"body\":\"b\",\"date\":%s}",
                 dates[i].json);
        assert_int_equal(article_parse_json(line, strlen(line), &a, why, sizeof why), 0);
        if (dates[i].date)
            assert_string_equal(a.date, dates[i].date);
        else
            assert_null(a.date);
        article_clear(&a);
    }

    /* Headlines of one or two words standing alone at the top. */
    static const char two[] = "Budget Cuts\n\nThe council cut the budget by a third on Monday, officials said.\n";
    assert_int_equal(article_parse_text(two, sizeof two - 1, 0, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "Budget Cuts");
    article_clear(&a);
    static const char oil[] = "Oil Surge\n\nPrices rose sharply in early trading as supply fell.\n";
    assert_int_equal(article_parse_text(oil, sizeof oil - 1, 0, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "Oil Surge");
    article_clear(&a);
    /* ...but not a navigation word, nor a short line followed by more short lines. */
    static const char nav[] = "Logo\n\nThe council cut the budget by a third on Monday, officials said.\n";
    assert_int_equal(article_parse_text(nav, sizeof nav - 1, 0, &a, why, sizeof why), 0);
    assert_string_not_equal(a.title, "Logo");
    article_clear(&a);

    /* An untitled JSON record is titled from its body. */
    static const char untitled[] = "{\"id\":\"u\",\"body\":\"Oil Surge\\n\\nPrices rose sharply in early trading as supply fell.\"}";
    assert_int_equal(article_parse_json(untitled, sizeof untitled - 1, &a, why, sizeof why), 0);
    assert_string_equal(a.title, "Oil Surge");
    article_clear(&a);
}

/* Writes lines gzip-compressed with zlib. */
static void write_gz(const char *path, const char *data, size_t len)
{
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(gz), Z_OK);
}

static void test_lines_gzip(void **state)
{
    char path[4096], why[256];
    char *got, *raw;
    size_t rawlen;
    static const char data[] = "{\"id\":\"1\",\"body\":\"one\"}\n{\"id\":\"2\",\"body\":\"two\"}\n";
    struct article a = {0};
    article_lines *r;
    const char *line;
    size_t len;
    unsigned long lineno;

    (void)state;
    temp_path(path, sizeof path, ".jsonl.gz");
    write_gz(path, data, sizeof data - 1);
    got = read_all(path);
    assert_string_equal(got,
                        "1:1:{\"id\":\"1\",\"body\":\"one\"}|1:2:{\"id\":\"2\",\"body\":\"two\"}|");
    free(got);

    /* The lines parse as articles. */
    r = article_lines_open(path, why, sizeof why);
    assert_non_null(r);
    assert_int_equal(article_lines_next(r, &line, &len, &lineno, why, sizeof why), 1);
    assert_int_equal(article_parse_json(line, len, &a, why, sizeof why), 0);
    assert_string_equal(a.id, "1");
    assert_string_equal(a.body, "one");
    article_clear(&a);
    article_lines_close(r);

    /* A truncated gzip file: the lines that made it, then a read error that sticks. */
    {
        char *big = malloc(200000);
        size_t o = 0;
        assert_non_null(big);
        for (int i = 0; o + 64 < 200000; i++)
            o += (size_t)sprintf(big + o, "{\"id\":\"%d\",\"body\":\"%08d\"}\n", i, i * 7919);
        write_gz(path, big, o);
        free(big);
    }
    raw = slurp(path, &rawlen);
    write_file(path, raw, rawlen / 2);
    free(raw);
    r = article_lines_open(path, why, sizeof why);
    assert_non_null(r);
    {
        int rc, lines = 0;
        while ((rc = article_lines_next(r, &line, &len, &lineno, why, sizeof why)) == 1)
            lines++;
        assert_int_equal(rc, -1);
        assert_true(lines > 0);
        assert_non_null(strstr(why, "read error"));
        assert_int_equal(article_lines_next(r, &line, &len, &lineno, why, sizeof why), -1);
    }
    article_lines_close(r);

    /* A gzip header followed by garbage is a read error, not garbage lines. */
    {
        static const char junk[] = "\x1f\x8b\x08\x00garbage garbage garbage\n";
        write_file(path, junk, sizeof junk - 1);
    }
    got = read_all(path);
    assert_non_null(strstr(got, "-1:"));
    free(got);
    unlink(path);
}

/* ---- .json files and whole files, plain or gzip ------------------------------------------ */

static article_json_doc *json_doc_str(const char *s, char *why, size_t wl)
{
    return article_json_doc_parse(s, strlen(s), why, wl);
}

static void test_json_files(void **state)
{
    char why[256];
    struct article a = {0};
    article_json_doc *d;

    (void)state;
    /* One object: one record; without "id" it takes the file's id. */
    d = json_doc_str("{\"title\":\"One Object\",\"body\":\"text\",\"date\":\"2020\"}", why,
                     sizeof why);
    assert_non_null(d);
    assert_false(article_json_doc_is_array(d));
    assert_int_equal(article_json_doc_count(d), 1);
    assert_int_equal(article_json_doc_record(d, 0, "dir/a.json", &a, why, sizeof why), 0);
    assert_string_equal(a.id, "dir/a.json");
    assert_string_equal(a.title, "One Object");
    assert_string_equal(a.date, "2020-01-01");
    assert_int_equal(article_json_doc_record(d, 0, NULL, &a, why, sizeof why), -1);
    assert_string_equal(why, "missing \"id\"");
    assert_int_equal(article_json_doc_record(d, 1, NULL, &a, why, sizeof why), -1);
    article_json_doc_free(d);
    /* Its own "id" wins over the file's. */
    d = json_doc_str("\xEF\xBB\xBF {\"id\":42,\"body\":\"Oil Surge\\n\\nPrices rose.\"}\n", why,
                     sizeof why);
    assert_non_null(d);
    assert_int_equal(article_json_doc_record(d, 0, "a.json", &a, why, sizeof why), 0);
    assert_string_equal(a.id, "42");
    assert_string_equal(a.title, "Oil Surge");
    article_json_doc_free(d);

    /* An array: each element a record, as a JSON Lines line; no file id for them. */
    d = json_doc_str("[{\"id\":\"e1\",\"body\":\"a\"}, {\"body\":\"no id\"}, 7, "
                     "{\"id\":\"e1\",\"body\":\"again\"}]", why, sizeof why);
    assert_non_null(d);
    assert_true(article_json_doc_is_array(d));
    assert_int_equal(article_json_doc_count(d), 4);
    assert_int_equal(article_json_doc_record(d, 0, "a.json", &a, why, sizeof why), 0);
    assert_string_equal(a.id, "e1");
    assert_int_equal(article_json_doc_record(d, 1, "a.json", &a, why, sizeof why), -1);
    assert_string_equal(why, "missing \"id\"");
    assert_int_equal(article_json_doc_record(d, 2, "a.json", &a, why, sizeof why), -1);
    assert_string_equal(why, "not a JSON object");
    assert_int_equal(article_json_doc_record(d, 3, "a.json", &a, why, sizeof why), 0);
    assert_string_equal(a.body, "again");
    article_clear(&a);
    article_json_doc_free(d);
    d = json_doc_str("[]", why, sizeof why);
    assert_non_null(d);
    assert_int_equal(article_json_doc_count(d), 0);
    article_json_doc_free(d);

    /* Files that hold no article at all. */
    assert_null(json_doc_str("", why, sizeof why));
    assert_string_equal(why, "empty file");
    assert_null(json_doc_str(" \n", why, sizeof why));
    assert_null(json_doc_str("\"a string\"", why, sizeof why));
    assert_string_equal(why, "neither a JSON object nor an array of them");
    assert_null(json_doc_str("[{\"id\":1,", why, sizeof why));
    assert_non_null(strstr(why, "invalid JSON"));
    assert_null(article_json_doc_parse(NULL, 3, why, sizeof why));
    assert_int_equal(article_json_doc_count(NULL), 0);
    article_json_doc_free(NULL);
}

static void test_read_file(void **state)
{
    static const char text[] = "Harbour Dredging Plan Approved\n\nThe council approved it.\n";
    char path[4096], why[256], *buf, *raw;
    size_t len, rawlen;

    (void)state;
    /* Plain, and gzip: the same bytes. */
    temp_path(path, sizeof path, ".txt");
    write_file(path, text, sizeof text - 1);
    buf = article_read_file(path, &len, why, sizeof why);
    assert_non_null(buf);
    assert_int_equal(len, sizeof text - 1);
    assert_string_equal(buf, text);
    free(buf);
    unlink(path);
    temp_path(path, sizeof path, ".txt.gz");
    write_gz(path, text, sizeof text - 1);
    buf = article_read_file(path, &len, why, sizeof why);
    assert_non_null(buf);
    assert_int_equal(len, sizeof text - 1);
    assert_string_equal(buf, text);
    free(buf);

    /* Every way a .gz can stop short is an error, never a shorter text. */
    raw = slurp(path, &rawlen);
    for (size_t cut = 0; cut < rawlen; cut++) {
        write_file(path, raw, cut);
        buf = article_read_file(path, &len, why, sizeof why);
        assert_null(buf);
        assert_non_null(strstr(why, cut < 2 ? "not gzip data" : "truncated or corrupt"));
    }
    free(raw);
    write_file(path, text, sizeof text - 1); /* named .gz, but plain text */
    assert_null(article_read_file(path, &len, why, sizeof why));
    assert_string_equal(why, "not gzip data (truncated or corrupt .gz)");
    {
        static const char junk[] = "\x1f\x8b\x08\x00garbage garbage garbage\n";
        write_file(path, junk, sizeof junk - 1);
        assert_null(article_read_file(path, &len, why, sizeof why));
        assert_non_null(strstr(why, "truncated or corrupt"));
    }
    /* Bounded after decompression: 65 MB of zeros is a small .gz. */
    {
        gzFile gz = gzopen(path, "wb");
        char *zeros = calloc(1, 1 << 20);
        assert_non_null(gz);
        assert_non_null(zeros);
        for (int i = 0; i < 65; i++)
            assert_int_equal(gzwrite(gz, zeros, 1u << 20), 1 << 20);
        assert_int_equal(gzclose(gz), Z_OK);
        free(zeros);
        assert_null(article_read_file(path, &len, why, sizeof why));
        assert_non_null(strstr(why, "decompresses past"));
    }
    unlink(path);
    assert_null(article_read_file("/nonexistent/a.txt", &len, why, sizeof why));
    assert_non_null(strstr(why, "cannot open"));
    assert_null(article_read_file("/", &len, why, sizeof why));
    assert_string_equal(why, "not a regular file");
    assert_null(article_read_file(NULL, &len, why, sizeof why));
}

static void test_lines_long(void **state)
{
    char path[4096];
    FILE *f;
    char *chunk, *got;
    size_t chunklen = 1 << 20;

    (void)state;
    /* A line of exactly the limit ("\r" does not count), one just over it, short lines
     * around them, and a last line of 17 MB without a newline. */
    temp_path(path, sizeof path, ".jsonl");
    chunk = malloc(chunklen);
    assert_non_null(chunk);
    memset(chunk, 'x', chunklen);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("first\n", f);
    for (size_t i = 0; i < ARTICLE_MAX_LINE_BYTES / chunklen; i++)
        fwrite(chunk, 1, chunklen, f);
    fputs("\r\n", f);
    for (size_t i = 0; i < ARTICLE_MAX_LINE_BYTES / chunklen; i++)
        fwrite(chunk, 1, chunklen, f);
    fputs("y\nshort\n", f);
    for (size_t i = 0; i < 17; i++)
        fwrite(chunk, 1, chunklen, f);
    assert_int_equal(fclose(f), 0);
    free(chunk);

    got = read_all(path);
    assert_string_equal(got, "1:1:first|"
                             "1:2:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx|"
                             "-2:3|"
                             "1:4:short|"
                             "-2:5|");
    free(got);
    unlink(path);
}

static void test_lines_open_errors(void **state)
{
    char why[256] = "";
    char path[4096];

    (void)state;
    assert_null(article_lines_open("/nonexistent/dir/file.jsonl", why, sizeof why));
    assert_non_null(strstr(why, "/nonexistent/dir/file.jsonl"));
    assert_non_null(strstr(why, strerror(ENOENT)));
    assert_null(article_lines_open("/", why, sizeof why));
    assert_non_null(strstr(why, strerror(EISDIR)));
    assert_null(article_lines_open(NULL, why, sizeof why));
    article_lines_close(NULL);
    /* Unreadable (unless we are root, who can read anything). */
    if (geteuid() != 0) {
        temp_path(path, sizeof path, ".jsonl");
        assert_int_equal(chmod(path, 0), 0);
        assert_null(article_lines_open(path, why, sizeof why));
        assert_non_null(strstr(why, strerror(EACCES)));
        unlink(path);
    }
}

/* ---- allocation failure ---------------------------------------------------------------- */

struct fault_ctx {
    const char *input;
    size_t len;
    int kind; /* 0 text, 1 markdown, 2 html, 3 json, 4 utf8_clean, 5 lines, 6 .json file,
               * 7 a whole .gz file */
    struct article a;
};

static int fault_parse(void *vctx, char *why, size_t whylen)
{
    struct fault_ctx *c = vctx;

    switch (c->kind) {
    case 0: case 1:
        return article_parse_text(c->input, c->len, c->kind, &c->a, why, whylen);
    case 2:
        return article_parse_html(c->input, c->len, &c->a, why, whylen);
    case 3:
        return article_parse_json(c->input, c->len, &c->a, why, whylen);
    case 4: {
        size_t n;
        char *s = article_utf8_clean(c->input, c->len, &n);
        if (s == NULL) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        free(s);
        return 0;
    }
    case 6: {
        article_json_doc *d = article_json_doc_parse(c->input, c->len, why, whylen);
        int rc = d == NULL ? -1 : 0;
        for (size_t i = 0; rc == 0 && i < article_json_doc_count(d); i++) {
            rc = article_json_doc_record(d, i, "f.json", &c->a, why, whylen);
            article_clear(&c->a);
        }
        article_json_doc_free(d);
        return rc;
    }
    case 7: {
        size_t n;
        char *s = article_read_file(c->input, &n, why, whylen);
        free(s);
        return s == NULL ? -1 : 0;
    }
    default: {
        article_lines *r = article_lines_open(c->input, why, whylen);
        const char *line;
        size_t len;
        unsigned long lineno;
        int rc;
        if (r == NULL)
            return -1;
        while ((rc = article_lines_next(r, &line, &len, &lineno, why, whylen)) == 1)
            ;
        article_lines_close(r);
        return rc;
    }
    }
}

static void fault_undo(void *vctx)
{
    article_clear(&((struct fault_ctx *)vctx)->a);
}

static void test_allocation_failures(void **state)
{
    static const char md[] = "# Title *x*\n\nSome [text](u) on 2026-04-10.\n";
    static const char json[] = "{\"id\":7,\"title\":\"t\",\"body\":\"b\",\"date\":\"Apr 1, 2026\","
                               "\"source\":\"s\",\"url\":\"u\",\"category\":\"c\"}";
    char path[4096];
    struct fault_ctx c;
    int points;

    (void)state;
    if (!injection_works())
        skip();
    memset(&c, 0, sizeof c);
    c.input = "Logo\nA headline to find here\nText on April 10, 2026.\n";
    c.len = strlen(c.input);
    c.kind = 0;
    assert_true(run_with_failures(fault_parse, &c, fault_undo, NULL) >= 3);
    c.input = md, c.len = sizeof md - 1, c.kind = 1;
    assert_true(run_with_failures(fault_parse, &c, fault_undo, NULL) >= 3);
    c.input = page, c.len = sizeof page - 1, c.kind = 2;
    points = run_with_failures(fault_parse, &c, fault_undo, NULL);
    assert_true(points > 50); /* gumbo's allocations fail too, through article_html_guard.c */
    /* jansson reports an allocation failure inside a string token as a syntax error
     * ("string or '}' expected"); article_json.c cannot tell those apart. */
    c.input = json, c.len = sizeof json - 1, c.kind = 3;
    assert_true(run_with_failures(fault_parse, &c, fault_undo, "invalid JSON") >= 8);
    c.input = "abc", c.len = 3, c.kind = 4;
    assert_int_equal(run_with_failures(fault_parse, &c, NULL, NULL), 1);

    temp_path(path, sizeof path, ".jsonl.gz");
    write_gz(path, json, sizeof json - 1);
    c.input = path, c.len = 0, c.kind = 5;
    assert_true(run_with_failures(fault_parse, &c, NULL, NULL) >= 3);
    c.kind = 7;
    assert_true(run_with_failures(fault_parse, &c, NULL, NULL) >= 2);
    unlink(path);
    static const char arr[] = "[{\"id\":\"a\",\"body\":\"b\"},{\"id\":2,\"title\":\"t\",\"body\":\"c\"}]";
    c.input = arr, c.len = sizeof arr - 1, c.kind = 6;
    assert_true(run_with_failures(fault_parse, &c, fault_undo, "invalid JSON") >= 5);
}

int main(void)
{
#ifdef NO_FAULT_INJECTION
    (void)test_allocation_failures;
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_for_path),
        cmocka_unit_test(test_json_files),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_utf8_clean),
        cmocka_unit_test(test_find_date_formats),
        cmocka_unit_test(test_find_date_rejects),
        cmocka_unit_test(test_find_date_pathological),
        cmocka_unit_test(test_corpus_titles_and_dates),
        cmocka_unit_test(test_text_titles),
        cmocka_unit_test(test_text_bad_input),
        cmocka_unit_test(test_text_cleaning),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_markdown_pathological),
        cmocka_unit_test(test_html_page),
        cmocka_unit_test(test_html_fallbacks),
        cmocka_unit_test(test_html_bad_input),
        cmocka_unit_test(test_json_good),
        cmocka_unit_test(test_json_bad),
        cmocka_unit_test(test_json_peek_examples),
        cmocka_unit_test(test_json_peek_random),
        cmocka_unit_test(test_json_peek_corpora),
        cmocka_unit_test(test_lines_plain),
        cmocka_unit_test(test_lines_gzip),
        cmocka_unit_test(test_lines_long),
        cmocka_unit_test(test_lines_open_errors),
        cmocka_unit_test(test_issue13_readers),
#ifndef NO_FAULT_INJECTION
        /* Registered only where our malloc can be the one called: the sanitizer build
         * runs every other test, the normal build this one too. */
        cmocka_unit_test(test_allocation_failures),
#endif
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
