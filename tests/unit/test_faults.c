/*
 * test_faults.c -- every error path of the library, by sweeping injected failures.
 *
 * The operations: open an index, refresh it onto another generation, search (facets, date
 * sort, explanations, snippets, a suggestion, a query that is not syntax), similar, doc,
 * health, completions, index a few articles with the schema code into a new index
 * directory; and for allocation failures also the snippet maker, the request decoders and
 * the article parsers.
 * Each is swept twice over:
 *
 *  - binding faults: xc_test_fail_after(n) makes the n-th binding call fail -- an I/O
 *    error, a reader that fell behind a writer, or out of memory -- for n = 1, 2, ... until
 *    an n the operation does not reach;
 *  - allocation failures: the n-th allocation fails, for n = 1, 2, ... likewise.
 *
 * At each n the operation must either give exactly the result it gives without faults
 * (the failure was "absorbed": a retry, or an error message nobody needed), or fail
 * cleanly: NULL/-1 with a 5xx status (a 4xx would blame the client) and a message. Nothing
 * it allocated may be left over, and the same handles must then answer as before (the
 * operation is run again without faults and compared). A reader (search, similar, doc,
 * health) must absorb every one-shot I/O fault and every "fell behind a writer": it reopens
 * the index and tries again. Allocation failures are swept
 * twice: one-shot (later allocations succeed) and persistent (all later ones fail too).
 * The number of injection points each sweep reached is printed as a TAP diagnostic;
 * QUIRE_FAULT_OPS=search,doc limits the sweeps to some operations; QUIRE_FAULT_SHOW=1 prints
 * each failure that was not absorbed.
 *
 * Allocation failure is injected by the linker: this program is linked with
 * -Wl,--wrap=malloc (and calloc, realloc, strdup, strndup, free; see Makefile.am), which
 * sends every call to them from the objects of this link -- the test and libquire, a
 * libtool convenience library and so linked in as objects, the binding's C++ included -- to
 * the __wrap_ functions here. Shared libraries are not affected: jansson's allocations are
 * hooked with json_set_alloc_funcs; Xapian's own (operator new) are out of reach, and the
 * binding's injected out-of-memory faults stand in for them. Unlike replacing malloc
 * (test_article.c), this works under the sanitizers too: __real_malloc is theirs.
 *
 * Every wrapped allocation made during an operation is recorded until freed, so a leak on
 * a failure path is caught at the n that caused it, in every build.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
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
#include <jansson.h>
#include <zlib.h>

#include "article.h"
#include "dbdir.h"
#include "schema.h"
#include "search.h"
#include "search_int.h"
#include "snippet.h"
#include "util.h"
#include "xapian-c/xc.h"

/* No sweep may need more injection points than this (a runaway loop would). */
#define SWEEP_MAX 20000

/* ---- allocation hooks ------------------------------------------------------------------ */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

static long alloc_countdown = -1; /* allocations to let through; -1: none fails */
static int alloc_injected;        /* the armed failure happened */
static int alloc_persistent;      /* every allocation after it fails too */

/* True when this allocation is to fail. A failure is one-shot (the allocations after it
 * succeed, so that recovery paths run) or persistent (so that the paths that handle a
 * failure while handling a failure run). */
static int alloc_fails(void)
{
    if (alloc_countdown < 0)
        return 0;
    if (alloc_countdown > 0) {
        alloc_countdown--;
        return 0;
    }
    if (!alloc_persistent)
        alloc_countdown = -1;
    alloc_injected = 1;
    return 1;
}

/* Blocks allocated while tracking is on and not yet freed: an open-addressing set of
 * pointers (a static table: the hooks must not allocate). */
#define TRACK_BITS 16
#define TRACK_SLOTS (1u << TRACK_BITS)
static void *tracked[TRACK_SLOTS];
static char tombstone;
#define TOMB ((void *)&tombstone)
static int tracking;
static long track_live, track_used;
static int track_overflow;

