/*
 * article_child.c -- the HTML parser in a child process (article_parse_html_isolated,
 * see article.h), so that a crash or an endless loop inside gumbo costs one file, not
 * the indexer.
 *
 * The child parses and sends the fields back over a pipe as length-prefixed strings; the
 * parent bounds what it reads (a few times the input), and an alarm bounds the child's
 * time. A child that dies, overruns or sends a malformed answer is "could not read now"
 * (-2), which the indexer retries on its next run rather than treating as bad input.
 */
#include "article_int.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

/* Writes one length-prefixed field (a NULL string is length SIZE_MAX). */
static int write_field(int fd, const char *s, size_t len)
{
    size_t n = s ? len : SIZE_MAX;
    if (util_write_all(fd, &n, sizeof n) < 0)
        return -1;
    return s ? util_write_all(fd, s, len) : 0;
}

/* Reads one length-prefixed field from p (of end); NULL for an absent field. Advances *p;
 * sets *bad on a malformed message. Returns a new string or NULL. */
static char *read_field(const char **p, const char *end, size_t *len, int *bad)
{
    size_t n;
    if ((size_t)(end - *p) < sizeof n) {
        *bad = 1;
        return NULL;
    }
    memcpy(&n, *p, sizeof n);
    *p += sizeof n;
    if (n == SIZE_MAX)
        return NULL;
    if ((size_t)(end - *p) < n) {
        *bad = 1;
        return NULL;
    }
    char *s = malloc(n + 1);
    if (!s) {
        *bad = 1;
        return NULL;
    }
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += n;
    if (len)
        *len = n;
    return s;
}

static int parse_html_child(const char *buf, size_t len, struct article *out, char *why,
                            size_t whylen, unsigned timeout_s);

int article_parse_html_isolated(const char *buf, size_t len, struct article *out, char *why,
                                size_t whylen, unsigned timeout_s)
{
    /* Converted here, so the child gets UTF-8 and says nothing about charsets. */
    char *utf8 = NULL;
    size_t ulen = 0;
    int recoded =
        len <= ARTICLE_MAX_FILE_BYTES ? article_recode(buf, len, 1, &utf8, &ulen, NULL, 0) : 0;
    if (recoded < 0) {
        article_why(why, whylen, "%s", ARTICLE_OOM);
        return -2;
    }
    int rc = parse_html_child(recoded ? utf8 : buf, recoded ? ulen : len, out, why, whylen,
                              timeout_s);
    free(utf8);
    return rc;
}

static int parse_html_child(const char *buf, size_t len, struct article *out, char *why,
                            size_t whylen, unsigned timeout_s)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(why, whylen, "cannot make a pipe: %s", strerror(errno));
        return -2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "cannot fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -2;
    }
    if (pid == 0) {
        /* Child: parse, send the fields back, exit without running the parent's atexit
         * handlers or flushing its stdio buffers. */
        close(fds[0]);
        alarm(timeout_s ? timeout_s : 1);
        struct article a = {0};
        char w[512] = "";
        int rc = article_parse_html(buf, len, &a, w, sizeof w);
        int ok = util_write_all(fds[1], &rc, sizeof rc) == 0;
        if (rc == 0)
            ok = ok && write_field(fds[1], a.title, a.title ? strlen(a.title) : 0) == 0 &&
                 write_field(fds[1], a.body, a.body_len) == 0 &&
                 write_field(fds[1], a.date, a.date ? strlen(a.date) : 0) == 0;
        else
            ok = ok && write_field(fds[1], w, strlen(w)) == 0;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    /* Read everything the child sends (bounded: at most a few times the input). */
    size_t cap = 4096, n = 0, limit = len * 4 + (1u << 20);
    char *msg = malloc(cap);
    int overflow = 0;
    while (msg) {
        if (n == cap) {
            if (cap >= limit) {
                overflow = 1;
                break;
            }
            char *bigger = realloc(msg, cap * 2);
            if (!bigger)
                break;
            msg = bigger;
            cap *= 2;
        }
        ssize_t got = read(fds[0], msg + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fds[0]);
    int status = 0;
    if (overflow)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!msg) {
        snprintf(why, whylen, "out of memory");
        return -2;
    }
    if (WIFSIGNALED(status)) {
        free(msg);
        snprintf(why, whylen, WTERMSIG(status) == SIGALRM
                                  ? "HTML parser ran past its %u s limit"
                                  : "HTML parser crashed (signal %d)",
                 WTERMSIG(status) == SIGALRM ? (timeout_s ? timeout_s : 1)
                                             : (unsigned)WTERMSIG(status));
        return -2;
    }
    const char *p = msg, *end = msg + n;
    int rc, bad = overflow || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
                  n < sizeof rc;
    if (!bad) {
        memcpy(&rc, p, sizeof rc);
        p += sizeof rc;
    }
    if (!bad && rc != 0) {
        char *w = read_field(&p, end, NULL, &bad);
        snprintf(why, whylen, "%s", w && !bad ? w : "HTML parser failed");
        free(w);
        free(msg);
        return -1;
    }
    size_t blen = 0;
    char *title = bad ? NULL : read_field(&p, end, NULL, &bad);
    char *body = bad ? NULL : read_field(&p, end, &blen, &bad);
    char *date = bad ? NULL : read_field(&p, end, NULL, &bad);
    free(msg);
    if (bad || !title || !body) {
        free(title);
        free(body);
        free(date);
        snprintf(why, whylen, "HTML parser returned a malformed result");
        return -2;
    }
    /* As article_parse_html does: replace only the fields it sets. */
    free(out->title);
    free(out->body);
    free(out->date);
    out->title = title;
    out->body = body;
    out->body_len = blen;
    out->date = date;
    return 0;
}
