/*
 * peer-bench.c -- the benchmark's client for the peers Quire is measured against.
 *
 * tests/bench/run.sh compiles this file twice, each time for one peer, so that a machine
 * missing one peer's client library can still measure the other:
 *
 *   -DPEER_FTS5    fts5-bench      SQLite FTS5 in-process (libsqlite3-dev)
 *   -DPEER_SPHINX  sphinxql-bench  Sphinx searchd over SphinxQL, the MySQL protocol
 *                                  (libmariadb-dev)
 *
 *   fts5-bench index DB CORPUS.jsonl[.gz]...
 *   fts5-bench query DB QUERIES [--threads T] [--seconds S] [--snippets]
 *   sphinxql-bench tsv CORPUS.jsonl[.gz]...          (a tsvpipe source for Sphinx's indexer)
 *   sphinxql-bench query HOST:PORT INDEX QUERIES [--threads T] [--seconds S]
 *                        [--snippets CORPUS.jsonl[.gz]]
 *
 * "query" works like xapian-baseline's: one warm-up pass over every query (counting the
 * queries without a hit), then T threads, each with its own connection, cycle through the
 * query file for S seconds asking for the top 10 by BM25, all words required. Without
 * --snippets a query reads the ids only. With --snippets it also makes a highlighted
 * snippet of about 200 bytes for each of the 10 hits, each peer in its fast form:
 * FTS5's snippet() under ORDER BY rank (which makes snippets for the returned rows only),
 * Sphinx's CALL SNIPPETS with the hits' bodies (Sphinx 2.2 stores no text, so the client
 * holds the corpus in memory, as an application in front of Sphinx would hold it in its
 * own store). Every mode prints one line of key=value pairs on stdout for run.sh.
 *
 * Document numbers are the 1-based line numbers of the corpus, in both peers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#if defined(PEER_FTS5) == defined(PEER_SPHINX)
#error "define exactly one of PEER_FTS5 and PEER_SPHINX"
#endif

#ifdef PEER_FTS5
#include <sqlite3.h>
#define PROG "fts5-bench"
#else
#include <mysql.h>
#define PROG "sphinxql-bench"
#endif

#define MAX_QUERY_BYTES 4096
#define SNIPPET_BYTES 200

/* Set for the warm-up pass's first query when PEER_BENCH_SHOW is in the environment: its
 * hits (and snippets) go to stderr, to check by eye that a peer answers what it should. */
static int show;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reading the corpus ---------------------------------------------------------------- */

struct record {
    const char *id, *title, *body;
    size_t title_len, body_len;
};

/* Calls fn(record, arg) for every JSON line of a .jsonl or .jsonl.gz file (zlib reads
 * both); the record's strings live until fn returns. Returns the number of bad lines. */
static unsigned long corpus_each(const char *path, void (*fn)(const struct record *, void *), void *arg)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    gzbuffer(f, 1 << 20);
    size_t cap = 1 << 20, len = 0;
    char *line = xmalloc(cap);
    unsigned long bad = 0;
    for (;;) {
        int c = gzgetc(f);
        if (c != '\n' && c != -1) {
            if (len + 1 >= cap) {
                cap *= 2;
                line = realloc(line, cap);
                if (!line)
                    die("out of memory");
            }
            line[len++] = (char)c;
            continue;
        }
        if (len > 0) {
            json_error_t jerr;
            json_t *j = json_loadb(line, len, 0, &jerr);
            json_t *id = j ? json_object_get(j, "id") : NULL;
            json_t *title = j ? json_object_get(j, "title") : NULL;
            json_t *body = j ? json_object_get(j, "body") : NULL;
            if (json_is_string(id) && json_is_string(body)) {
                struct record r = {json_string_value(id), json_is_string(title) ? json_string_value(title) : "",
                                   json_string_value(body), json_is_string(title) ? json_string_length(title) : 0,
                                   json_string_length(body)};
                fn(&r, arg);
            } else {
                bad++;
            }
            json_decref(j);
        }
        len = 0;
        if (c == -1)
            break;
    }
    int zerr;
    const char *msg = gzerror(f, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END)
        die("read error in %s: %s", path, msg);
    gzclose(f);
    free(line);
    return bad;
}

/* ---- the query file ----------------------------------------------------------------------- */

