/*
 * quire-eval -- the relevance harness: runs a test collection's queries through Quire's
 * search path and scores the rankings against graded judgements, as trec_eval would.
 *
 * What is measured is what a user gets. In the default mode every query goes through the
 * library functions the daemon itself calls (search_request_set for each parameter, then
 * search_run); with --url the same parameters go over HTTP to a running quired, so the two
 * modes can be compared run file against run file. The HTTP client is a minimal
 * HTTP/1.0 GET over a TCP socket rather than a dependency on libcurl: the harness links
 * only libquire and jansson, and it only ever talks to our own daemon. It is bounded like
 * every other input: 64 KiB of headers, 16 MiB of body, 10 s per request.
 *
 * Query cleaning. Test queries are natural language ("What causes IL-6 (interleukin) to
 * rise?", "AND", "NOT", quotes, hyphens, slashes). Quire's parser reads those as syntax:
 * parentheses group, a leading '-' excludes, "AND"/"OR"/"NOT" are operators, and an
 * unbalanced quote makes a phrase. The search code falls back to plain words only when
 * the syntax does not parse at all, so a query that happens to parse would be evaluated
 * as something its author never meant. Before searching, the harness therefore keeps
 * ASCII letters and digits and every non-ASCII byte (so UTF-8 words stay whole; Xapian
 * itself treats non-ASCII punctuation as a word separator), replaces every other byte
 * by a space, and lower-cases ASCII, so "AND" is the word "and". What remains is a list
 * of plain words combined with the chosen operator (--op), exactly as if a user had
 * typed them without syntax.
 *
 * Metrics follow trec_eval (ndcg_cut.10, map_cut.100, recall.100): nDCG@10 with the
 * qrels score as the gain (scores <= 0 give nothing) and a log2(rank + 1) discount,
 * normalised by the ideal ordering of all the query's judged documents; AP@100 as the
 * sum of precision at each relevant document in the top 100 divided by the query's total
 * number of relevant documents; Recall@100. A document is relevant when its score is
 * > 0. Each is averaged over the queries with at least one relevant judgement, including
 * those that find nothing (as trec_eval -c); the other queries are not run and are
 * reported as skipped. Unlike trec_eval, which re-sorts a run by (score, docno), equal
 * scores keep the engine's order: we measure the ranking users see. A run file (--run)
 * feeds trec_eval directly when a second opinion is wanted.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "number.h"
#include "search.h"
#include "util.h"

#define EXIT_USAGE 2

#define MAX_LINE (64 * 1024)  /* one line of queries.jsonl or qrels.tsv */
#define MAX_QUERIES 100000
#define MAX_JUDGEMENTS 10000000
#define MAX_GAIN 1000000      /* |score| in qrels */
#define MAX_TAG 64
#define DEPTH 100             /* hits asked for, and the cut of MAP and recall */
#define NDCG_CUT 10
#define HTTP_MAX_HEADERS (64 * 1024)
#define HTTP_MAX_BODY (16 * 1024 * 1024)
#define HTTP_TIMEOUT_S 10

struct judgement {
    char *doc;
    int gain;
    int seen; /* already counted in the current ranking (guards against repeated ids) */
};

struct query {
    char *id;
    char *text; /* cleaned */
    struct judgement *j;
    size_t nj, capj;
    size_t nrel; /* judgements with gain > 0 */
};

struct collection {
    struct query *q; /* in file order */
    size_t n, cap;
    struct query **byid; /* sorted by id, for lookups */
};

struct hit {
    const char *id; /* borrowed from the result JSON */
    double score;
};

struct http_target {
    char host[256];
    char port[8];
    char hostport[300]; /* for the Host header */
    char prefix[512];   /* path before /search, without a trailing '/' */
};

struct options {
    const char *db, *queries, *qrels, *run, *url;
    char tag[MAX_TAG + 1];
    const char *op; /* "and", "or" or NULL for the search code's default */
    int json;
};

struct totals {
    size_t evaluated, skipped;
    double ndcg, map, recall;
    double ms;
};

/* Prints "quire-eval: MESSAGE" to stderr; returns -1 so callers can `return errorf(...)`. */
static int errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("quire-eval: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

/* malloc that never returns NULL: out of memory ends the program (exit 2). */
static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        errorf("out of memory");
        exit(EXIT_USAGE);
    }
    return p;
}

