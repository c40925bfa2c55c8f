/*
 * fuzz_article.c -- libFuzzer target: the article parsers (lib/article*.c).
 *
 * The first byte picks what to call, the rest is the input:
 *   0 article_parse_text (plain)   1 article_parse_text (markdown)   2 article_parse_html
 *   3 article_parse_json           4 article_find_date               5 article_utf8_clean
 *   6 article_format_for_path      7 article_lines_* over an in-memory file, each line
 *                                    through article_parse_json (what the indexer does)
 *   8 a .json file: article_json_doc_parse, then every record (an object or an array)
 *   9 a .gz file: the next byte picks the format inside (.txt, .md, .json, .jsonl) and
 *     what the file is: the rest of the input gzip-compressed here (intact, cut short, or
 *     with one bit flipped), or the rest taken as the .gz bytes themselves; read as the
 *     indexer reads it (article_read_file, or article_lines_* for .jsonl.gz), then parsed
 * (the byte is taken modulo 16, then modulo 10: the seeds' ASCII digits '0'..'9' pick 0..9).
 *
 * Besides the sanitizers, the target checks the promises article.h makes and abort()s
 * when one is broken: a successful parse leaves title and body non-NULL, every string
 * valid UTF-8 without NUL bytes, body_len the body's length, the title within
 * ARTICLE_MAX_TITLE_BYTES, the date "YYYY-MM-DD" or NULL; a failed parse says why. For .gz
 * files it also checks what issue 13 asks of the readers: an intact file reads back exactly
 * the bytes that were compressed, a file cut short never reads as complete (a read error,
 * never a clean end), and whatever a damaged file reads completely is the original.
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

#include <zlib.h>

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

/* Reads the JSON Lines file at path with article_lines_*, each line through the JSON parser,
 * as the indexer does with a .jsonl or .jsonl.gz file. Returns how the read ended: 0 at a
 * clean end of file, -1 on a read error (or when the file could not be opened). */
static int lines_check(const char *path)
{
    char why[256] = "";
    article_lines *r = article_lines_open(path, why, sizeof why);
    if (!r) {
        if (!why[0])
            fuzz_fail("article_lines_open failed without a reason", NULL);
        return -1;
    }
    const char *line;
    size_t n;
    unsigned long lineno = 0, last = 0;
    int rc = -1;
    /* A bound of our own, far above what a fuzz input can hold, against a reader that
     * never reaches the end. */
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
    return rc == 0 ? 0 : -1;
}

/* Runs lines_check over the input as a file (memfd: no disk, no name clashes). */
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
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    lines_check(path);
    close(fd);
}

/* A .json file held in buf: the document, then each of its records (a single object
 * without "id" takes the file's id, as the indexer gives it). */
static void fuzz_json_doc(const char *buf, size_t len)
{
    char why[256] = "";
    article_json_doc *d = article_json_doc_parse(buf, len, why, sizeof why);
    if (!d) {
        if (!why[0])
            fuzz_fail("article_json_doc_parse failed without a reason", NULL);
        return;
    }
    size_t n = article_json_doc_count(d);
    if (!article_json_doc_is_array(d) && n != 1)
        fuzz_fail("a .json object is not exactly one record", NULL);
    for (size_t i = 0; i < n && i < 100000; i++) {
        struct article a = {0};
        why[0] = '\0';
        int rc = article_json_doc_record(d, i, "fuzz/one.json", &a, why, sizeof why);
        check_parse(rc, &a, why, 1);
        article_clear(&a);
    }
    article_json_doc_free(d);
}

/* buf gzip-compressed (a gzip header and trailer, as gzip(1) writes): a new buffer the
 * caller frees, its length in *outlen; NULL when zlib fails (out of memory). */
