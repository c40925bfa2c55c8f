/*
 * fuzz_article.c -- libFuzzer target: the article parsers (lib/article*.c).
 *
 * The first byte picks what to call, the rest is the input:
 *   0 article_parse_text (plain)   1 article_parse_text (markdown)   2 article_parse_html
 *   3 article_parse_json           4 article_find_date               5 article_utf8_clean
 *   6 article_format_for_path      7 article_lines_* over an in-memory file, each line
 *                                    through article_parse_json (what the indexer does)
 * (the byte is taken modulo 8).
 *
 * Besides the sanitizers, the target checks the promises article.h makes and abort()s
 * when one is broken: a successful parse leaves title and body non-NULL, every string
 * valid UTF-8 without NUL bytes, body_len the body's length, the title within
 * ARTICLE_MAX_TITLE_BYTES, the date "YYYY-MM-DD" or NULL; a failed parse says why.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "article.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Dies with a message: the fuzzer records the input as a crash. */
static void fuzz_fail(const char *what, const char *detail)
{
    /* What broke on one line (run.sh groups crashes by it), the particulars on the next. */
    fprintf(stderr, "fuzz_article: contract broken: %s\n", what);
    if (detail)
        fprintf(stderr, "fuzz_article: detail: %.300s\n", detail);
    abort();
}

/* The oracle for "valid UTF-8" is lib/util.c's checker, which article.c does not use, so
 * it is independent of the code under test. */
#define utf8_ok util_utf8_valid

/* True for "YYYY-MM-DD" with a month 01-12 and a day 01-31. */
static int date_ok(const char *d)
{
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
            return 0;
    int month = (d[5] - '0') * 10 + (d[6] - '0');
    int day = (d[8] - '0') * 10 + (d[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static void check_string(const char *name, const char *s)
{
    if (s && !utf8_ok(s, strlen(s)))
        fuzz_fail("a field is not valid UTF-8", name);
}

/* Checks a parser's result: rc 0 with a well-formed article, or -1 with a reason. */
static void check_parse(int rc, const struct article *a, const char *why, int json)
{
    if (rc != 0) {
        if (rc != -1 && !(rc == -2 && !json))
            fuzz_fail("a parser returned neither 0 nor -1 (nor -2 for isolated HTML)", NULL);
        if (!why[0])
            fuzz_fail("a parse failed without a reason", NULL);
        return;
    }
    if (!a->title || !a->body)
        fuzz_fail("a successful parse left title or body NULL", NULL);
    if (strlen(a->body) != a->body_len)
        fuzz_fail("body_len is not the body's length (a NUL in the body?)", NULL);
    if (!utf8_ok(a->body, a->body_len))
        fuzz_fail("the body is not valid UTF-8", NULL);
    if (strlen(a->title) > ARTICLE_MAX_TITLE_BYTES)
        fuzz_fail("the title is longer than ARTICLE_MAX_TITLE_BYTES", a->title);
    check_string("title", a->title);
    check_string("id", a->id);
    check_string("source", a->source);
    check_string("url", a->url);
    check_string("category", a->category);
    if (a->date && !date_ok(a->date))
        fuzz_fail("the date is not YYYY-MM-DD", a->date);
    if (json) {
        if (!a->id || !a->id[0])
            fuzz_fail("a JSON article without an id", NULL);
        if (strlen(a->id) > ARTICLE_MAX_ID_BYTES)
            fuzz_fail("a JSON id longer than ARTICLE_MAX_ID_BYTES", NULL);
    }
}

/* Runs article_lines_* over the input as a file (memfd: no disk, no name clashes), each
 * line through the JSON parser, as the indexer does with a .jsonl or .jsonl.gz file. */
static void fuzz_lines(const char *buf, size_t len)
{
    int fd = memfd_create("fuzz_article.jsonl", MFD_CLOEXEC);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n <= 0) {
            close(fd);
            return;
        }
        off += (size_t)n;
    }
    char path[64], why[256] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    article_lines *r = article_lines_open(path, why, sizeof why);
    if (r) {
        const char *line;
        size_t n;
        unsigned long lineno = 0, last = 0;
        int rc;
        /* A bound of our own, far above what a fuzz input can hold, against a reader
         * that never reaches the end. */
        for (int i = 0; i < 1000000; i++) {
            why[0] = '\0';
            rc = article_lines_next(r, &line, &n, &lineno, why, sizeof why);
            if (rc == 0)
                break;
            if (rc == -1) {
                if (!why[0])
                    fuzz_fail("a read error without a reason", NULL);
                break;
            }
            if (lineno <= last)
                fuzz_fail("line numbers do not increase", NULL);
            last = lineno;
            if (rc == -2)
                continue;
            if (rc != 1)
                fuzz_fail("article_lines_next returned an undocumented value", NULL);
            struct article a = {0};
            why[0] = '\0';
            check_parse(article_parse_json(line, n, &a, why, sizeof why), &a, why, 1);
            article_clear(&a);
        }
        article_lines_close(r);
    } else if (!why[0]) {
        fuzz_fail("article_lines_open failed without a reason", NULL);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 8;
    /* A private copy of exactly the input, so a read past its end is caught by ASan. */
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);

    struct article a = {0};
    char why[256] = "";
    switch (which) {
    case 0:
    case 1:
        check_parse(article_parse_text(buf, len, which == 1, &a, why, sizeof why), &a, why, 0);
        break;
    case 2:
        /* Through the child process, as the indexer parses HTML: Debian's gumbo aborts on
         * some tag soup (an assertion inside it), which the isolation must contain. The
         * parent still checks everything that comes back. */
        check_parse(article_parse_html_isolated(buf, len, &a, why, sizeof why, 5), &a, why, 0);
        break;
    case 3:
        check_parse(article_parse_json(buf, len, &a, why, sizeof why), &a, why, 1);
        break;
    case 4: {
        char out[11];
        memset(out, 'X', sizeof out);
        int found = article_find_date(buf, len, out);
        if (found != 0 && found != 1)
            fuzz_fail("article_find_date returned neither 0 nor 1", NULL);
        if (found && (out[10] != '\0' || !date_ok(out)))
            fuzz_fail("article_find_date found a malformed date", NULL);
        break;
    }
    case 5: {
        size_t outlen = 0;
        char *s = article_utf8_clean(buf, len, &outlen);
        if (s) {
            if (s[outlen] != '\0' || !utf8_ok(s, outlen))
                fuzz_fail("article_utf8_clean output is not clean UTF-8", NULL);
            /* Idempotent: cleaning clean text changes nothing. */
            size_t again_len = 0;
            char *again = article_utf8_clean(s, outlen, &again_len);
            if (again && (again_len != outlen || memcmp(again, s, outlen) != 0))
                fuzz_fail("article_utf8_clean changed already clean text", NULL);
            free(again);
        }
        free(s);
        break;
    }
    case 6: {
        char *path = strndup(buf, len);
        if (path) {
            article_format f = article_format_for_path(path);
            if ((int)f < (int)ARTICLE_UNKNOWN || (int)f > (int)ARTICLE_JSONL)
                fuzz_fail("article_format_for_path returned no format", NULL);
        }
        free(path);
        break;
    }
    default:
        fuzz_lines(buf, len);
        break;
    }
    article_clear(&a);
    free(buf);
    return 0;
}