/* Grows *v (elements of size sz) so it holds at least n + 1 elements. */
static void grow(void **v, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*v, ncap * sz);
    if (!p) {
        errorf("out of memory");
        exit(EXIT_USAGE);
    }
    *v = p;
    *cap = ncap;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* Reads one line into buf (MAX_LINE + 2 bytes) without its newline (and CR). Returns 1, 0
 * at end of file, -1 (reported) for an over-long line or a read error. */
static int read_line(FILE *f, const char *path, unsigned long lineno, char *buf)
{
    if (!fgets(buf, MAX_LINE + 2, f)) {
        if (ferror(f))
            return errorf("%s: read error: %s", path, strerror(errno));
        return 0;
    }
    size_t len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    else if (!feof(f))
        return errorf("%s:%lu: line is longer than %d bytes", path, lineno, MAX_LINE);
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return 1;
}

/* ---- queries ------------------------------------------------------------------------- */

/* Rewrites s in place into lower-case plain words (see the file comment): ASCII letters
 * and digits and all non-ASCII bytes are kept, any run of other bytes becomes one space,
 * and leading and trailing separators are dropped. */
static void query_clean(char *s)
{
    char *w = s;
    int gap = 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        int word = c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                   (c >= 'A' && c <= 'Z');
        if (!word) {
            gap = 1;
            continue;
        }
        if (gap && w != s)
            *w++ = ' ';
        gap = 0;
        *w++ = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    *w = '\0';
}

/* Compares two queries by id, for qsort and bsearch over struct query pointers. */
static int query_cmp(const void *a, const void *b)
{
    return strcmp((*(struct query *const *)a)->id, (*(struct query *const *)b)->id);
}

/* The query with this id, or NULL. */
static struct query *query_find(const struct collection *c, const char *id)
{
    struct query key = {.id = (char *)id};
    struct query *kp = &key;
    struct query **hit = bsearch(&kp, c->byid, c->n, sizeof *c->byid, query_cmp);
    return hit ? *hit : NULL;
}

/* Loads queries.jsonl: one {"id": string or integer, "text": string} per line; blank
 * lines are skipped. Ids must be unique. Returns 0 or -1 (reported). */
static int queries_load(struct collection *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errorf("cannot open queries file %s: %s", path, strerror(errno));
    char *buf = xmalloc(MAX_LINE + 2);
    unsigned long lineno = 0;
    int rc = 0, r;
    while ((r = read_line(f, path, ++lineno, buf)) > 0) {
        if (buf[strspn(buf, " \t")] == '\0')
            continue;
        json_error_t jerr;
        json_t *o = json_loads(buf, JSON_REJECT_DUPLICATES, &jerr);
        json_t *id = o ? json_object_get(o, "id") : NULL;
        json_t *text = o ? json_object_get(o, "text") : NULL;
        char num[32];
        const char *ids = NULL;
        if (json_is_string(id))
            ids = json_string_value(id);
        else if (json_is_integer(id)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(id));
            ids = num;
        }
        if (!o || !json_is_object(o) || !ids || !*ids || !json_is_string(text)) {
            rc = errorf("%s:%lu: expected a JSON object with \"id\" (string or integer) and "
                        "\"text\" (string)%s%s",
                        path, lineno, o ? "" : ": ", o ? "" : jerr.text);
            json_decref(o);
            break;
        }
        if (c->n >= MAX_QUERIES) {
            rc = errorf("%s: more than %d queries", path, MAX_QUERIES);
            json_decref(o);
            break;
        }
        grow((void **)&c->q, &c->cap, c->n, sizeof *c->q);
        struct query *q = &c->q[c->n++];
        memset(q, 0, sizeof *q);
        q->id = xstrdup(ids);
        q->text = xstrdup(json_string_value(text));
        query_clean(q->text);
        json_decref(o);
    }
    if (r < 0)
        rc = -1;
    free(buf);
    fclose(f);
    if (rc < 0)
        return -1;
    if (c->n == 0)
        return errorf("%s holds no queries", path);
    c->byid = xmalloc(c->n * sizeof *c->byid);
    for (size_t i = 0; i < c->n; i++)
        c->byid[i] = &c->q[i];
    qsort(c->byid, c->n, sizeof *c->byid, query_cmp);
    for (size_t i = 1; i < c->n; i++)
        if (strcmp(c->byid[i - 1]->id, c->byid[i]->id) == 0)
            return errorf("%s: query id '%.200s' appears twice", path, c->byid[i]->id);
    return 0;
}