static size_t track_slot(const void *p)
{
    return (size_t)(((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL) >> (64 - TRACK_BITS));
}

static void track_add(void *p)
{
    if (!tracking || !p)
        return;
    if (track_used >= TRACK_SLOTS / 4 * 3) {
        track_overflow = 1;
        return;
    }
    size_t i = track_slot(p);
    while (tracked[i] && tracked[i] != TOMB)
        i = (i + 1) & (TRACK_SLOTS - 1);
    if (!tracked[i])
        track_used++;
    tracked[i] = p;
    track_live++;
}

/* Forgets p; returns 1 when it was tracked. */
static int track_remove(const void *p)
{
    if (!p || track_used == 0)
        return 0;
    for (size_t i = track_slot(p); tracked[i]; i = (i + 1) & (TRACK_SLOTS - 1)) {
        if (tracked[i] == p) {
            tracked[i] = TOMB;
            track_live--;
            return 1;
        }
    }
    return 0;
}

static void track_begin(void)
{
    memset(tracked, 0, sizeof tracked);
    track_live = track_used = 0;
    track_overflow = 0;
    tracking = 1;
}

/* Stops tracking; returns how many blocks are still live. */
static long track_end(void)
{
    tracking = 0;
    return track_live;
}

void *__wrap_malloc(size_t n)
{
    if (alloc_fails())
        return NULL;
    void *p = __real_malloc(n);
    track_add(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (alloc_fails())
        return NULL;
    void *p = __real_calloc(n, size);
    track_add(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (alloc_fails())
        return NULL;
    int was = track_remove(p);
    void *q = __real_realloc(p, n);
    if (q && (!p || was))
        track_add(q);
    else if (!q && n > 0 && was)
        track_add(p); /* a real failure leaves p as it was */
    return q;
}

char *__wrap_strdup(const char *s)
{
    if (alloc_fails())
        return NULL;
    char *p = __real_strdup(s);
    track_add(p);
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    if (alloc_fails())
        return NULL;
    char *p = __real_strndup(s, n);
    track_add(p);
    return p;
}

void __wrap_free(void *p)
{
    track_remove(p);
    __real_free(p);
}

static void *json_alloc_hook(size_t n)
{
    return __wrap_malloc(n);
}

static void json_free_hook(void *p)
{
    __wrap_free(p);
}

/* ---- the fixture ----------------------------------------------------------------------- */

/* Articles in JSON Lines, next to the seed corpus: fields for the facets, accents for the
 * folding on both sides, and two identical bodies for duplicate collapsing. */
static const char *const json_articles[] = {
    "{\"id\":\"j1\",\"title\":\"Caf\xc3\xa9 owners of Paris\",\"date\":\"2026-04-09\","
    "\"source\":\"Le Monde\",\"url\":\"https://example.org/cafe\",\"category\":\"business\","
    "\"body\":\"The caf\xc3\xa9 owners of Paris report record revenue while Muse Spark fans "
    "gather. Na\xc3\xafve tourists pay more for a cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
    "e.\"}",
    "{\"id\":\"j2\",\"title\":\"Muse Spark reviewed\",\"date\":\"2025-12-01\","
    "\"source\":\"Tech Daily\",\"category\":\"technology\",\"body\":\"Reviewers found Muse "
    "Spark fast but closed. Meta declined to comment on the Llama roadmap.\"}",
    "{\"id\":\"j3\",\"title\":\"Muse Spark reviewed again\",\"date\":\"2026-01-15\","
    "\"source\":\"Tech Daily\",\"category\":\"technology\",\"body\":\"Reviewers found Muse "
    "Spark fast but closed. Meta declined to comment on the Llama roadmap.\"}",
};
#define NJSON (sizeof json_articles / sizeof json_articles[0])
#define MAX_TEXTS 16
#define NREQ 4
#define INDEX_OP_TEXTS 3

static struct {
    char tmp[256];    /* everything lives under here */
    char dir[300];    /* the seed index: gen-000001 and gen-000002, the same articles */
    char newdir[300]; /* the index op's index directory */
    char gzpath[300]; /* a .jsonl.gz for the line reader */
    char *texts[MAX_TEXTS];
    size_t text_len[MAX_TEXTS];
    char names[MAX_TEXTS][64];
    size_t ntexts;
    struct search_index *ix; /* the handle every search operation shares */
    xc_termgen *tg;          /* the term generator every index operation shares */
    xc_stem *stem;
    struct search_request req[NREQ];
    int flip; /* which generation `current` names next */
    char expect_gen[32];
    json_t *out; /* the operation's results, kept until its result() */
    int refresh_rc[2];
    int doc_missing_status;
    struct search_request dec[2];
    struct article art[6];
    char *clean;
    size_t clean_len;
} fx;

/* Fills err for a failed binding call made by the test itself (indexing). */
static void xc_fail(struct search_error *err, xc_error *xe, const char *what)
{
    int nomem = !xe || xe->code == XC_ERR_NOMEM;
    search_error_set(err, nomem ? 500 : 503, nomem ? "internal" : "unavailable", "%s: %s", what,
                     xe && xe->message ? xe->message : "out of memory");
    xc_error_free(xe);
}

/* Indexes the first ntexts seed texts and the JSON articles into a new database at path,
 * the way quire-index does: parse, schema_build, replace by id, stamp, commit. Returns 0,
 * or -1 with err. */
static int index_articles(const char *path, size_t ntexts, struct search_error *err)
{
    xc_error *xe = NULL;
    xc_wdb *wdb = xc_wdb_open(path, 1, &xe);
    if (!wdb) {
        xc_fail(err, xe, "cannot open writer");
        return -1;
    }
    xc_termgen_set_spelling(fx.tg, wdb);
    int rc = -1;
    for (size_t i = 0; i < ntexts + NJSON; i++) {
        struct article a = {0};
        char why[256] = "";
        int prc;
        if (i < ntexts) {
            prc = article_parse_text(fx.texts[i], fx.text_len[i], 0, &a, why, sizeof why);
            if (prc == 0 && (a.id = strdup(fx.names[i])) == NULL) {
                snprintf(why, sizeof why, "out of memory");
                prc = -1;
            }
        } else {
            const char *line = json_articles[i - ntexts];
            prc = article_parse_json(line, strlen(line), &a, why, sizeof why);
        }
        if (prc < 0) {
            article_clear(&a);
            search_error_set(err, 500, "internal", "cannot parse article %zu: %s", i, why);
            goto out;
        }
        char idterm[SCHEMA_MAX_TERM + 1];
        schema_key_term(SCHEMA_PREFIX_ID, a.id, idterm, sizeof idterm);
        xc_doc *doc = schema_build(&a, i < ntexts ? fx.names[i] : "seed.jsonl", fx.tg, &xe);
        article_clear(&a);
        if (!doc) {
            xc_fail(err, xe, "cannot build document");
            goto out;
        }
        unsigned docid = xc_wdb_replace(wdb, idterm, doc, &xe);
        xc_doc_free(doc);
        if (!docid) {
            xc_fail(err, xe, "cannot write document");
            goto out;
        }
    }
    static const char stamp[] = "2026-04-10T12:00:00Z";
    if (xc_wdb_set_metadata(wdb, "quire:updated", stamp, sizeof stamp - 1, &xe) < 0 ||
        xc_wdb_commit(wdb, &xe) < 0) {
        xc_fail(err, xe, "cannot commit");
        goto out;
    }
    rc = 0;
out:
    xc_wdb_free(wdb);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct strbuf sb;
    sb_init(&sb);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_append(&sb, buf, n);
    fclose(f);
    *len = sb.len;
    return sb.buf;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the seed corpus ($QUIRE_SRC/corpus), sorted by name. */
static void read_corpus(void)
{
    const char *src = getenv("QUIRE_SRC");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/corpus", src && *src ? src : ".");
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot read %s (QUIRE_SRC names the source tree): %s", dir, strerror(errno));
    char *names[MAX_TEXTS];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < MAX_TEXTS) {
        size_t l = strlen(de->d_name);
        if (l > 4 && l < 64 && strcmp(de->d_name + l - 4, ".txt") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    assert_true(n >= 3);
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        fx.texts[i] = read_whole(path, &fx.text_len[i]);
        assert_non_null(fx.texts[i]);
        snprintf(fx.names[i], sizeof fx.names[i], "%s", names[i]);
        free(names[i]);
    }
    fx.ntexts = n;
}

static void set_request(struct search_request *r, const char *const *kv)
{
    struct search_error err;
    search_request_init(r);
    for (; *kv; kv += 2) {
        if (search_request_set(r, kv[0], kv[1], &err) < 0)
            fail_msg("request %s=%s: %s", kv[0], kv[1], err.message);
    }
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    /* The indexes go to memory when the machine has /dev/shm: every commit is fsync()ed,
     * and the sweeps make hundreds; on a busy disk that is minutes. QUIRE_FAULT_TMP, else
     * TMPDIR, else /tmp otherwise. */
    const char *t = getenv("QUIRE_FAULT_TMP");
    struct stat st;
    if (!t || !*t)
        t = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                ? "/dev/shm"
                : getenv("TMPDIR");
    snprintf(fx.tmp, sizeof fx.tmp, "%s/quire-faults-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(fx.tmp))
        return -1;
    snprintf(fx.dir, sizeof fx.dir, "%s/index", fx.tmp);
    snprintf(fx.newdir, sizeof fx.newdir, "%s/new", fx.tmp);
    snprintf(fx.gzpath, sizeof fx.gzpath, "%s/lines.jsonl.gz", fx.tmp);
    read_corpus();

    xc_error *xe = NULL;
    fx.tg = xc_termgen_new(SCHEMA_LANG, &xe);
    fx.stem = xc_stem_new(SCHEMA_LANG, &xe);
    assert_non_null(fx.tg);
    assert_non_null(fx.stem);
    char path[4096], why[256];
    struct search_error err;
    if (dbdir_writer_path(fx.dir, 1, path, sizeof path, why, sizeof why) < 0)
        fail_msg("%s", why);
    if (index_articles(path, fx.ntexts, &err) < 0)
        fail_msg("%s", err.message);
    snprintf(path, sizeof path, "%s/gen-000002", fx.dir);
    if (index_articles(path, fx.ntexts, &err) < 0)
        fail_msg("%s", err.message);
    fx.ix = search_index_open(fx.dir, &err);
    if (!fx.ix)
        fail_msg("%s", err.message);

    static const char *const r0[] = {"q",     "muse sprak", "facets",  "source,category,year",
                                     "sort",  "date",       "explain", "1",
                                     "limit", "5",          NULL};
    static const char *const r1[] = {"q", "cafe revenue", "op", "and",    "mark_open",
                                     "[", "mark_close",   "]",  "facets", "source",
                                     NULL};
    static const char *const r2[] = {"q", "title:(muse AND", "sort", "date:asc", "dedup",
                                     "0", "limit",           "3",    NULL};
    static const char *const r3[] = {"q", "glasswingg -llama", "op", "and", "explain",
                                     "1", "snippet",           "0",  NULL};
    set_request(&fx.req[0], r0);
    set_request(&fx.req[1], r1);
    set_request(&fx.req[2], r2);
    set_request(&fx.req[3], r3);

    gzFile gz = gzopen(fx.gzpath, "wb");
    assert_non_null(gz);
    for (size_t i = 0; i < NJSON; i++) {
        gzwrite(gz, json_articles[i], (unsigned)strlen(json_articles[i]));
        gzwrite(gz, "\n", 1);
    }
    assert_int_equal(gzclose(gz), Z_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    search_index_close(fx.ix);
    xc_termgen_free(fx.tg);
    xc_stem_free(fx.stem);
    for (size_t i = 0; i < NREQ; i++)
        search_request_clear(&fx.req[i]);
    for (size_t i = 0; i < fx.ntexts; i++)
        free(fx.texts[i]);
    remove_tree(fx.tmp);
    return 0;
}

/* ---- the operations -------------------------------------------------------------------- */

/* An operation under test. run() does the work under injection: 0, or -1 with err filled.
 * result() runs after a success, without injection: the result as text (the caller frees),
 * releasing what run() kept. prepare() and cleanup() (optional) run around every run. */
struct op {
    const char *name;
    void (*prepare)(void);
    int (*run)(struct search_error *err);
    char *(*result)(void);
    void (*cleanup)(void);
    int retries; /* a reader that fell behind a writer reopens and tries again */
};

/* Results are kept in fx.out, an array prepare_out() makes before injection starts. A new
 * jansson array holds 8 values before it grows, and no run() keeps more, so keeping never
 * allocates under injection (a failure injected there would be the test's own). */
#define MAX_KEPT 8

/* Keeps a result made outside injection (NULL is kept as null). */
static void keep(json_t *j)
{
    if (!fx.out || json_array_append_new(fx.out, j ? j : json_null()) < 0)
        fail_msg("the test itself ran out of memory");
}

/* Ends a failed run(): what it kept goes. */
static int failed_run(void)
{
    json_decref(fx.out);
    fx.out = NULL;
    return -1;
}

/* Keeps a result of run(); NULL (the call failed, err says why) ends the run with -1. */
static int keep_or_fail(json_t *j)
{
    if (!j)
        return failed_run();
    assert_true(json_array_size(fx.out) < MAX_KEPT);
    if (json_array_append_new(fx.out, j) < 0) {
        failed_run();
        fail_msg("the test itself ran out of memory");
    }
    return 0;
}

/* The kept results as text (took_ms, which differs run to run, left out). */
static char *kept_text(void)
{
    size_t i;
    json_t *v;
    json_array_foreach(fx.out, i, v)
    {
        if (json_is_object(v))
            json_object_del(v, "took_ms");
    }
    char *s = json_dumps(fx.out, JSON_SORT_KEYS | JSON_INDENT(1) | JSON_REAL_PRECISION(12));
    json_decref(fx.out);
    fx.out = NULL;
    assert_non_null(s);
    return s;
}

/* run() needs somewhere to keep results before injection starts: prepare makes it. */
static void prepare_out(void)
{
    json_decref(fx.out);
    fx.out = json_array();
    assert_non_null(fx.out);
}

static int run_open(struct search_error *err)
{
    struct search_index *ix = search_index_open(fx.dir, err);
    if (!ix)
        return failed_run();
    json_t *h = search_health(ix, err);
    search_index_close(ix);
    return keep_or_fail(h);
}

/* `current` names the other generation, so the next refresh opens it afresh. */
static void prepare_refresh(void)
{
    char why[256];
    prepare_out();
    snprintf(fx.expect_gen, sizeof fx.expect_gen, "gen-00000%d", 1 + fx.flip);
    fx.flip = !fx.flip;
    if (dbdir_set_current(fx.dir, fx.expect_gen, why, sizeof why) < 0)
        fail_msg("%s", why);
}

static int run_refresh(struct search_error *err)
{
    /* The first refresh loads the new generation; the second finds nothing new. */
    fx.refresh_rc[0] = search_index_refresh(fx.ix, err);
    if (fx.refresh_rc[0] < 0)
        return failed_run();
    fx.refresh_rc[1] = search_index_refresh(fx.ix, err);
    if (fx.refresh_rc[1] < 0)
        return failed_run();
    if (keep_or_fail(search_run(fx.ix, &fx.req[1], err)) < 0)
        return -1;
    return keep_or_fail(search_health(fx.ix, err));
}

static char *result_refresh(void)
{
    /* The generations differ in name only: the name is checked here, not compared. */
    json_t *health = json_array_get(fx.out, 1);
    int named =
        json_is_object(health) &&
        strcmp(json_string_value(json_object_get(health, "generation")), fx.expect_gen) == 0;
    json_object_del(health, "generation");
    char head[128];
    snprintf(head, sizeof head, "refresh %d %d, generation %s\n", fx.refresh_rc[0],
             fx.refresh_rc[1],
             named && strcmp(search_index_generation(fx.ix), fx.expect_gen) == 0 ? "as named"
                                                                                 : "NOT as named");
    char *body = kept_text();
    size_t n = strlen(head) + strlen(body) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s", head, body);
    free(body);
    return s;
}

static int run_search(struct search_error *err)
{
    for (size_t i = 0; i < NREQ; i++) {
        if (keep_or_fail(search_run(fx.ix, &fx.req[i], err)) < 0)
            return -1;
    }
    return 0;
}

static int run_similar(struct search_error *err)
{
    struct search_request req;
    search_request_init(&req);
    req.limit = 5;
    if (keep_or_fail(search_similar(fx.ix, "j2", &req, err)) < 0)
        return -1;
    req.limit = 3;
    req.snippet = 0;
    return keep_or_fail(search_similar(fx.ix, fx.names[1], &req, err));
}

static int run_doc(struct search_error *err)
{
    if (keep_or_fail(search_doc(fx.ix, "j1", err)) < 0 ||
        keep_or_fail(search_doc(fx.ix, fx.names[0], err)) < 0)
        return -1;
    /* An unknown id is a 404, and only that. */
    json_t *none = search_doc(fx.ix, "no-such-id", err);
    fx.doc_missing_status = none ? 200 : err->status;
    json_decref(none);
    if (fx.doc_missing_status != 404 && fx.doc_missing_status != 200)
        return failed_run();
    return 0;
}

static char *result_doc(void)
{
    char *body = kept_text();
    size_t n = strlen(body) + 64;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "missing id: %d\n%s", fx.doc_missing_status, body);
    free(body);
    return s;
}

static int run_health(struct search_error *err)
{
    return keep_or_fail(search_health(fx.ix, err));
}

static int run_complete(struct search_error *err)
{
    if (keep_or_fail(search_complete(fx.ix, "mu", 5, err)) < 0)
        return -1;
    return keep_or_fail(search_complete(fx.ix, "the sp", 5, err));
}

static int run_index(struct search_error *err)
{
    char path[4096], why[256];
    if (dbdir_writer_path(fx.newdir, 1, path, sizeof path, why, sizeof why) < 0) {
        search_error_set(err, 503, "unavailable", "%s", why);
        return -1;
    }
    /* Fewer articles than the seed index: each costs time at every injection point, and
     * three exercise the same paths as five. */
    return index_articles(path, INDEX_OP_TEXTS, err);
}

/* What the new index answers (and that it opens): searched without injection. */
static char *result_index(void)
{
    struct search_error err;
    struct search_index *ix = search_index_open(fx.newdir, &err);
    if (!ix)
        fail_msg("the new index does not open: %s", err.message);
    prepare_out();
    for (size_t i = 0; i < 2; i++) {
        json_t *r = search_run(ix, &fx.req[i], &err);
        if (!r)
            fail_msg("the new index does not answer: %s", err.message);
        keep(r);
    }
    keep(search_health(ix, &err));
    search_index_close(ix);
    return kept_text();
}

static void cleanup_index(void)
{
    remove_tree(fx.newdir);
}

static const char accented[] =
    "Le caf\xc3\xa9 de la gare: naive tourists and na\xc3\xafve ones alike say "
    "<revenues> & \"spark\" matter, the CAF\xc3\x89 owner said about Muse Spark's "
    "r\xc3\xa9sum\xc3\xa9. More words follow so that the window has to choose.";

static int run_snippet(struct search_error *err)
{
    static const char *const terms[] = {"Zcafe", "naiv", "Zspark", "Zrevenu", "Smuse"};
    struct snippet_terms *t = snippet_terms_new(fx.stem);
    if (!t)
        goto nomem;
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        if (snippet_terms_add(t, terms[i], strlen(terms[i])) < 0)
            goto nomem;
    }
    for (size_t i = 0; i < 2; i++) {
        const char *text = i == 0 ? accented : fx.texts[1];
        size_t len = i == 0 ? sizeof accented - 1 : fx.text_len[1];
        char *s = snippet_make(t, text, len, 80, "<b>", "</b>");
        if (!s)
            goto nomem;
        json_t *j = json_string(s);
        free(s);
        if (!j)
            goto nomem;
        if (keep_or_fail(j) < 0)
            goto fail;
    }
    snippet_terms_free(t);
    return 0;
nomem:
    search_error_set(err, 500, "internal", "out of memory");
fail:
    snippet_terms_free(t);
    return failed_run();
}

static void clear_decoded(void)
{
    search_request_clear(&fx.dec[0]);
    search_request_clear(&fx.dec[1]);
}

static int run_decode(struct search_error *err)
{
    static const char body[] =
        "{\"q\": \"caf\xc3\xa9 \\u00e9t\\u00e9 \\\"muse\\\"\", \"limit\": 7, \"offset\": 2, "
        "\"snippet\": false, \"op\": \"and\", \"sort\": \"date:asc\", \"dedup\": \"0\", "
        "\"explain\": true, \"facets\": \"year,source\", \"mark_open\": \"<em>\", "
        "\"mark_close\": \"</em>\"}";
    static const char qs[] = "q=muse+%22spark%22+caf%C3%A9&limit=3&offset=1&snippet=1&op=or"
                             "&sort=date&dedup=1&explain=0&facets=category&mark_open=%5B"
                             "&mark_close=%5D";
    search_request_init(&fx.dec[0]);
    search_request_init(&fx.dec[1]);
    if (search_request_from_json(&fx.dec[0], body, sizeof body - 1, err) < 0 ||
        search_request_from_query(&fx.dec[1], qs, err) < 0) {
        clear_decoded();
        return -1;
    }
    return 0;
}

static char *result_decode(void)
{
    struct strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < 2; i++) {
        const struct search_request *r = &fx.dec[i];
        sb_printf(&sb,
                  "q=%s limit=%u offset=%u snippet=%d op_and=%d sort=%d dedup=%d "
                  "explain=%d facets=%u marks=%s%s\n",
                  r->q ? r->q : "(null)", r->limit, r->offset, r->snippet, r->op_and, (int)r->sort,
                  r->dedup, r->explain, r->facets, r->mark_open, r->mark_close);
    }
    clear_decoded();
    assert_false(sb.failed);
    return sb.buf;
}

static const char page[] =
    "<!doctype html><html><head><title>Caf\xc3\xa9 news | Site</title>"
    "<meta property=\"article:published_time\" content=\"2026-04-10T08:00:00Z\"></head>"
    "<body><nav>Home</nav><article><h1>Caf\xc3\xa9 news</h1><p>First <b>para</b>graph with "
    "<a href=\"#\">a link</a>.</p><ul><li>one</li><li>two</li></ul></article></body></html>";
static const char markdown[] = "# A *Markdown* title\n\nSome [linked](http://x) text on "
                               "2026-04-10, with `code`.\n\n- a list\n- of items\n";

static void clear_articles(void)
{
    for (size_t i = 0; i < sizeof fx.art / sizeof fx.art[0]; i++)
        article_clear(&fx.art[i]);
    free(fx.clean);
    fx.clean = NULL;
}

static int run_article(struct search_error *err)
{
    char why[256] = "";
    int rc = article_parse_text(fx.texts[3], fx.text_len[3], 0, &fx.art[0], why, sizeof why);
    if (rc == 0)
        rc = article_parse_text(markdown, sizeof markdown - 1, 1, &fx.art[1], why, sizeof why);
    if (rc == 0)
        rc = article_parse_html(page, sizeof page - 1, &fx.art[2], why, sizeof why);
    if (rc == 0)
        rc = article_parse_json(json_articles[0], strlen(json_articles[0]), &fx.art[3], why,
                                sizeof why);
    if (rc == 0) {
        /* Tokens past jansson's first buffer size (16 bytes): a number, and strings with
         * escapes (jansson issue #362 hit both). */
        static const char line[] = "{\"id\": 12345678901234567, \"title\": \"An \\u00e9scaped "
                                   "\\\"title\\\" that is long\", \"body\": \"b\\n\\t\\u00e9\"}";
        rc = article_parse_json(line, sizeof line - 1, &fx.art[5], why, sizeof why);
    }
    if (rc == 0) {
        static const char bad[] = "ok \xff\xfe bad \xc3 utf-8\0nul";
        fx.clean = article_utf8_clean(bad, sizeof bad - 1, &fx.clean_len);
        if (!fx.clean) {
            snprintf(why, sizeof why, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0) {
        /* The line reader over gzip, each line parsed; the last article is kept. */
        article_lines *r = article_lines_open(fx.gzpath, why, sizeof why);
        const char *line;
        size_t len;
        unsigned long lineno;
        rc = r ? 0 : -1;
        while (rc == 0 && (rc = article_lines_next(r, &line, &len, &lineno, why, sizeof why)) == 1)
            rc = article_parse_json(line, len, &fx.art[4], why, sizeof why);
        article_lines_close(r);
    }
    if (rc < 0) {
        search_error_set(err, 500, "internal", "%s", why[0] ? why : "(no reason given)");
        clear_articles();
        return -1;
    }
    return 0;
}

static char *result_article(void)
{
    struct strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < sizeof fx.art / sizeof fx.art[0]; i++) {
        const struct article *a = &fx.art[i];
        sb_printf(&sb, "id=%s title=%s date=%s source=%s url=%s category=%s body(%zu)=%s\n",
                  a->id ? a->id : "-", a->title ? a->title : "-", a->date ? a->date : "-",
                  a->source ? a->source : "-", a->url ? a->url : "-",
                  a->category ? a->category : "-", a->body_len, a->body ? a->body : "-");
    }
    sb_printf(&sb, "clean(%zu)=", fx.clean_len);
    sb_append(&sb, fx.clean, fx.clean_len);
    clear_articles();
    assert_false(sb.failed);
    return sb.buf;
}

static const struct op op_open = {"open", prepare_out, run_open, kept_text, NULL, 0};
static const struct op op_refresh = {"refresh", prepare_refresh, run_refresh, result_refresh, NULL,
                                     0};
static const struct op op_search = {"search", prepare_out, run_search, kept_text, NULL, 1};
static const struct op op_similar = {"similar", prepare_out, run_similar, kept_text, NULL, 1};
static const struct op op_doc = {"doc", prepare_out, run_doc, result_doc, NULL, 1};
static const struct op op_health = {"health", prepare_out, run_health, kept_text, NULL, 1};
static const struct op op_complete = {"complete", prepare_out, run_complete, kept_text, NULL,
                                      1};
static const struct op op_index = {"index", NULL, run_index, result_index, cleanup_index, 0};
static const struct op op_snippet = {"snippet", prepare_out, run_snippet, kept_text, NULL, 0};
static const struct op op_decode = {"decode", NULL, run_decode, result_decode, NULL, 0};
static const struct op op_article = {"article", NULL, run_article, result_article, NULL, 0};

/* ---- the sweep ------------------------------------------------------------------------- */

enum inject { INJECT_BINDING, INJECT_ALLOC, INJECT_ALLOC_PERSISTENT };

static const char *kind_name(enum inject kind, xc_code code)
{
    if (kind == INJECT_ALLOC)
        return "allocation failure";
    if (kind == INJECT_ALLOC_PERSISTENT)
        return "allocation failure (persistent)";
    return code == XC_ERR_MODIFIED ? "binding fault (modified)"
           : code == XC_ERR_NOMEM  ? "binding fault (out of memory)"
                                   : "binding fault (I/O)";
}

/* Prints where got first differs from want (the texts are too long for a failure
 * message). */
static void show_difference(const char *got, const char *want)
{
    const char *g = got, *w = want;
    int line = 1;
    while (*g && *g == *w) {
        if (*g == '\n') {
            line++;
            got = g + 1;
            want = w + 1;
        }
        g++, w++;
    }
    printf("# first difference, line %d:\n#   got:      %.*s\n#   expected: %.*s\n", line,
           (int)strcspn(got, "\n"), got, (int)strcspn(want, "\n"), want);
    fflush(stdout);
}

/* Runs op once without injection; it must succeed. Returns its result text. */
static char *run_clean(const struct op *op, const char *when)
{
    struct search_error err;
    memset(&err, 0, sizeof err);
    if (op->prepare)
        op->prepare();
    int rc = op->run(&err);
    char *text = rc == 0 ? op->result() : NULL;
    if (op->cleanup)
        op->cleanup();
    if (rc != 0)
        fail_msg("%s: fails %s: %d %s", op->name, when, err.status, err.message);
    return text;
}

/* QUIRE_FAULT_OPS=search,index limits the sweeps to those operations (when looking into
 * one). */
static int op_selected(const struct op *op)
{
    const char *only = getenv("QUIRE_FAULT_OPS");
    if (!only || !*only)
        return 1;
    size_t n = strlen(op->name);
    for (const char *p = only; *p; p += strcspn(p, ","), p += *p == ',') {
        if (strncmp(p, op->name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

/* Fails the 1st, 2nd, ... injection point of op in turn until op no longer reaches the
 * armed one. Returns the number of points. */
static long sweep(const struct op *op, enum inject kind, xc_code code)
{
    if (!op_selected(op))
        return 0;
    char *base = run_clean(op, "without injection");
    const char *kname = kind_name(kind, code);
    long n, absorbed = 0;
    if (kind == INJECT_BINDING)
        xc_test_fail_with(code);
    for (n = 1; n <= SWEEP_MAX; n++) {
        struct search_error err;
        memset(&err, 0, sizeof err);
        if (op->prepare)
            op->prepare();
        track_begin();
        if (kind == INJECT_BINDING) {
            xc_test_fail_after(n);
        } else {
            alloc_injected = 0;
            alloc_persistent = kind == INJECT_ALLOC_PERSISTENT;
            alloc_countdown = n - 1;
        }
        int rc = op->run(&err);
        int fired;
        if (kind == INJECT_BINDING) {
            fired = xc_test_fault_fired();
            xc_test_fail_after(0);
        } else {
            fired = alloc_injected;
            alloc_countdown = -1;
        }
        char *text = rc == 0 ? op->result() : NULL;
        if (op->cleanup)
            op->cleanup();
        if (rc == 0 && strcmp(text, base) != 0) {
            show_difference(text, base);
            fail_msg("%s, %s %ld: succeeded with a different result", op->name, kname, n);
        }
        free(text);
        /* What the index remembers between searches (term frequencies, termfreq.c) is
         * state it keeps on purpose, not a leak: forgotten before counting. */
        if (fx.ix)
            termfreq_cache_clear(&fx.ix->termfreqs);
        long leaked = track_end();
        if (track_overflow)
            fail_msg("%s, %s %ld: too many live allocations to track", op->name, kname, n);
        if (leaked)
            fail_msg("%s, %s %ld: %ld blocks leaked (rc %d: %s)", op->name, kname, n, leaked, rc,
                     err.message);
        if (!fired) {
            if (rc != 0)
                fail_msg("%s, %s %ld: failed with no failure injected: %s", op->name, kname, n,
                         err.message);
            break;
        }
        if (rc == 0)
            absorbed++;
        else if (getenv("QUIRE_FAULT_SHOW"))
            printf("# %s: %s %ld: %d %s\n", kname, op->name, n, err.status, err.message);
        /* A 4xx would blame the client for the server's failure. */
        if (rc != 0) {
            if (err.status < 500 || err.status > 599 || !err.code || !err.message[0])
                fail_msg("%s, %s %ld: failed without a proper error: status %d, code %s, "
                         "message \"%s\"",
                         op->name, kname, n, err.status, err.code ? err.code : "(none)",
                         err.message);
        }
        /* The same handles answer as before. */
        char *again = run_clean(op, "after an injected failure");
        if (strcmp(again, base) != 0) {
            show_difference(again, base);
            fail_msg("%s, %s %ld: answers differently afterwards", op->name, kname, n);
        }
        free(again);
    }
    if (n > SWEEP_MAX)
        fail_msg("%s, %s: more than %d injection points", op->name, kname, SWEEP_MAX);
    free(base);
    long points = n - 1;
    printf("# %s: %s: %ld injection points (%ld absorbed)\n", kname, op->name, points, absorbed);
    fflush(stdout);
    /* Every operation has something that can fail. */
    assert_true(points > 0);
    /* A read that met a newer revision, or read nonsense from a block the writer had
     * reused (an I/O error), is tried again on the latest revision, not failed: a one-shot
     * fault of either kind is absorbed wherever it strikes a reader (the crasher's quired
     * once answered 503 to /doc while quire-index committed). */
    if (kind == INJECT_BINDING && (code == XC_ERR_MODIFIED || code == XC_ERR_IO) && op->retries)
        assert_int_equal(absorbed, points);
    return points;
}

static void test_binding_faults(void **state)
{
    (void)state;
    static const struct op *const ops[] = {&op_open,   &op_refresh,  &op_search,
                                           &op_similar, &op_doc,     &op_health,
                                           &op_complete, &op_index,  &op_snippet};
    static const xc_code codes[] = {XC_ERR_IO, XC_ERR_MODIFIED, XC_ERR_NOMEM};
    for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
        long total = 0;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            /* A writer is never told it fell behind, and out of memory takes the writer's
             * I/O error paths: indexing, the slowest operation, is swept for I/O errors.
             * The snippet maker reads no database (it stems words): out of memory alone. */
            if (ops[i] == &op_index && codes[c] != XC_ERR_IO)
                continue;
            if (ops[i] == &op_snippet && codes[c] != XC_ERR_NOMEM)
                continue;
            total += sweep(ops[i], INJECT_BINDING, codes[c]);
        }
        printf("# %s: %ld injection points in all\n", kind_name(INJECT_BINDING, codes[c]), total);
    }
    xc_test_fail_with(XC_ERR_IO);
}

static const struct op *const alloc_ops[] = {&op_open,    &op_refresh,  &op_search,
                                             &op_similar, &op_doc,      &op_health,
                                             &op_complete, &op_index,   &op_snippet,
                                             &op_decode,  &op_article};

static void test_allocation_failures(void **state)
{
    (void)state;
    long total = 0;
    for (size_t i = 0; i < sizeof alloc_ops / sizeof alloc_ops[0]; i++)
        total += sweep(alloc_ops[i], INJECT_ALLOC, XC_OK);
    printf("# allocation failure: %ld injection points in all\n", total);
}

static void test_allocation_failures_persistent(void **state)
{
    (void)state;
    long total = 0;
    for (size_t i = 0; i < sizeof alloc_ops / sizeof alloc_ops[0]; i++)
        total += sweep(alloc_ops[i], INJECT_ALLOC_PERSISTENT, XC_OK);
    printf("# allocation failure (persistent): %ld injection points in all\n", total);
    alloc_persistent = 0;
}

/* The hooks are in place: a failure armed here reaches libquire and jansson. */
static void test_hooks_reach_the_library(void **state)
{
    (void)state;
    alloc_countdown = 0;
    alloc_injected = 0;
    size_t n;
    char *s;
    int rc = util_fold_latin("caf\xc3\xa9", 5, &s, &n);
    alloc_countdown = -1;
    assert_true(alloc_injected);
    assert_int_equal(rc, -1);
    assert_null(s);
    alloc_countdown = 0;
    alloc_injected = 0;
    json_t *j = json_object();
    alloc_countdown = -1;
    assert_true(alloc_injected);
    assert_null(j);
}

int main(void)
{
    json_set_alloc_funcs(json_alloc_hook, json_free_hook);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hooks_reach_the_library),
        cmocka_unit_test(test_binding_faults),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_allocation_failures_persistent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
