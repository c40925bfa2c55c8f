/*
 * index.c -- opening, refreshing and health of an index (see index.h): an index
 * directory with generations, a plain Xapian database, or a sharded index (a shard map,
 * shardmap.h) of local and remote shards.
 *
 * Refreshing happens between requests (search_index_refresh): a renamed `current` (a new
 * generation) is opened afresh, new commits are picked up with reopen().
 *
 * Shards: a shard map opens as one database of every shard that is up; each shard has its
 * own state, a failing remote one is taken out and retried (search_index_with_shards).
 */
#include "index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbdir.h"
#include "schema.h"
#include "search_int.h"
#include "shardmap.h"
#include "util.h"
#include "xapian-c/xc.h"

/* Sharded indexes: a shard that failed is retried after SHARD_RETRY_MS, doubling up to
 * SHARD_RETRY_MAX_MS; a remote shard's connection is renewed every SHARD_RENEW_MS, which
 * picks up a generation swapped in on its host (xapian-tcpsrv opens the database afresh
 * for each connection). */
#define SHARD_RETRY_MS 1000.0
#define SHARD_RETRY_MAX_MS 30000.0
#define SHARD_RENEW_MS 10000.0

void search_options_init(struct search_options *o)
{
    memset(o, 0, sizeof *o);
    o->shard_timeout_ms = SEARCH_SHARD_TIMEOUT_MS;
    o->allow_partial = 0;
    o->split_postings = SEARCH_SPLIT_POSTINGS;
}

/* Makes db (owned from here on, NULL for none) the one searched, with a parser for it
 * (the parser expands wildcards against it). On failure db is freed and the old one stays. */
static int set_database(struct search_index *ix, xc_db *db, struct search_error *err)
{
    xc_qp *qp = NULL;
    if (db) {
        xc_error *xe = NULL;
        qp = xc_qp_new(SCHEMA_LANG, db, &xe);
        if (!qp || schema_configure_parser(qp, &xe) < 0 || schema_set_stopwords(qp, &xe) < 0) {
            search_error_set(err, 500, "internal", "cannot set up query parser: %s",
                             xe && xe->message ? xe->message : "unknown error");
            xc_error_free(xe);
            xc_qp_free(qp);
            xc_db_free(db);
            return -1;
        }
        /* A wildcard may not expand to more terms than this: the query is refused. */
        xc_qp_set_max_wildcard(qp, SEARCH_MAX_WILDCARD);
    }
    xc_qp_free(ix->qp);
    xc_db_free(ix->db);
    xc_db_free(ix->twin); /* a twin of the old database */
    ix->twin = NULL;
    ix->db = db;
    ix->qp = qp;
    termfreq_cache_clear(&ix->termfreqs); /* another database: revisions start anew */
    return 0;
}

/* Tries to open an index before giving up (index_load). */
#define INDEX_OPEN_TRIES 4

/* Opens the database, parser and stemmer for ix->path; on success replaces the old ones.
 * An open races the writer's commits: a reader that falls two commits behind while it
 * opens reads blocks the writer has reused, which Xapian reports as DatabaseModifiedError
 * or, inside a table, as DatabaseCorruptError ("Expected block 15 to be level 1, not 0";
 * quired then failed to start, found by tests/model/crasher.py). So a failed open is tried
 * again, a few times and a little later each time; an index that is really missing or
 * damaged fails every time. */
