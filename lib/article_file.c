/*
 * article_file.c -- reading a whole input file, plain or gzip-compressed
 * (article_read_file, see article.h): text, Markdown, HTML and .json files are parsed
 * whole; JSON Lines files are read a line at a time instead (article_lines.c).
 *
 * Every way a read can stop short is an error here, never a shorter file: the indexer
 * keeps the documents of a file it could not read completely and reads it again next
 * run, whereas a file read completely replaces them. So a name ending in .gz must hold
 * gzip data (zlib would pass anything else through as it is, and a .gz cut short before
 * the end of its header would read as an empty file), and a gzip stream cut short or
 * corrupt is reported as what it is.
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

int article_gz_check(int fd, char *why, size_t whylen)
{
    unsigned char magic[2];
    ssize_t got;

    do
        got = pread(fd, magic, sizeof magic, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
        article_why(why, whylen, "read error: %s", strerror(errno));
        return -1;
    }
    if (got < 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
        article_why(why, whylen, "not gzip data (truncated or corrupt .gz)");
        return -1;
    }
    return 0;
}

const char *article_gz_error(gzFile gz)
{
    int errnum = Z_OK;
    const char *msg = gzerror(gz, &errnum), *colon;

    if (errnum == Z_ERRNO)
        return strerror(errno);
    if (errnum == Z_MEM_ERROR)
        return ARTICLE_OOM;
    if (msg == NULL || msg[0] == '\0')
        return "unknown error";
    /* zlib names the file first, and a gzdopen'ed one is "<fd:12>": noise in a message
     * that names the file already. */
    if (strncmp(msg, "<fd:", 4) == 0 && (colon = strstr(msg, ">: ")) != NULL)
        msg = colon + 3;
    return msg;
}

/* Why gzip reading stopped. */
static void gz_why(gzFile gz, char *why, size_t whylen)
{
    article_why(why, whylen, "gzip read error (truncated or corrupt .gz): %s",
                article_gz_error(gz));
}

/* Reads up to max bytes from fd, or from gz when it is not NULL, into a growing buffer.
 * Returns the buffer, or NULL with a reason (past max is "too large"). */
static char *read_all(int fd, gzFile gz, size_t max, size_t hint, size_t *len, char *why,
                      size_t whylen)
{
    size_t cap = hint + 1, n = 0;
    char *buf = malloc(cap);

    if (buf == NULL) {
        article_why(why, whylen, "%s", ARTICLE_OOM);
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            /* The file grew while we read it, or decompresses to more: bounded all the
             * same (one byte past max tells "too large"). */
            size_t ncap = cap > max / 2 ? max + 2 : cap * 2;
            char *nb;
            if (n > max) {
                article_why(why, whylen, "%s past %u bytes", gz ? "decompresses" : "grew",
                            ARTICLE_MAX_FILE_BYTES);
                free(buf);
                return NULL;
            }
            if ((nb = realloc(buf, ncap)) == NULL) {
                article_why(why, whylen, "%s", ARTICLE_OOM);
                free(buf);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - n - 1;
        ssize_t got;
        if (gz != NULL) {
            int g = gzread(gz, buf + n, want > (1u << 30) ? (1u << 30) : (unsigned)want);
            if (g < 0) {
                gz_why(gz, why, whylen);
                free(buf);
                return NULL;
            }
            if (g == 0) {
                /* A truncated gzip member shows up here as Z_BUF_ERROR, not as EOF. */
                int errnum = Z_OK;
                gzerror(gz, &errnum);
                if (errnum != Z_OK) {
                    gz_why(gz, why, whylen);
                    free(buf);
                    return NULL;
                }
            }
            got = g;
        } else {
            got = read(fd, buf + n, want);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                article_why(why, whylen, "read error: %s", strerror(errno));
                free(buf);
                return NULL;
            }
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > max) {
        article_why(why, whylen, "%s past %u bytes", gz ? "decompresses" : "grew",
                    ARTICLE_MAX_FILE_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

char *article_read_file(const char *path, size_t *len, char *why, size_t whylen)
{
    struct stat st;
    gzFile gz = NULL;
    char *buf;
    int fd;

    if (path == NULL || len == NULL) {
        article_why(why, whylen, "invalid arguments");
        return NULL;
    }
    /* O_NONBLOCK: a FIFO put in place of the file must not block the run. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        article_why(why, whylen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        article_why(why, whylen, "not a regular file");
        close(fd);
        return NULL;
    }
    if (st.st_size > (off_t)ARTICLE_MAX_FILE_BYTES) {
        article_why(why, whylen, "file is %lld bytes; the most allowed is %u",
                    (long long)st.st_size, ARTICLE_MAX_FILE_BYTES);
        close(fd);
        return NULL;
    }
    if (article_path_gz(path)) {
        if (article_gz_check(fd, why, whylen) < 0) {
            close(fd);
            return NULL;
        }
        /* gzdopen takes over fd only when it succeeds. */
        if ((gz = gzdopen(fd, "rb")) == NULL) {
            close(fd);
            article_why(why, whylen, "%s", ARTICLE_OOM);
            return NULL;
        }
    }
    size_t hint = (size_t)st.st_size;
    if (gz != NULL) /* text compresses about 3 to 1 */
        hint = hint > ARTICLE_MAX_FILE_BYTES / 4 ? ARTICLE_MAX_FILE_BYTES : hint * 4;
    buf = read_all(fd, gz, ARTICLE_MAX_FILE_BYTES, hint, len, why, whylen);
    if (gz != NULL)
        gzclose(gz);
    else
        close(fd);
    return buf;
}