/* ---- judgements ---------------------------------------------------------------------- */

/* Compares two judgements by document id. */
static int judgement_cmp(const void *a, const void *b)
{
    return strcmp(((const struct judgement *)a)->doc, ((const struct judgement *)b)->doc);
}

/* The judgement of doc for q, or NULL when doc is unjudged. */
static struct judgement *judgement_find(struct query *q, const char *doc)
{
    struct judgement key = {.doc = (char *)doc};
    return bsearch(&key, q->j, q->nj, sizeof *q->j, judgement_cmp);
}

/* Loads qrels.tsv: an optional header starting with "query-id", then
 * query-id<TAB>corpus-id<TAB>score lines with an integer score. Judgements of queries not
 * in the queries file are ignored, as trec_eval does. A (query, doc) pair judged twice is
 * refused: it has no single meaning. Returns 0 or -1 (reported). */
static int qrels_load(struct collection *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errorf("cannot open qrels file %s: %s", path, strerror(errno));
    char *buf = xmalloc(MAX_LINE + 2);
    unsigned long lineno = 0, count = 0;
    int rc = 0, r;
    while ((r = read_line(f, path, ++lineno, buf)) > 0) {
        if (lineno == 1 && strncmp(buf, "query-id", 8) == 0)
            continue;
        if (buf[0] == '\0')
            continue;
        char *qid = buf, *doc = strchr(qid, '\t'), *score = doc ? strchr(doc + 1, '\t') : NULL;
        if (!doc || !score || strchr(score + 1, '\t')) {
            rc = errorf("%s:%lu: expected query-id<TAB>corpus-id<TAB>score", path, lineno);
            break;
        }
        *doc++ = '\0';
        *score++ = '\0';
        long g;
        if (!*qid || !*doc || num_parse_long(score, -MAX_GAIN, MAX_GAIN, &g) != NUM_OK) {
            rc = errorf("%s:%lu: expected non-empty ids and an integer score from %d to %d", path,
                        lineno, -MAX_GAIN, MAX_GAIN);
            break;
        }
        if (++count > MAX_JUDGEMENTS) {
            rc = errorf("%s: more than %d judgements", path, MAX_JUDGEMENTS);
            break;
        }
        struct query *q = query_find(c, qid);
        if (!q)
            continue;
        grow((void **)&q->j, &q->capj, q->nj, sizeof *q->j);
        q->j[q->nj++] = (struct judgement){.doc = xstrdup(doc), .gain = (int)g};
        if (g > 0)
            q->nrel++;
    }
    if (r < 0)
        rc = -1;
    free(buf);
    fclose(f);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        struct query *q = &c->q[i];
        qsort(q->j, q->nj, sizeof *q->j, judgement_cmp);
        for (size_t k = 1; k < q->nj; k++)
            if (strcmp(q->j[k - 1].doc, q->j[k].doc) == 0)
                return errorf("%s: query '%.200s' judges document '%.200s' twice", path, q->id,
                              q->j[k].doc);
    }
    return 0;
}

/* ---- metrics ------------------------------------------------------------------------- */

/* log2(rank + 1) for ranks 1..NDCG_CUT: the nDCG discount. A table rather than log2()
 * because the program links no libm (Makefile.am gives it libquire and jansson only). */
static const double log2_rank1[NDCG_CUT] = {
    1.0, 1.584962500721156, 2.0, 2.321928094887362, 2.584962500721156,
    2.807354922057604, 3.0, 3.169925001442312, 3.321928094887362, 3.4594316186372973,
};

/* Compares gains, highest first. */
static int gain_desc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);
}

/* Scores one ranking of q (hits in engine order) and adds nDCG@10, AP@100 and R@100 to t.
 * q->nrel must be > 0. */