static int index_load(struct search_index *ix, struct search_error *err)
{
    xc_error *xe = NULL;
    struct dbdir_stamp stamp = {0};
    xc_db *db = NULL;
    for (int attempt = 0; attempt < INDEX_OPEN_TRIES; attempt++) {
        if (attempt > 0) {
            struct timespec pause = {0, attempt * 20L * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        xc_error_free(xe);
        xe = NULL;
        dbdir_stamp_of(ix->path, &stamp);
        db = xc_db_open(ix->path, &xe);
        if (db || (xe && (xe->code == XC_ERR_NOT_FOUND || xe->code == XC_ERR_NOMEM)))
            break;
    }
    if (!db) {
        search_error_set(err, 503, "unavailable", "cannot open index %s: %s", ix->dir,
                         xe && xe->message ? xe->message : "unknown error");
        xc_error_free(xe);
        return -1;
    }
    if (set_database(ix, db, err) < 0)
        return -1;
    ix->stamp = stamp;
    ix->no_match_deadline = 0;
    ix->updated_ok = 0;
    if (dbdir_generation(ix->dir, ix->generation, sizeof ix->generation) < 0)
        ix->generation[0] = '\0';
    return 0;
}

/* ---- sharded indexes ------------------------------------------------------------------ */

/* Takes a shard out of service until its retry time. */
static void shard_down(struct shard *s, const char *why)
{
    xc_db_free(s->db);
    s->db = NULL;
    s->failures++;
    snprintf(s->error, sizeof s->error, "%s", why && *why ? why : "unknown error");
    s->backoff_ms = s->backoff_ms > 0 ? s->backoff_ms * 2 : SHARD_RETRY_MS;
    if (s->backoff_ms > SHARD_RETRY_MAX_MS)
        s->backoff_ms = SHARD_RETRY_MAX_MS;
    s->retry_ms = util_now_ms() + s->backoff_ms;
}

/* (Re)opens one shard. Returns 0, or -1 with the shard down. */
static int shard_open(struct search_index *ix, struct shard *s)
{
    xc_error *xe = NULL;
    xc_db *db;
    if (s->e.remote) {
        db = xc_db_open_remote(s->e.host, s->e.port, ix->opts.shard_timeout_ms, &xe);
    } else {
        dbdir_stamp_of(s->e.path, &s->stamp);
        db = xc_db_open(s->e.path, &xe);
    }
    if (!db) {
        shard_down(s, xe && xe->message ? xe->message : NULL);
        xc_error_free(xe);
        return -1;
    }
    xc_db_free(s->db);
    s->db = db;
    s->opened_ms = util_now_ms();
    s->backoff_ms = 0;
    s->error[0] = '\0';
    return 0;
}

/* Makes ix->db the shards that are up, searched as one. */
static int shards_combine(struct search_index *ix, struct search_error *err)
{
    xc_db *up[SHARDMAP_MAX];
    size_t n = 0;
    int remote = 0;
    for (int i = 0; i < ix->nshards; i++) {
        if (ix->shards[i].db) {
            up[n++] = ix->shards[i].db;
            remote |= ix->shards[i].e.remote;
        }
    }
    xc_db *db = NULL;
    if (n > 0) {
        xc_error *xe = NULL;
        db = xc_db_combine(up, n, &xe);
        if (!db) {
            search_error_set(err, 500, "internal", "cannot combine shards: %s",
                             xe && xe->message ? xe->message : "unknown error");
            xc_error_free(xe);
            return -1;
        }
    }
    if (set_database(ix, db, err) < 0)
        return -1;
    /* The match deadline is a posting source that a remote shard cannot run: remote
     * shards are bounded by the shard timeout instead. */
    ix->no_match_deadline = remote;
    ix->has_remote = remote;
    return 0;
}

static void shards_free(struct search_index *ix)
{
    for (int i = 0; i < ix->nshards; i++)
        xc_db_free(ix->shards[i].db);
    free(ix->shards);
    ix->shards = NULL;
    ix->nshards = 0;
}

/* (Re)opens the spelling database the map names. Without one, or when it does not open,
 * suggestions come from the shards themselves (none from remote ones). */
static void spelling_open(struct search_index *ix)
{
    xc_db_free(ix->spelling);
    ix->spelling = NULL;
    if (!ix->spelling_path[0])
        return;
    char path[4096];
    dbdir_reader_path(ix->spelling_path, path, sizeof path);
    dbdir_stamp_of(ix->spelling_path, &ix->spelling_stamp);
    ix->spelling = xc_db_open(path, NULL);
}

/* Reads the shard map ix->path and opens every shard it lists; shards that do not open
 * are left down (and retried). Fails only when the map itself cannot be used. */
static int shards_load(struct search_index *ix, struct search_error *err)
{
    struct shard_entry *v = NULL;
    char why[512];
    struct dbdir_stamp stamp = {0};
    dbdir_stamp_of(ix->path, &stamp);
    char spelling[4096];
    int n = shardmap_read(ix->path, &v, spelling, sizeof spelling, why, sizeof why);
    if (n < 0) {
        search_error_set(err, 503, "unavailable", "cannot read shard map: %s", why);
        return -1;
    }
    struct shard *shards = calloc((size_t)n, sizeof *shards);
    if (!shards) {
        free(v);
        search_error_set(err, 500, "internal", "out of memory");
        return -1;
    }
    shards_free(ix);
    ix->shards = shards;
    ix->nshards = n;
    for (int i = 0; i < n; i++) {
        shards[i].e = v[i];
        shard_open(ix, &shards[i]);
    }
    free(v);
    ix->stamp = stamp;
    ix->generation[0] = '\0';
    snprintf(ix->spelling_path, sizeof ix->spelling_path, "%s", spelling);
    spelling_open(ix);
    ix->updated_ok = 0;
    return shards_combine(ix, err);
}

/* Replaces a remote shard's connection with a new one (down when that fails). */
static void shard_renew(struct search_index *ix, struct shard *s)
{
    xc_db *old = s->db; /* ix->db shares it until shards_combine */
    s->db = NULL;
    shard_open(ix, s);
    xc_db_free(old);
}

/* After a remote failure in an operation: takes the shard that failed out of service.
 * Xapian names it in the error ("(context: remote:tcp(HOST:PORT))"). The other remote
 * shards were in the middle of the same exchange, so their connections are renewed (which
 * also finds a dead one the error did not name). A shard that closed the connection
 * rather than timing out (its server restarted) is reconnected at once. */
static void shards_blame(struct search_index *ix, const char *msg)
{
    for (int i = 0; i < ix->nshards; i++) {
        struct shard *s = &ix->shards[i];
        if (!s->e.remote || !s->db)
            continue;
        char ctx[300];
        snprintf(ctx, sizeof ctx, "remote:tcp(%s:%u)", s->e.host, s->e.port);
        if (strstr(msg, ctx)) {
            shard_down(s, msg);
            if (!strstr(msg, "Timeout"))
                shard_open(ix, s);
        } else {
            shard_renew(ix, s);
        }
    }
}

/* Picks up new commits and swapped generations of local shards, renews remote
 * connections, and retries shards that are down when their time has come. */
static int shards_refresh(struct search_index *ix, struct search_error *err)
{
    struct dbdir_stamp now_stamp;
    if (dbdir_stamp_of(ix->path, &now_stamp) == 0 && !dbdir_stamp_equal(&now_stamp, &ix->stamp))
        return shards_load(ix, err) < 0 ? -1 : 1;
    double now = util_now_ms();
    int changed = 0, regroup = 0;
    struct dbdir_stamp sp;
    if (ix->spelling_path[0] && dbdir_stamp_of(ix->spelling_path, &sp) == 0 &&
        !dbdir_stamp_equal(&sp, &ix->spelling_stamp)) {
        spelling_open(ix);
        changed = 1;
    }
    for (int i = 0; i < ix->nshards; i++) {
        struct shard *s = &ix->shards[i];
        if (!s->db) {
            if (now >= s->retry_ms && shard_open(ix, s) == 0)
                regroup = 1;
            continue;
        }
        if (s->e.remote) {
            if (now - s->opened_ms >= SHARD_RENEW_MS) {
                shard_renew(ix, s);
                regroup = 1;
            }
            continue;
        }
        struct dbdir_stamp st;
        if (dbdir_stamp_of(s->e.path, &st) == 0 && !dbdir_stamp_equal(&st, &s->stamp)) {
            shard_open(ix, s);
            regroup = 1;
            continue;
        }
        xc_error *xe = NULL;
        int rc = xc_db_reopen(s->db, &xe);
        if (rc < 0)
            shard_down(s, xe && xe->message ? xe->message : NULL);
        regroup |= rc < 0;
        changed |= rc > 0;
        xc_error_free(xe);
    }
    if (regroup && shards_combine(ix, err) < 0)
        return -1;
    return changed || regroup;
}

/* The first shard that is down, or NULL. */
const struct shard *search_index_first_down(const struct search_index *ix)
{
    for (int i = 0; i < ix->nshards; i++) {
        if (!ix->shards[i].db)
            return &ix->shards[i];
    }
    return NULL;
}

/* Adds "shards": {"total": N, "failed": K, "down": [names]} to a result. */
static void shards_mark(struct search_index *ix, json_t *res)
{
    json_t *down = json_array();
    for (int i = 0; i < ix->nshards; i++) {
        if (!ix->shards[i].db)
            json_array_append_new(down, json_string(ix->shards[i].e.name));
    }
    json_object_set_new(res, "shards",
                        json_pack("{s:i, s:i, s:o}", "total", ix->nshards, "failed",
                                  (int)json_array_size(down), "down", down));
}


/* Runs op over a sharded index: with a shard down, answers from the others when partial
 * results are allowed (marked by shards_mark), else refuses with a 503 naming the shard.
 * A remote failure during op takes the failing shard out and runs op once more. */
json_t *search_index_with_shards(struct search_index *ix, search_index_op op, const void *arg,
                                 int partial, int mark, struct search_error *err)
{
    if (!ix->shards)
        return op(ix, arg, err);
    if (partial < 0)
        partial = ix->opts.allow_partial;
    for (int attempt = 0; attempt < 2; attempt++) {
        const struct shard *down = search_index_first_down(ix);
        if (down && !partial) {
            search_error_set(err, 503, "shard_unavailable",
                             "shard %s is unavailable: %.300s (ask with partial=1 for the "
                             "results of the other shards)",
                             down->e.name, down->error);
            return NULL;
        }
        if (!ix->db) {
            search_error_set(err, 503, "unavailable", "no shard of the index is available: "
                             "%s: %.300s", down ? down->e.name : "?", down ? down->error : "");
            return NULL;
        }
        unsigned long before = xc_network_failures();
        json_t *res = op(ix, arg, err);
        if (xc_network_failures() == before) {
            if (res && mark)
                shards_mark(ix, res);
            return res;
        }
        json_decref(res);
        shards_blame(ix, xc_network_last_error());
        if (shards_combine(ix, err) < 0)
            return NULL;
    }
    const struct shard *down = search_index_first_down(ix);
    search_error_set(err, 503, "shard_unavailable", "shard %s is unavailable: %.300s",
                     down ? down->e.name : "?", down ? down->error : "remote failure");
    return NULL;
}

/* ---- opening and refreshing -------------------------------------------------------------- */

struct search_index *search_index_open(const char *dir, struct search_error *err)
{
    return search_index_open_with(dir, NULL, err);
}

struct search_index *search_index_open_with(const char *dir, const struct search_options *o,
                                            struct search_error *err)
{
    struct search_index *ix = calloc(1, sizeof *ix);
    if (!ix) {
        search_error_set(err, 500, "internal", "out of memory");
        return NULL;
    }
    if (o)
        ix->opts = *o;
    else
        search_options_init(&ix->opts);
    snprintf(ix->dir, sizeof ix->dir, "%s", dir);
    dbdir_reader_path(dir, ix->path, sizeof ix->path);
    xc_error *xe = NULL;
    ix->stem = xc_stem_new(SCHEMA_LANG, &xe);
    if (!ix->stem) {
        search_error_set(err, 500, "internal", "cannot make stemmer: %s",
                         xe && xe->message ? xe->message : "unknown error");
        xc_error_free(xe);
        free(ix);
        return NULL;
    }
    int rc = shardmap_is_sharded(ix->path) ? shards_load(ix, err) : index_load(ix, err);
    if (rc < 0) {
        search_index_close(ix);
        return NULL;
    }
    return ix;
}

void search_index_close(struct search_index *ix)
{
    if (!ix)
        return;
    xc_qp_free(ix->qp);
    xc_db_free(ix->db);
    xc_db_free(ix->twin);
    xc_db_free(ix->spelling);
    shards_free(ix);
    xc_stem_free(ix->stem);
    termfreq_cache_clear(&ix->termfreqs);
    free(ix);
}

int search_index_refresh(struct search_index *ix, struct search_error *err)
{
    if (ix->shards)
        return shards_refresh(ix, err);
    struct dbdir_stamp now;
    /* A renamed `current` (new generation) needs a fresh open: reopen() does not re-read a
     * stub file. Otherwise reopen() picks up new commits to the same database. */
    char path[4096];
    dbdir_reader_path(ix->dir, path, sizeof path);
    if (strcmp(path, ix->path) != 0 ||
        (dbdir_stamp_of(path, &now) == 0 && !dbdir_stamp_equal(&now, &ix->stamp))) {
        char old[4096];
        memcpy(old, ix->path, sizeof old);
        memcpy(ix->path, path, sizeof ix->path);
        if (index_load(ix, err) < 0) {
            memcpy(ix->path, old, sizeof ix->path);
            return -1;
        }
        return 1;
    }
    xc_error *xe = NULL;
    int rc = xc_db_reopen(ix->db, &xe);
    if (rc < 0) {
        search_error_set(err, 503, "unavailable", "cannot reopen index: %s",
                         xe && xe->message ? xe->message : "unknown error");
        xc_error_free(xe);
        return -1;
    }
    return rc;
}

void search_index_set_timeout(struct search_index *ix, unsigned ms)
{
    ix->timeout_ms = ms;
}

void search_index_set_options(struct search_index *ix, const struct search_options *o)
{
    ix->opts = *o;
}

unsigned long search_index_splits(const struct search_index *ix)
{
    return ix->splits;
}

unsigned search_index_doccount(struct search_index *ix)
{
    return ix->db ? xc_db_doccount(ix->db, NULL) : 0;
}

unsigned long search_index_revision(struct search_index *ix)
{
    return ix->db ? xc_db_revision(ix->db) : 0;
}

const char *search_index_generation(struct search_index *ix)
{
    return ix->generation;
}

/* Re-reads the time of the last commit, and whether articles repeat, when the revision
 * moved. On failure the old value
 * stays and is asked for again next time. Returns 0, or -1 with *xe. */
static int read_updated(struct search_index *ix, xc_error **xe)
{
    if (!ix->db)
        return 0;
    /* The indexer stamps every commit. */
    unsigned long rev = xc_db_revision(ix->db);
    if (ix->updated_ok && rev == ix->updated_rev)
        return 0;
    char *u = xc_db_metadata(ix->db, "quire:updated", xe);
    if (!u)
        return -1;
    char *unique = ix->shards ? NULL : xc_db_metadata(ix->db, SCHEMA_META_UNIQUE_TEXT, xe);
    if (!ix->shards && !unique) {
        free(u);
        return -1;
    }
    int slot = !unique                                      ? SCHEMA_SLOT_HASH
               : strcmp(unique, "1") == 0                   ? -1
               : strcmp(unique, SCHEMA_REPEATS_MARKED) == 0 ? SCHEMA_SLOT_REPEAT
                                                            : SCHEMA_SLOT_HASH;
    free(unique);
    /* The marks are few (one per article whose text another has): counted once. */
    long hides = slot == SCHEMA_SLOT_REPEAT ? xc_db_value_repeats(ix->db, slot, xe) : -1;
    if (slot == SCHEMA_SLOT_REPEAT && hides < 0) {
        free(u);
        return -1;
    }
    snprintf(ix->updated, sizeof ix->updated, "%s", u);
    free(u);
    ix->collapse_slot = slot;
    ix->collapse_hides = hides;
    ix->updated_rev = rev;
    ix->updated_ok = 1;
    return 0;
}

int search_index_collapse_slot(struct search_index *ix)
{
    xc_error *xe = NULL;
    int rc = read_updated(ix, &xe);
    xc_error_free(xe);
    return rc < 0 || !ix->updated_ok || ix->shards ? SCHEMA_SLOT_HASH : ix->collapse_slot;
}

long search_index_collapse_hides(struct search_index *ix, int slot)
{
    if (slot < 0)
        return 0;
    return ix->updated_ok && !ix->shards && slot == ix->collapse_slot ? ix->collapse_hides : -1;
}

const char *search_index_updated(struct search_index *ix)
{
    xc_error *xe = NULL;
    read_updated(ix, &xe);
    xc_error_free(xe);
    return ix->updated;
}

/* ---- searching ----------------------------------------------------------------------- */

json_t *search_shards(struct search_index *ix)
{
    if (!ix->shards)
        return NULL;
    json_t *list = json_array();
    int failed = 0;
    for (int i = 0; i < ix->nshards; i++) {
        const struct shard *s = &ix->shards[i];
        json_t *o = json_pack("{s:s, s:b, s:s, s:I}", "name", s->e.name, "remote", s->e.remote,
                              "state", s->db ? "up" : "down", "failures",
                              (json_int_t)s->failures);
        if (s->db)
            jset(o, "docs", json_integer(xc_db_doccount(s->db, NULL)), &failed);
        else
            jset(o, "error", json_string(s->error), &failed);
        jappend(list, o, &failed);
    }
    if (failed) {
        json_decref(list);
        return NULL;
    }
    return list;
}

json_t *search_health(struct search_index *ix, struct search_error *err)
{
    xc_error *xe = NULL;
    unsigned docs = 0;
    if (ix->shards) {
        /* Shard by shard below; a remote read failing here is the shard's state to
         * report, not a failure of the answer. */
        docs = ix->db ? xc_db_doccount(ix->db, NULL) : 0;
        read_updated(ix, &xe);
        xc_error_free(xe);
        xe = NULL;
    } else {
        /* A reader behind a busy writer reopens and reads again (bounded), as a search
         * does: /health must not answer 503 because a commit went by. */
        for (int attempt = 0;; attempt++) {
            docs = xc_db_doccount(ix->db, &xe);
            if (!xe && read_updated(ix, &xe) == 0)
                break;
            if (!search_reopen_helps(xe) || attempt >= SEARCH_MODIFIED_RETRIES) {
                search_binding_error(err, xe, "cannot read index");
                xc_error_free(xe);
                return NULL;
            }
            xc_error_free(xe);
            xe = NULL;
            xc_db_reopen(ix->db, NULL);
        }
    }
    const char *status = "ok";
    if (ix->shards && !ix->db)
        status = "unavailable";
    else if (ix->shards && search_index_first_down(ix))
        status = "degraded";
    int failed = 0;
    json_t *h = json_object();
    jset(h, "status", json_string(status), &failed);
    jset(h, "docs", json_integer(docs), &failed);
    jset(h, "revision", json_integer((json_int_t)search_index_revision(ix)), &failed);
    if (ix->generation[0])
        jset(h, "generation", json_string(ix->generation), &failed);
    if (ix->updated[0])
        jset(h, "updated", json_string(ix->updated), &failed);
    jset(h, "xapian", json_string(xc_version()), &failed);
    if (ix->shards) {
        json_t *shards = search_shards(ix);
        if (!shards)
            failed = 1;
        jset(h, "shards", shards, &failed);
    }
    if (failed) {
        json_decref(h);
        search_build_failed(err);
        return NULL;
    }
    return h;
}