struct queries {
    char **q;
    size_t n;
};

static struct queries queries_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    struct queries qs = {NULL, 0};
    size_t cap = 0;
    char buf[MAX_QUERY_BYTES];
    while (fgets(buf, sizeof buf, f)) {
        size_t n = strcspn(buf, "\r\n");
        buf[n] = 0;
        if (!n)
            continue;
        if (qs.n == cap) {
            cap = cap ? cap * 2 : 512;
            qs.q = realloc(qs.q, cap * sizeof *qs.q);
            if (!qs.q)
                die("out of memory");
        }
        qs.q[qs.n++] = strdup(buf);
    }
    fclose(f);
    if (!qs.n)
        die("no queries in %s", path);
    return qs;
}

/* ---- a growing string ----------------------------------------------------------------------- */

struct buf {
    char *s;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s)
            die("out of memory");
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* ---- the peers ------------------------------------------------------------------------------ */

/* What a query run needs, shared read-only by the threads. */
struct config {
    const char *db; /* FTS5: database file; Sphinx: index name */
    const char *host;
    unsigned port;
    int snippets;
    char **bodies; /* Sphinx --snippets: body of document n at bodies[n] */
    size_t nbodies;
};

#ifdef PEER_FTS5

struct peer {
    sqlite3 *db;
    sqlite3_stmt *stmt;
    struct buf match;
};