static void score_query(struct query *q, const struct hit *hits, size_t n, struct totals *t)
{
    for (size_t k = 0; k < q->nj; k++)
        q->j[k].seen = 0;
    double dcg = 0, ap = 0;
    size_t found = 0;
    for (size_t i = 0; i < n && i < DEPTH; i++) {
        struct judgement *j = judgement_find(q, hits[i].id);
        if (!j || j->seen)
            continue;
        j->seen = 1;
        if (j->gain <= 0)
            continue;
        if (i < NDCG_CUT)
            dcg += j->gain / log2_rank1[i];
        found++;
        ap += (double)found / (double)(i + 1);
    }
    int *gains = xmalloc(q->nj * sizeof *gains);
    for (size_t k = 0; k < q->nj; k++)
        gains[k] = q->j[k].gain;
    qsort(gains, q->nj, sizeof *gains, gain_desc);
    double idcg = 0;
    for (size_t k = 0; k < q->nj && k < NDCG_CUT && gains[k] > 0; k++)
        idcg += gains[k] / log2_rank1[k];
    free(gains);
    t->ndcg += idcg > 0 ? dcg / idcg : 0;
    t->map += ap / (double)q->nrel;
    t->recall += (double)found / (double)q->nrel;
    t->evaluated++;
}

/* ---- searching: the library ------------------------------------------------------------ */

/* Runs text through the daemon's search path on ix. Returns the result JSON (caller
 * decrefs) or NULL (reported, naming the query). */
static json_t *search_lib(struct search_index *ix, const struct query *q, const char *op)
{
    struct search_request req;
    struct search_error err = {0};
    char limit[16];
    snprintf(limit, sizeof limit, "%d", DEPTH);
    search_request_init(&req);
    json_t *res = NULL;
    if (search_request_set(&req, "q", q->text, &err) == 0 &&
        search_request_set(&req, "limit", limit, &err) == 0 &&
        search_request_set(&req, "snippet", "0", &err) == 0 &&
        (!op || search_request_set(&req, "op", op, &err) == 0) &&
        search_request_set(&req, "dedup", "0", &err) == 0)
        res = search_run(ix, &req, &err);
    search_request_clear(&req);
    if (!res)
        errorf("query '%.200s': search failed (%s): %s", q->id, err.code ? err.code : "error",
               err.message);
    return res;
}

/* ---- searching: HTTP to a running quired ------------------------------------------------ */

/* Splits http://HOST[:PORT][/PREFIX] into t. Returns 0 or -1 (reported). */
static int url_parse(const char *url, struct http_target *t)
{
    memset(t, 0, sizeof *t);
    if (strncasecmp(url, "http://", 7) != 0)
        return errorf("--url must start with http:// (got '%.200s')", url);
    const char *h = url + 7, *hend, *p;
    if (*h == '[') { /* an IPv6 literal */
        hend = strchr(h, ']');
        if (!hend)
            return errorf("--url: unterminated [IPv6] host in '%.200s'", url);
        h++;
        p = hend + 1;
    } else {
        hend = h + strcspn(h, ":/");
        p = hend;
    }
    size_t hlen = (size_t)(hend - h);
    if (hlen == 0 || hlen >= sizeof t->host)
        return errorf("--url: the host must be 1 to %zu bytes", sizeof t->host - 1);
    memcpy(t->host, h, hlen);
    snprintf(t->port, sizeof t->port, "80");
    if (*p == ':') {
        p++;
        size_t plen = strcspn(p, "/");
        long port;
        if (num_parse_span(p, plen, 10, 1, 65535, &port) != NUM_OK)
            return errorf("--url: the port must be a number from 1 to 65535");
        snprintf(t->port, sizeof t->port, "%ld", port);
        p += plen;
    }
    size_t plen = strlen(p);
    while (plen > 0 && p[plen - 1] == '/')
        plen--;
    if (plen >= sizeof t->prefix || memchr(p, '?', plen) || memchr(p, ' ', plen))
        return errorf("--url: the path must be under %zu bytes, without '?' or spaces",
                      sizeof t->prefix);
    memcpy(t->prefix, p, plen);
    snprintf(t->hostport, sizeof t->hostport, "%s%s%s:%s", strchr(t->host, ':') ? "[" : "",
             t->host, strchr(t->host, ':') ? "]" : "", t->port);
    return 0;
}

/* Appends s percent-encoded (everything but RFC 3986 unreserved characters). */
static void url_encode(struct strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            sb_putc(sb, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sb_append(sb, e, 3);
        }
    }
}

/* Connects to t with send and receive timeouts set (on Linux SO_SNDTIMEO also bounds
 * connect()). Returns the socket or -1 (reported). */
static int http_connect(const struct http_target *t)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    int gai = getaddrinfo(t->host, t->port, &hints, &ai);
    if (gai != 0)
        return errorf("cannot resolve %s: %s", t->host, gai_strerror(gai));
    int fd = -1, saved = 0;
    struct timeval tv = {.tv_sec = HTTP_TIMEOUT_S};
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 &&
            connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return errorf("cannot connect to %s: %s", t->hostport, strerror(saved));
    return fd;
}