static unsigned char *gzip_bytes(const char *buf, size_t len, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)buf;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* Writes len bytes to a new scratch file whose name ends in suffix (the readers tell a .gz
 * by its name), in $QUIRE_FUZZ_TMP (run.sh's scratch directory) or /tmp. Returns 0 with the
 * path in path, or -1. */
static int scratch_file(const char *suffix, const void *buf, size_t len, char *path, size_t pathlen)
{
    const char *dir = getenv("QUIRE_FUZZ_TMP");
    int n = snprintf(path, pathlen, "%s/fuzz_article.XXXXXX%s", dir && *dir ? dir : "/tmp", suffix);
    if (n < 0 || (size_t)n >= pathlen)
        return -1;
    int fd = mkstemps(path, (int)strlen(suffix));
    if (fd < 0)
        return -1;
    const char *p = buf;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return -1;
        }
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

/* A .gz file (see the top of the file for what the first byte of buf picks). */
static void fuzz_gz(const char *buf, size_t len)
{
    static const char *const suffixes[] = {".txt.gz", ".md.gz", ".json.gz", ".jsonl.gz"};
    enum { INTACT, CUT, CHANGED, RAW };
    if (len < 1)
        return;
    unsigned pick = (unsigned char)buf[0];
    unsigned inner = pick % 4, how = pick / 4 % 4;
    const char *content = buf + 1;
    size_t clen = len - 1;

    unsigned char *gz = NULL;
    size_t gzlen = clen;
    if (how != RAW) {
        gz = gzip_bytes(content, clen, &gzlen);
        if (!gz)
            return;
        /* Where to cut or change: from the content's own bytes, so that the fuzzer steers. */
        size_t at = clen ? ((unsigned char)content[clen - 1] * 131u + clen) % gzlen : 0;
        if (how == CUT)
            gzlen = at; /* strictly shorter: the trailer at least is missing */
        else if (how == CHANGED)
            gz[at] ^= (unsigned char)(1u << (pick / 16 % 8));
    }
    char path[4096];
    int written = scratch_file(suffixes[inner], how == RAW ? (const void *)content : gz, gzlen,
                               path, sizeof path);
    free(gz);
    if (written < 0)
        return;

    if (inner == 3) {
        int end = lines_check(path);
        unlink(path);
        if (how == CUT && end == 0)
            fuzz_fail("a .jsonl.gz cut short was read to a clean end", NULL);
        if (how == INTACT && end != 0)
            fuzz_fail("an intact .jsonl.gz did not read to its end", NULL);
        return;
    }
    char why[256] = "";
    size_t glen = 0;
    char *got = article_read_file(path, &glen, why, sizeof why);
    unlink(path);
    if (!got) {
        if (!why[0])
            fuzz_fail("article_read_file failed without a reason", NULL);
        if (how == INTACT && clen <= ARTICLE_MAX_FILE_BYTES)
            fuzz_fail("an intact .gz could not be read", why);
        return;
    }
    if (got[glen] != '\0' || glen > ARTICLE_MAX_FILE_BYTES)
        fuzz_fail("article_read_file broke its contract (NUL, size limit)", NULL);
    if (how == CUT)
        fuzz_fail("a .gz cut short was read as complete", NULL);
    /* Whatever reads completely is the original (a changed byte in the gzip header's time
     * stamp, say, changes nothing; in the data, the CRC catches it). */
    if (how != RAW && (glen != clen || memcmp(got, content, clen) != 0))
        fuzz_fail("a .gz read back other bytes than were compressed", NULL);
    if (inner == 2) {
        fuzz_json_doc(got, glen);
    } else {
        struct article a = {0};
        why[0] = '\0';
        check_parse(article_parse_text(got, glen, inner == 1, &a, why, sizeof why), &a, why, 0);
        article_clear(&a);
    }
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 16 % 10;
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
    case 3: check_parse(article_parse_json(buf, len, &a, why, sizeof why), &a, why, 1); break;
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
    case 7: fuzz_lines(buf, len); break;
    case 8: fuzz_json_doc(buf, len); break;
    default: fuzz_gz(buf, len); break;
    }
    article_clear(&a);
    free(buf);
    return 0;
}