/* Opens one read-only connection with its statement prepared. */
static struct peer *peer_open(const struct config *cfg)
{
    struct peer *p = xmalloc(sizeof *p);
    memset(p, 0, sizeof *p);
    if (sqlite3_open_v2(cfg->db, &p->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        die("cannot open %s: %s", cfg->db, sqlite3_errmsg(p->db));
    /* Reads through mmap rather than a small private page cache per connection: the
     * faster of the two here, and what a tuned deployment uses. */
    sqlite3_exec(p->db, "PRAGMA mmap_size=4294967296", NULL, NULL, NULL);
    const char *sql = cfg->snippets ? "SELECT rowid, title, snippet(t, 2, '<b>', '</b>', '…', 32) FROM t "
                                      "WHERE t MATCH ?1 ORDER BY rank LIMIT 10"
                                    : "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rank LIMIT 10";
    if (sqlite3_prepare_v2(p->db, sql, -1, &p->stmt, NULL) != SQLITE_OK)
        die("prepare: %s", sqlite3_errmsg(p->db));
    return p;
}

/* Runs one query: every word quoted (no FTS5 operators), implicit AND. Returns hits. */
static int peer_search(struct peer *p, const char *query)
{
    p->match.len = 0;
    buf_add(&p->match, "", 0);
    for (const char *w = query; *w;) {
        size_t n = strcspn(w, " ");
        if (n) {
            if (p->match.len)
                buf_str(&p->match, " ");
            buf_str(&p->match, "\"");
            buf_add(&p->match, w, n);
            buf_str(&p->match, "\"");
        }
        w += n;
        w += strspn(w, " ");
    }
    sqlite3_bind_text(p->stmt, 1, p->match.s, (int)p->match.len, SQLITE_STATIC);
    int hits = 0, rc;
    volatile size_t sink = 0;
    while ((rc = sqlite3_step(p->stmt)) == SQLITE_ROW) {
        sink = sink + (size_t)sqlite3_column_int64(p->stmt, 0);
        if (sqlite3_column_count(p->stmt) > 1)
            sink = sink + (size_t)sqlite3_column_bytes(p->stmt, 1) + (size_t)sqlite3_column_bytes(p->stmt, 2);
        if (show)
            fprintf(stderr, "%s: %lld %s\n", query, (long long)sqlite3_column_int64(p->stmt, 0),
                    sqlite3_column_count(p->stmt) > 2 ? (const char *)sqlite3_column_text(p->stmt, 2) : "");
        hits++;
    }
    if (rc != SQLITE_DONE)
        die("query [%s]: %s", query, sqlite3_errmsg(p->db));
    sqlite3_reset(p->stmt);
    return hits;
}

static void peer_close(struct peer *p)
{
    sqlite3_finalize(p->stmt);
    sqlite3_close(p->db);
    free(p->match.s);
    free(p);
}

struct fts5_load {
    sqlite3_stmt *insert;
    sqlite3 *db;
    unsigned long docs;
    unsigned long long body_bytes;
};

static void fts5_insert(const struct record *r, void *arg)
{
    struct fts5_load *l = arg;
    sqlite3_bind_int64(l->insert, 1, (sqlite3_int64)++l->docs);
    sqlite3_bind_text(l->insert, 2, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->insert, 3, r->title, (int)r->title_len, SQLITE_STATIC);
    sqlite3_bind_text(l->insert, 4, r->body, (int)r->body_len, SQLITE_STATIC);
    if (sqlite3_step(l->insert) != SQLITE_DONE)
        die("insert: %s", sqlite3_errmsg(l->db));
    sqlite3_reset(l->insert);
    l->body_bytes += r->body_len;
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die("%s: %s", sql, err ? err : "?");
}

/* Builds DB from the corpora in one transaction, then merges the index ('optimize'), as
 * FTS5's documentation recommends after a bulk load. */
static int run_index(const char *path, int ncorpora, char **corpora)
{
    double t0 = now_seconds();
    unlink(path);
    struct fts5_load l = {NULL, NULL, 0, 0};
    if (sqlite3_open(path, &l.db) != SQLITE_OK)
        die("cannot create %s: %s", path, sqlite3_errmsg(l.db));
    exec_or_die(l.db, "CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, body, "
                      "tokenize='porter unicode61')");
    exec_or_die(l.db, "BEGIN");
    if (sqlite3_prepare_v2(l.db, "INSERT INTO t(rowid, id, title, body) VALUES (?1, ?2, ?3, ?4)", -1, &l.insert,
                           NULL) != SQLITE_OK)
        die("prepare: %s", sqlite3_errmsg(l.db));
    unsigned long bad = 0;
    for (int i = 0; i < ncorpora; i++)
        bad += corpus_each(corpora[i], fts5_insert, &l);
    sqlite3_finalize(l.insert);
    exec_or_die(l.db, "COMMIT");
    double t1 = now_seconds();
    exec_or_die(l.db, "INSERT INTO t(t) VALUES('optimize')");
    sqlite3_close(l.db);
    double t2 = now_seconds();
    printf("docs=%lu bad=%lu body_bytes=%llu seconds=%.3f insert_seconds=%.3f optimize_seconds=%.3f "
           "mb_per_s=%.3f\n",
           l.docs, bad, l.body_bytes, t2 - t0, t1 - t0, t2 - t1, (double)l.body_bytes / 1e6 / (t2 - t0));
    return 0;
}

#else /* PEER_SPHINX */

struct peer {
    const struct config *cfg;
    MYSQL *my;
    struct buf sql;
    unsigned long ids[10];
};

/* Opens one SphinxQL connection. */
static struct peer *peer_open(const struct config *cfg)
{
    struct peer *p = xmalloc(sizeof *p);
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    mysql_thread_init();
    p->my = mysql_init(NULL);
    if (!p->my || !mysql_real_connect(p->my, cfg->host, "", "", NULL, cfg->port, NULL, 0))
        die("cannot connect to searchd at %s:%u: %s", cfg->host, cfg->port, p->my ? mysql_error(p->my) : "?");
    return p;
}

/* Appends s as the inside of a SphinxQL string literal. */
static void sql_quote(struct buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '\'') {
            buf_add(b, s + start, i - start);
            buf_add(b, "\\", 1);
            start = i;
        }
    }
    buf_add(b, s + start, n - start);
}

static MYSQL_RES *sql_run(struct peer *p)
{
    if (mysql_real_query(p->my, p->sql.s, p->sql.len))
        die("searchd: %s (statement starts: %.200s)", mysql_error(p->my), p->sql.s);
    MYSQL_RES *res = mysql_store_result(p->my);
    if (!res)
        die("searchd: no result set: %s", mysql_error(p->my));
    return res;
}

/* Runs one query (the words, Sphinx's default AND); with snippets, one CALL SNIPPETS for
 * the hits. Returns hits. */