/* The value of Content-Length in the header block hdr (NUL-terminated), -1 when absent,
 * -2 when malformed. Sets *chunked when the body is chunked (which we do not decode). */
static long long http_content_length(const char *hdr, int *chunked)
{
    long long len = -1;
    *chunked = 0;
    for (const char *l = strstr(hdr, "\r\n"); l; l = strstr(l, "\r\n")) {
        l += 2;
        if (strncasecmp(l, "Content-Length:", 15) == 0) {
            const char *v = l + 15 + strspn(l + 15, " \t");
            long n;
            if (num_parse_span(v, strcspn(v, " \t\r"), 10, 0, LONG_MAX, &n) != NUM_OK)
                return -2;
            len = n;
        } else if (strncasecmp(l, "Transfer-Encoding:", 18) == 0) {
            *chunked = 1;
        }
    }
    return len;
}

/* GETs PREFIX/search?... from t for q. Returns the parsed JSON body of a 200 answer
 * (caller decrefs) or NULL (reported, naming the query). Every step is bounded: the
 * response size, each socket wait and the whole exchange (HTTP_TIMEOUT_S). */
static json_t *search_http(const struct http_target *t, const struct query *q, const char *op)
{
    struct strbuf req;
    sb_init(&req);
    sb_printf(&req, "GET %s/search?q=", t->prefix);
    url_encode(&req, q->text);
    sb_printf(&req, "&limit=%d&snippet=0%s%s&dedup=0 HTTP/1.0\r\nHost: %s\r\n"
                    "Accept: application/json\r\nConnection: close\r\n\r\n",
              DEPTH, op ? "&op=" : "", op ? op : "", t->hostport);
    if (req.failed) {
        sb_free(&req);
        errorf("out of memory");
        return NULL;
    }
    int fd = http_connect(t);
    if (fd < 0) {
        sb_free(&req);
        return NULL;
    }
    json_t *res = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, hdr_end = 0;
    long long clen = -1;
    double deadline = util_now_ms() + HTTP_TIMEOUT_S * 1000.0;
    for (size_t off = 0; off < req.len;) {
        ssize_t w = send(fd, req.buf + off, req.len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            errorf("query '%.200s': sending to %s failed: %s", q->id, t->hostport,
                   w < 0 ? strerror(errno) : "connection closed");
            goto out;
        }
        off += (size_t)w;
    }
    for (;;) {
        if (util_now_ms() > deadline) {
            errorf("query '%.200s': %s took longer than %d s to answer", q->id, t->hostport,
                   HTTP_TIMEOUT_S);
            goto out;
        }
        if (len + 65536 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 262144;
            if (ncap > HTTP_MAX_HEADERS + HTTP_MAX_BODY + 65536 + 1)
                ncap = HTTP_MAX_HEADERS + HTTP_MAX_BODY + 65536 + 1;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                errorf("out of memory");
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            errorf("query '%.200s': reading from %s failed: %s", q->id, t->hostport,
                   errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if (!hdr_end) {
            char *e = strstr(buf, "\r\n\r\n");
            if (e) {
                hdr_end = (size_t)(e - buf) + 4;
                *e = '\0';
                int chunked;
                clen = http_content_length(buf, &chunked);
                *e = '\r';
                if (hdr_end > HTTP_MAX_HEADERS) {
                    errorf("query '%.200s': response headers exceed %d bytes", q->id,
                           HTTP_MAX_HEADERS);
                    goto out;
                }
                if (chunked || clen == -2) {
                    errorf("query '%.200s': %s sent a %s body, which this client does not read",
                           q->id, t->hostport, chunked ? "chunked" : "malformed Content-Length");
                    goto out;
                }
            } else if (len > HTTP_MAX_HEADERS) {
                errorf("query '%.200s': response headers exceed %d bytes", q->id,
                       HTTP_MAX_HEADERS);
                goto out;
            }
        }
        if (hdr_end && len - hdr_end > HTTP_MAX_BODY) {
            errorf("query '%.200s': response body exceeds %d bytes", q->id, HTTP_MAX_BODY);
            goto out;
        }
        if (hdr_end && clen >= 0 && len - hdr_end >= (size_t)clen)
            break;
    }
    if (!hdr_end) {
        errorf("query '%.200s': %s closed the connection before a complete HTTP header",
               q->id, t->hostport);
        goto out;
    }
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        errorf("query '%.200s': %s did not answer with HTTP", q->id, t->hostport);
        goto out;
    }
    size_t blen = len - hdr_end;
    if (clen >= 0 && blen != (size_t)clen) {
        errorf("query '%.200s': response body is %zu bytes; Content-Length said %lld", q->id,
               blen, clen);
        goto out;
    }
    if (status != 200) {
        errorf("query '%.200s': %s answered HTTP %d: %.300s", q->id, t->hostport, status,
               buf + hdr_end);
        goto out;
    }
    json_error_t jerr;
    res = json_loadb(buf + hdr_end, blen, 0, &jerr);
    if (!res)
        errorf("query '%.200s': response is not JSON: %s", q->id, jerr.text);
out:
    close(fd);
    free(buf);
    sb_free(&req);
    return res;
}

/* ---- the run ------------------------------------------------------------------------- */

/* Fills *hits (owned array, ids borrowed from res) from res.hits[]. Returns the number of
 * hits or -1 (reported). */
static long hits_of(json_t *res, const struct query *q, struct hit **hits)
{
    json_t *arr = json_object_get(res, "hits");
    if (!json_is_array(arr)) {
        errorf("query '%.200s': the result has no \"hits\" array", q->id);
        return -1;
    }
    size_t n = json_array_size(arr);
    *hits = xmalloc(n * sizeof **hits);
    for (size_t i = 0; i < n; i++) {
        json_t *h = json_array_get(arr, i);
        json_t *id = json_object_get(h, "id"), *score = json_object_get(h, "score");
        if (!json_is_string(id) || !json_is_number(score)) {
            free(*hits);
            errorf("query '%.200s': hit %zu lacks a string \"id\" or a numeric \"score\"", q->id,
                   i + 1);
            return -1;
        }
        (*hits)[i] = (struct hit){json_string_value(id), json_number_value(score)};
    }
    return (long)n;
}

/* True when s can stand as one field of a TREC run line (non-empty, no whitespace). */
static int trec_field_ok(const char *s)
{
    return *s && !s[strcspn(s, " \t\r\n\v\f")];
}

/* Appends the TREC run lines of one query ("qid Q0 docid rank score tag"). Returns 0 or
 * -1 (reported). */
static int run_write(FILE *f, const char *path, const struct query *q, const struct hit *hits,
                     size_t n, const char *tag)
{
    if (!trec_field_ok(q->id))
        return errorf("query id '%.200s' contains whitespace; it cannot be written to a run file",
                      q->id);
    for (size_t i = 0; i < n; i++) {
        if (!trec_field_ok(hits[i].id))
            return errorf("document id '%.200s' contains whitespace; it cannot be written to "
                          "a run file",
                          hits[i].id);
        /* %.9g: enough digits that rounding does not create ties trec_eval would reorder. */
        if (fprintf(f, "%s Q0 %s %zu %.9g %s\n", q->id, hits[i].id, i + 1, hits[i].score, tag) <
            0)
            return errorf("cannot write run file %s: %s", path, strerror(errno));
    }
    return 0;
}

/* Runs every query that has a relevant judgement, scoring it and writing the run file.
 * Exactly one of ix and t is set. Returns 0 or -1 (reported). */
static int evaluate(struct collection *c, struct search_index *ix, const struct http_target *t,
                    const struct options *o, FILE *run, struct totals *tot)
{
    for (size_t i = 0; i < c->n; i++) {
        struct query *q = &c->q[i];
        if (q->nrel == 0) {
            tot->skipped++;
            continue;
        }
        struct hit *hits = NULL;
        long n = 0;
        if (q->text[0]) {
            /* An empty cleaned query (all punctuation) finds nothing; it still counts. */
            double t0 = util_now_ms();
            json_t *res = ix ? search_lib(ix, q, o->op) : search_http(t, q, o->op);
            tot->ms += util_now_ms() - t0;
            if (!res)
                return -1;
            n = hits_of(res, q, &hits);
            if (n < 0) {
                json_decref(res);
                return -1;
            }
            score_query(q, hits, (size_t)n, tot);
            int rc = run ? run_write(run, o->run, q, hits, (size_t)n, o->tag) : 0;
            free(hits);
            json_decref(res);
            if (rc < 0)
                return -1;
        } else {
            score_query(q, NULL, 0, tot);
        }
    }
    return 0;
}

/* ---- command line -------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: quire-eval (--db DIR | --url http://HOST:PORT) --queries FILE --qrels FILE\n"
            "                  [--run FILE] [--tag NAME] [--op and|or] [--json]\n"
            "\n"
            "Runs a test collection's queries through Quire's search path and scores the\n"
            "rankings.\n"
            "\n"
            "  --db DIR        search the index at DIR with the library code quired uses\n"
            "  --url URL       instead, ask a running quired over HTTP/1.0 (GET /search); each\n"
            "                  request is bounded to 10 s and a 16 MiB response\n"
            "  --queries FILE  JSON Lines, one {\"id\": ..., \"text\": ...} per query\n"
            "  --qrels FILE    TSV with header query-id<TAB>corpus-id<TAB>score; integer graded\n"
            "                  gains, higher is more relevant, 0 or negative is not relevant\n"
            "  --run FILE      also write a TREC run file (qid Q0 docid rank score tag)\n"
            "  --tag NAME      collection tag for the table and run file (default: the name\n"
            "                  of the queries file's directory); at most %d bytes, no\n"
            "                  whitespace\n"
            "  --op and|or     how the query words are combined (default: the search default)\n"
            "  --json          print one JSON object instead of the table:\n"
            "                  {\"tag\",\"op\",\"queries\",\"skipped\",\"ndcg@10\",\"map@100\",\n"
            "                   \"recall@100\",\"ms_per_query\"}\n"
            "  -h, --help      show this help\n"
            "\n"
            "Each query is asked with limit=%d, snippet=0, dedup=0. Its text is cleaned first so\n"
            "that natural language is not read as query syntax: ASCII letters and digits and all\n"
            "non-ASCII (UTF-8) characters are kept, every other character becomes a space, and\n"
            "ASCII is lower-cased (so AND, OR, NOT are plain words).\n"
            "\n"
            "Metrics (trec_eval ndcg_cut.10, map_cut.%d, recall.%d), averaged over the queries\n"
            "with at least one relevant judgement; the others are skipped and counted:\n"
            "  nDCG@10     graded gain = qrels score, discount log2(rank + 1), ideal\n"
            "              ordering from all judged documents of the query\n"
            "  MAP@%d     precision at each relevant document in the top %d, summed and divided\n"
            "              by the query's number of relevant documents\n"
            "  Recall@%d  relevant documents in the top %d / relevant documents\n"
            "Equal scores keep the engine's order. ms/query is the mean wall time of a search.\n"
            "BM25 parameters (--k1, --b) are not offered: the search API does not take them.\n"
            "\n"
            "Exit status: 0 success; 2 usage, I/O or search error (with a message).\n",
            MAX_TAG, DEPTH, DEPTH, DEPTH, DEPTH, DEPTH, DEPTH, DEPTH);
}

/* The default tag: the last directory name of path ("scifact" for
 * .../corpora/scifact/queries.jsonl), or "quire". */
static void default_tag(const char *path, char *tag)
{
    snprintf(tag, MAX_TAG + 1, "quire");
    const char *end = strrchr(path, '/');
    if (!end || end == path)
        return;
    const char *start = end;
    while (start > path && start[-1] != '/')
        start--;
    size_t n = (size_t)(end - start);
    if (n == 0 || n > MAX_TAG || (n == 1 && *start == '.') || (n == 2 && !strncmp(start, "..", 2)))
        return;
    char tmp[MAX_TAG + 1];
    memcpy(tmp, start, n);
    tmp[n] = '\0';
    if (trec_field_ok(tmp))
        memcpy(tag, tmp, n + 1);
}

/* Parses argv into o. Returns 0, 1 when --help was shown, or -1 (reported). */
static int options_parse(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},      {"queries", required_argument, NULL, 'Q'},
        {"qrels", required_argument, NULL, 'R'},   {"run", required_argument, NULL, 'r'},
        {"tag", required_argument, NULL, 't'},     {"op", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},          {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *tag = NULL;
    memset(o, 0, sizeof *o);
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'Q': o->queries = optarg; break;
        case 'R': o->qrels = optarg; break;
        case 'r': o->run = optarg; break;
        case 't': tag = optarg; break;
        case 'j': o->json = 1; break;
        case 'u': o->url = optarg; break;
        case 'o':
            if (strcmp(optarg, "and") != 0 && strcmp(optarg, "or") != 0)
                return errorf("--op must be 'and' or 'or' (got '%.64s')", optarg);
            o->op = optarg;
            break;
        case 'h': usage(stdout); return 1;
        default:
            return errorf("option '%.64s' is unknown or lacks its value; see --help",
                          argv[optind - 1]);
        }
    }
    if (optind < argc)
        return errorf("unexpected argument '%.200s'; see --help", argv[optind]);
    if (!o->db == !o->url)
        return errorf("give exactly one of --db DIR or --url URL; see --help");
    if (!o->queries || !o->qrels)
        return errorf("--queries FILE and --qrels FILE are required; see --help");
    if (tag) {
        if (strlen(tag) > MAX_TAG || !trec_field_ok(tag))
            return errorf("--tag must be 1 to %d bytes without whitespace", MAX_TAG);
        snprintf(o->tag, sizeof o->tag, "%s", tag);
    } else {
        default_tag(o->queries, o->tag);
    }
    return 0;
}

