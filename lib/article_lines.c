/*
 * article_lines.c -- reading JSON Lines files (.jsonl, .ndjson, plain or gzip-compressed)
 * a line at a time (article_lines_*, see article.h); each line is then one record for
 * article_parse_json.
 *
 * zlib's gz* functions read plain files transparently, so one reader serves both. A line
 * is assembled across read blocks and bounded by ARTICLE_MAX_LINE_BYTES: a longer one is
 * skipped (and said so), never held in memory. A read error -- EIO, a truncated or corrupt
 * gzip stream -- is sticky: every later call repeats it, so the caller cannot mistake a
 * file read half way for a complete one.
 */
#include "article_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

/* article_lines reads the file in blocks of this size. */
#define LINES_BLOCK 65536

struct article_lines {
    gzFile gz;
    char *block;       /* read buffer: [pos, len) not yet consumed */
    size_t pos, len;
    char *line;        /* the line being assembled, at most ARTICLE_MAX_LINE_BYTES + 1 */
    size_t line_len, line_cap;
    unsigned long lineno;
    int skipping;      /* the current line is too long: drop bytes until its newline */
    int eof;
    char error[256];   /* set once a read failed; every later call repeats it */
};

article_lines *article_lines_open(const char *path, char *why, size_t whylen)
{
    article_lines *r;
    struct stat st;
    int fd;

    if (path == NULL) {
        article_why(why, whylen, "invalid arguments");
        return NULL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        article_why(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        article_why(why, whylen, "cannot read %s: %s", path, strerror(EISDIR));
        return NULL;
    }
    char gzwhy[128];
    if (article_path_gz(path) && article_gz_check(fd, gzwhy, sizeof gzwhy) < 0) {
        close(fd);
        article_why(why, whylen, "cannot read %s: %s", path, gzwhy);
        return NULL;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL || (r->block = malloc(LINES_BLOCK)) == NULL) {
        free(r);
        close(fd);
        article_why(why, whylen, "cannot read %s: %s", path, ARTICLE_OOM);
        return NULL;
    }
    /* gzdopen reads plain files transparently, so one reader serves .jsonl and
     * .jsonl.gz; it takes over fd only when it succeeds. */
    r->gz = gzdopen(fd, "rb");
    if (r->gz == NULL) {
        close(fd);
        free(r->block);
        free(r);
        article_why(why, whylen, "cannot read %s: %s", path, ARTICLE_OOM);
        return NULL;
    }
    gzbuffer(r->gz, 128 * 1024);
    return r;
}

/* Records a read error from zlib (or errno) as the reader's sticky reason. */
static void lines_fail(article_lines *r)
{
    snprintf(r->error, sizeof r->error, "read error after line %lu: %s", r->lineno,
             article_gz_error(r->gz));
}

/* Appends [s, s+n) to the line being assembled, or starts skipping it when it grows
 * past the limit. The +1 leaves room for a "\r" before the newline. Returns -1 when out
 * of memory. */
static int lines_append(article_lines *r, const char *s, size_t n)
{
    size_t need, cap;
    char *p;

    if (r->skipping || n == 0)
        return 0;
    if (n > (size_t)ARTICLE_MAX_LINE_BYTES + 1 - r->line_len) {
        r->skipping = 1;
        r->line_len = 0;
        return 0;
    }
    need = r->line_len + n + 1;
    if (need > r->line_cap) {
        cap = r->line_cap ? r->line_cap : 4096;
        while (cap < need)
            cap *= 2;
        p = realloc(r->line, cap);
        if (p == NULL)
            return -1;
        r->line = p;
        r->line_cap = cap;
    }
    memcpy(r->line + r->line_len, s, n);
    r->line_len += n;
    return 0;
}

int article_lines_next(article_lines *r, const char **line, size_t *len, unsigned long *lineno,
                       char *why, size_t whylen)
{
    if (r == NULL || line == NULL || len == NULL) {
        article_why(why, whylen, "invalid arguments");
        return -1;
    }
    if (lineno != NULL)
        *lineno = r->lineno;
    if (r->error[0] != '\0') {
        article_why(why, whylen, "%s", r->error);
        return -1;
    }
    r->line_len = 0; /* the previous line was handed out; its buffer is reused */
    for (;;) {
        const char *start, *nl;
        size_t seg;
        int got;

        if (r->pos == r->len) {
            if (r->eof) {
                if (r->line_len == 0 && !r->skipping)
                    return 0;
                break; /* a last line without a newline */
            }
            got = gzread(r->gz, r->block, LINES_BLOCK);
            if (got < 0) {
                lines_fail(r);
                article_why(why, whylen, "%s", r->error);
                return -1;
            }
            if (got == 0) {
                /* A truncated gzip member shows up here as Z_BUF_ERROR, not as EOF. */
                int errnum = Z_OK;
                gzerror(r->gz, &errnum);
                if (errnum != Z_OK) {
                    lines_fail(r);
                    article_why(why, whylen, "%s", r->error);
                    return -1;
                }
                r->eof = 1;
            }
            r->pos = 0;
            r->len = (size_t)got;
            continue;
        }
        start = r->block + r->pos;
        nl = memchr(start, '\n', r->len - r->pos);
        seg = nl ? (size_t)(nl - start) : r->len - r->pos;
        if (lines_append(r, start, seg) < 0) {
            snprintf(r->error, sizeof r->error, "line %lu: %s", r->lineno + 1, ARTICLE_OOM);
            article_why(why, whylen, "%s", r->error);
            return -1;
        }
        r->pos += seg + (nl != NULL);
        if (nl != NULL)
            break;
    }
    r->lineno++;
    if (lineno != NULL)
        *lineno = r->lineno;
    if (r->line_len > 0 && r->line[r->line_len - 1] == '\r')
        r->line_len--;
    if (r->skipping || r->line_len > ARTICLE_MAX_LINE_BYTES) {
        r->skipping = 0;
        r->line_len = 0;
        article_why(why, whylen, "line %lu is longer than %u bytes (skipped)", r->lineno,
                    ARTICLE_MAX_LINE_BYTES);
        return -2;
    }
    if (r->line == NULL) { /* an empty first line: hand out "" all the same */
        if ((r->line = malloc(1)) == NULL) {
            snprintf(r->error, sizeof r->error, "line %lu: %s", r->lineno, ARTICLE_OOM);
            article_why(why, whylen, "%s", r->error);
            return -1;
        }
        r->line_cap = 1;
    }
    r->line[r->line_len] = '\0';
    *line = r->line;
    *len = r->line_len;
    /* A UTF-8 byte order mark (editors on Windows write one) is not part of the first
     * record: left in, it makes the line invalid JSON. */
    if (r->lineno == 1 && *len >= 3 && memcmp(*line, "\xEF\xBB\xBF", 3) == 0) {
        *line += 3;
        *len -= 3;
    }
    return 1;
}

size_t article_lines_offset(const article_lines *r)
{
    if (r == NULL)
        return 0;
    z_off_t off = gzoffset(r->gz);
    return off > 0 ? (size_t)off : 0;
}

void article_lines_close(article_lines *r)
{
    if (r == NULL)
        return;
    gzclose(r->gz);
    free(r->block);
    free(r->line);
    free(r);
}