static int peer_search(struct peer *p, const char *query)
{
    const struct config *cfg = p->cfg;
    p->sql.len = 0;
    buf_str(&p->sql, "SELECT id FROM ");
    buf_str(&p->sql, cfg->db);
    buf_str(&p->sql, " WHERE MATCH('");
    sql_quote(&p->sql, query, strlen(query));
    buf_str(&p->sql, "') LIMIT 10 OPTION ranker=bm25");
    MYSQL_RES *res = sql_run(p);
    int hits = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) && hits < 10) {
        p->ids[hits++] = strtoul(row[0], NULL, 10);
        if (show)
            fprintf(stderr, "%s: %s\n", query, row[0]);
    }
    mysql_free_result(res);
    if (!cfg->snippets || hits == 0)
        return hits;

    p->sql.len = 0;
    buf_str(&p->sql, "CALL SNIPPETS((");
    for (int i = 0; i < hits; i++) {
        const char *body = p->ids[i] < cfg->nbodies && cfg->bodies[p->ids[i]] ? cfg->bodies[p->ids[i]] : "";
        buf_str(&p->sql, i ? ", '" : "'");
        sql_quote(&p->sql, body, strlen(body));
        buf_str(&p->sql, "'");
    }
    buf_str(&p->sql, "), '");
    buf_str(&p->sql, cfg->db);
    buf_str(&p->sql, "', '");
    sql_quote(&p->sql, query, strlen(query));
    char opts[128];
    snprintf(opts, sizeof opts, "', %d AS limit, '<b>' AS before_match, '</b>' AS after_match)", SNIPPET_BYTES);
    buf_str(&p->sql, opts);
    res = sql_run(p);
    volatile size_t sink = 0;
    while ((row = mysql_fetch_row(res))) {
        sink = sink + strlen(row[0] ? row[0] : "");
        if (show)
            fprintf(stderr, "  %s\n", row[0] ? row[0] : "(null)");
    }
    mysql_free_result(res);
    return hits;
}

static void peer_close(struct peer *p)
{
    mysql_close(p->my);
    mysql_thread_end();
    free(p->sql.s);
    free(p);
}

/* Writes one tsvpipe row: document number, title, body. Tabs and line breaks inside a
 * field become spaces (the format has no escapes). */
static void tsv_field(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        putchar(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
    }
}

struct tsv_state {
    unsigned long docs;
};

static void tsv_row(const struct record *r, void *arg)
{
    struct tsv_state *st = arg;
    printf("%lu\t", ++st->docs);
    tsv_field(r->title, r->title_len);
    putchar('\t');
    tsv_field(r->body, r->body_len);
    putchar('\n');
}

static int run_tsv(int ncorpora, char **corpora)
{
    struct tsv_state st = {0};
    static char out[1 << 20];
    setvbuf(stdout, out, _IOFBF, sizeof out);
    for (int i = 0; i < ncorpora; i++)
        corpus_each(corpora[i], tsv_row, &st);
    if (fflush(stdout) != 0)
        die("write error: %s", strerror(errno));
    return 0;
}

struct body_load {
    struct config *cfg;
    size_t cap;
};

static void body_keep(const struct record *r, void *arg)
{
    struct body_load *l = arg;
    struct config *cfg = l->cfg;
    if (cfg->nbodies == 0)
        cfg->nbodies = 1; /* document numbers start at 1 */
    if (cfg->nbodies >= l->cap) {
        l->cap = l->cap ? l->cap * 2 : 65536;
        cfg->bodies = realloc(cfg->bodies, l->cap * sizeof *cfg->bodies);
        if (!cfg->bodies)
            die("out of memory");
        cfg->bodies[0] = NULL;
    }
    cfg->bodies[cfg->nbodies++] = strndup(r->body, r->body_len);
}

#endif

/* ---- the timed run ---------------------------------------------------------------------------- */