/* Prints the result as a table or as JSON. */
static void report(const struct options *o, const struct totals *t, size_t ran)
{
    double n = (double)t->evaluated;
    double ms = ran ? t->ms / (double)ran : 0;
    const char *op = o->op ? o->op : "default";
    if (o->json) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f}", "tag", o->tag, "op", op,
                              "queries", (json_int_t)t->evaluated, "skipped",
                              (json_int_t)t->skipped, "ndcg@10", t->ndcg / n, "map@100",
                              t->map / n, "recall@100", t->recall / n, "ms_per_query", ms);
        if (j)
            json_dumpf(j, stdout, JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
        return;
    }
    printf("%-16s %-7s %7s %7s %8s %8s %10s %9s\n", "tag", "op", "queries", "skipped",
           "nDCG@10", "MAP@100", "Recall@100", "ms/query");
    printf("%-16s %-7s %7zu %7zu %8.4f %8.4f %10.4f %9.3f\n", o->tag, op, t->evaluated,
           t->skipped, t->ndcg / n, t->map / n, t->recall / n, ms);
}

/* Frees what queries_load and qrels_load made. */
static void collection_free(struct collection *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (size_t k = 0; k < c->q[i].nj; k++)
            free(c->q[i].j[k].doc);
        free(c->q[i].j);
        free(c->q[i].id);
        free(c->q[i].text);
    }
    free(c->q);
    free(c->byid);
}