struct worker {
    pthread_t thread;
    const struct config *cfg;
    const struct queries *qs;
    size_t first;
    double deadline;
    uint32_t *lat; /* µs per query */
    size_t nlat, cap;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct peer *p = peer_open(w->cfg);
    size_t i = w->first;
    for (;;) {
        double t0 = now_seconds();
        if (t0 >= w->deadline)
            break;
        peer_search(p, w->qs->q[i]);
        double us = (now_seconds() - t0) * 1e6;
        if (w->nlat == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 65536;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
            if (!w->lat)
                die("out of memory");
        }
        w->lat[w->nlat++] = (uint32_t)us;
        if (++i == w->qs->n)
            i = 0;
    }
    peer_close(p);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int run_query(const struct config *cfg, const char *query_path, int threads, double seconds)
{
    struct queries qs = queries_load(query_path);

    unsigned zero_hit = 0;
    struct peer *warm = peer_open(cfg);
    for (size_t i = 0; i < qs.n; i++) {
        show = i == 0 && getenv("PEER_BENCH_SHOW");
        if (peer_search(warm, qs.q[i]) == 0)
            zero_hit++;
    }
    show = 0;
    peer_close(warm);

    struct worker *w = xmalloc((size_t)threads * sizeof *w);
    memset(w, 0, (size_t)threads * sizeof *w);
    double t0 = now_seconds();
    for (int t = 0; t < threads; t++) {
        w[t].cfg = cfg;
        w[t].qs = &qs;
        w[t].first = (size_t)t * qs.n / (size_t)threads;
        w[t].deadline = t0 + seconds;
        if (pthread_create(&w[t].thread, NULL, worker_main, &w[t]))
            die("cannot start a thread");
    }
    size_t total = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(w[t].thread, NULL);
        total += w[t].nlat;
    }
    double secs = now_seconds() - t0;
    uint32_t *all = xmalloc(total * sizeof *all);
    size_t k = 0;
    for (int t = 0; t < threads; t++) {
        memcpy(all + k, w[t].lat, w[t].nlat * sizeof *all);
        k += w[t].nlat;
        free(w[t].lat);
    }
    qsort(all, total, sizeof *all, cmp_u32);
    uint32_t p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)(0.99 * (double)total)] : 0;
    printf("queries=%zu seconds=%.3f qps=%.1f p50_us=%u p99_us=%u zero_hit=%u threads=%d\n", total, secs,
           (double)total / secs, p50, p99, zero_hit, threads);
    free(all);
    free(w);
    return 0;
}

static void usage(void)
{
#ifdef PEER_FTS5
    fprintf(stderr, "usage: fts5-bench index DB CORPUS.jsonl[.gz]...\n"
                    "       fts5-bench query DB QUERIES [--threads T] [--seconds S] [--snippets]\n");
#else
    fprintf(stderr, "usage: sphinxql-bench tsv CORPUS.jsonl[.gz]...\n"
                    "       sphinxql-bench query HOST:PORT INDEX QUERIES [--threads T] [--seconds S]\n"
                    "                            [--snippets CORPUS.jsonl[.gz]]\n");
#endif
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    int next;
#ifdef PEER_FTS5
    if (strcmp(argv[1], "index") == 0 && argc >= 4)
        return run_index(argv[2], argc - 3, argv + 3);
    if (strcmp(argv[1], "query") != 0 || argc < 4)
        usage();
    cfg.db = argv[2];
    const char *query_path = argv[3];
    next = 4;
#else
    if (strcmp(argv[1], "tsv") == 0)
        return run_tsv(argc - 2, argv + 2);
    if (strcmp(argv[1], "query") != 0 || argc < 5)
        usage();
    static char host[256];
    const char *colon = strrchr(argv[2], ':');
    if (!colon || (size_t)(colon - argv[2]) >= sizeof host)
        usage();
    memcpy(host, argv[2], (size_t)(colon - argv[2]));
    cfg.host = host;
    cfg.port = (unsigned)atoi(colon + 1);
    cfg.db = argv[3];
    const char *query_path = argv[4];
    next = 5;
    if (mysql_library_init(0, NULL, NULL))
        die("cannot initialise the MySQL client library");
#endif
    int threads = 2;
    double seconds = 10;
    for (int i = next; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
#ifdef PEER_FTS5
        else if (strcmp(argv[i], "--snippets") == 0)
            cfg.snippets = 1;
#else
        else if (strcmp(argv[i], "--snippets") == 0 && i + 1 < argc) {
            struct body_load l = {&cfg, 0};
            corpus_each(argv[++i], body_keep, &l);
            cfg.snippets = 1;
        }
#endif
        else
            usage();
    }
    if (threads < 1 || threads > 256 || !(seconds > 0))
        usage();
    return run_query(&cfg, query_path, threads, seconds);
}