int main(int argc, char **argv)
{
    struct options o;
    int pr = options_parse(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? 0 : EXIT_USAGE;

    /* One way out, so every path frees what it made (CI runs a leak checker). */
    struct collection c = {0};
    struct search_index *ix = NULL;
    FILE *run = NULL;
    int code = EXIT_USAGE;
    if (queries_load(&c, o.queries) < 0 || qrels_load(&c, o.qrels) < 0)
        goto out;
    size_t with_rel = 0, nonempty = 0;
    for (size_t i = 0; i < c.n; i++) {
        with_rel += c.q[i].nrel > 0;
        nonempty += c.q[i].nrel > 0 && c.q[i].text[0];
    }
    if (with_rel == 0) {
        errorf("no query in %s has a relevant judgement (score > 0) in %s", o.queries, o.qrels);
        goto out;
    }

    struct http_target target;
    if (o.url) {
        if (url_parse(o.url, &target) < 0)
            goto out;
    } else {
        struct search_error err = {0};
        ix = search_index_open(o.db, &err);
        if (!ix) {
            errorf("%s", err.message);
            goto out;
        }
    }
    if (o.run && !(run = fopen(o.run, "w"))) {
        errorf("cannot create run file %s: %s", o.run, strerror(errno));
        goto out;
    }

    struct totals tot = {0};
    int rc = evaluate(&c, ix, o.url ? &target : NULL, &o, run, &tot);
    if (run && fclose(run) != 0 && rc == 0)
        rc = errorf("cannot write run file %s: %s", o.run, strerror(errno));
    run = NULL;
    if (rc < 0)
        goto out;
    report(&o, &tot, nonempty);
    code = fflush(stdout) == 0 ? 0 : EXIT_USAGE;
out:
    if (run)
        fclose(run);
    search_index_close(ix);
    collection_free(&c);
    return code;
}
