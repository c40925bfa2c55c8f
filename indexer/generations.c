/*
 * generations.c -- checking a rebuilt generation before it goes live, pruning old ones,
 * and --rollback.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbdir.h"
#include "schema.h"
#include "search.h"
#include "run.h"
#include "xapian-c/xc.h"

/* Checks a freshly built generation before it goes live: it opens, has documents, did not
 * shrink by more than max_drop against the live one (unless --force), and searching for
 * the titles of a few of its documents finds them. Returns 0, or -1 with why filled. */
int generations_check(const char *dbdir, const char *genpath, const struct options *o,
                            char *why, size_t whylen)
{
    struct search_error se;
    struct search_index *fresh = search_index_open(genpath, &se);
    if (!fresh) {
        snprintf(why, whylen, "new generation does not open: %.400s", se.message);
        return -1;
    }
    unsigned n = search_index_doccount(fresh);
    int rc = 0;
    unsigned live_docs = 0;
    char gen[256];
    if (dbdir_generation(dbdir, gen, sizeof gen) == 0 && gen[0]) {
        struct search_index *live = search_index_open(dbdir, &se);
        if (live) {
            live_docs = search_index_doccount(live);
            search_index_close(live);
        }
    }
    if (n == 0) {
        snprintf(why, whylen, "new generation has no documents (live one has %u)", live_docs);
        rc = -1;
    } else if (!o->force && live_docs > 0 && (double)n < (double)live_docs * (1.0 - o->max_drop)) {
        snprintf(why, whylen,
                 "new generation has %u documents, %.0f%% fewer than the live one's %u "
                 "(more than --max-drop %.0f%%); use --force to swap anyway",
                 n, 100.0 * (1.0 - (double)n / live_docs), live_docs, o->max_drop * 100);
        rc = -1;
    }
    /* Sample queries: the titles of a few documents spread over the new generation must
     * find something. A fresh build numbers its documents 1..n. */
    xc_db *raw = rc == 0 ? xc_db_open(genpath, NULL) : NULL;
    for (int k = 0; raw && rc == 0 && k < 3; k++) {
        unsigned docid = 1 + (unsigned)((unsigned long)(n - 1) * (unsigned long)k / 2);
        size_t dlen = 0;
        char *data = xc_db_doc_data(raw, docid, &dlen, NULL);
        struct schema_display d;
        char q[256] = "";
        if (data && schema_display_decode(data, dlen, &d) == 0) {
            snprintf(q, sizeof q, "%s", d.title);
            schema_display_free(&d);
        }
        free(data);
        struct search_request req;
        if (!q[0])
            continue;
        search_request_init(&req);
        search_request_set(&req, "q", q, &se);
        search_request_set(&req, "op", "or", &se);
        req.snippet = 0;
        json_t *res = search_run(fresh, &req, &se);
        search_request_clear(&req);
        size_t hits = res ? json_array_size(json_object_get(res, "hits")) : 0;
        json_decref(res);
        if (hits == 0) {
            snprintf(why, whylen, "sample query \"%.100s\" finds nothing in the new generation",
                     q);
            rc = -1;
        }
    }
    xc_db_free(raw);
    search_index_close(fresh);
    return rc;
}

/* Removes every generation directory that is not among the stack's top `keep` entries,
 * and cuts the stack to those: so pruning can never remove what --rollback would restore
 * while it is kept. */
static void prune(const char *dbdir, char (*stack)[DBDIR_NAME_MAX], size_t n, unsigned keep)
{
    size_t from = n > keep ? n - keep : 0;
    unsigned nums[1024];
    size_t k = dbdir_list_generations(dbdir, nums, 1024);
    for (size_t i = 0; i < k; i++) {
        char name[DBDIR_NAME_MAX];
        dbdir_generation_name(nums[i], name, sizeof name);
        int kept = 0;
        for (size_t j = from; j < n; j++)
            kept |= strcmp(stack[j], name) == 0;
        if (!kept && dbdir_remove_generation(dbdir, name) < 0)
            fprintf(stderr, "%s: cannot remove old generation %s: %s\n", progname, name,
                    strerror(errno));
    }
}

int generations_begin(const char *dbdir, char *name, size_t namelen, char *why, size_t whylen)
{
    char path[PATH_MAX];
    snprintf(name, namelen, "%s", DBDIR_BUILD);
    snprintf(path, sizeof path, "%s/%s", dbdir, DBDIR_BUILD);
    if (mkdir(dbdir, 0755) < 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create %s: %s", dbdir, strerror(errno));
        return -1;
    }
    /* What a killed rebuild left: never live, never listed; it goes. */
    if (access(path, F_OK) == 0 && dbdir_remove_generation(dbdir, DBDIR_BUILD) < 0) {
        snprintf(why, whylen, "cannot remove an unfinished rebuild %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void generations_abandon(const char *dbdir, const char *name)
{
    if (name[0] && dbdir_remove_generation(dbdir, name) < 0 && errno != ENOENT)
        fprintf(stderr, "%s: cannot remove %s/%s: %s\n", progname, dbdir, name, strerror(errno));
}

int generations_compact(const char *dbdir, const char *name, char *why, size_t whylen)
{
    char src[PATH_MAX], dst[PATH_MAX];
    snprintf(src, sizeof src, "%s/%s", dbdir, name);
    snprintf(dst, sizeof dst, "%s/%s", dbdir, DBDIR_COMPACT);
    if (access(dst, F_OK) == 0 && dbdir_remove_generation(dbdir, DBDIR_COMPACT) < 0) {
        snprintf(why, whylen, "cannot remove an unfinished compaction %s: %s", dst,
                 strerror(errno));
        return -1;
    }
    xc_error *err = NULL;
    const char *srcs[1] = {src};
    int rc = xc_db_compact(srcs, 1, dst, &err);
    xc_wdb *wdb = rc == 0 ? xc_wdb_open(dst, 0, &err) : NULL;
    if (rc < 0 || !wdb || xc_wdb_set_metadata(wdb, GENERATIONS_FIRST_BUILD, "", 0, &err) < 0 ||
        xc_wdb_commit(wdb, &err) < 0) {
        snprintf(why, whylen, "cannot compact %s: %s", src,
                 err && err->message ? err->message : "out of memory");
        xc_error_free(err);
        xc_wdb_free(wdb);
        generations_abandon(dbdir, DBDIR_COMPACT);
        return -1;
    }
    xc_wdb_free(wdb);
    return 0;
}

int generations_push(const char *dbdir, const char *built, int replace, unsigned keep,
                     char *gen, size_t genlen, char *why, size_t whylen)
{
    char stack[1025][DBDIR_NAME_MAX];
    int n = dbdir_stack(dbdir, stack, 1024);
    if (n < 0) {
        snprintf(why, whylen, "%s/%s names no local generation", dbdir, DBDIR_CURRENT);
        return -1;
    }
    if (replace && n > 0)
        n--;
    /* A number no directory has had (a reader may still hold a rolled-back one). */
    unsigned num;
    if (dbdir_next_generation(dbdir, &num, why, whylen) < 0)
        return -1;
    char name[DBDIR_NAME_MAX], from[PATH_MAX], to[PATH_MAX];
    dbdir_generation_name(num, name, sizeof name);
    snprintf(from, sizeof from, "%s/%s", dbdir, built);
    snprintf(to, sizeof to, "%s/%s", dbdir, name);
    if (rename(from, to) < 0) {
        snprintf(why, whylen, "cannot rename %s to %s: %s", from, to, strerror(errno));
        return -1;
    }
    snprintf(stack[n++], DBDIR_NAME_MAX, "%s", name);
    /* `current` first: a run killed before the stack file is written finds it there. */
    if (dbdir_set_current(dbdir, name, why, whylen) < 0)
        return -1;
    size_t from_i = (size_t)n > keep ? (size_t)n - keep : 0;
    if (dbdir_stack_write(dbdir, stack + from_i, (size_t)n - from_i, why, whylen) < 0)
        return -1;
    prune(dbdir, stack, (size_t)n, keep);
    snprintf(gen, genlen, "%s", name);
    return 0;
}

int generations_rollback(const char *dbdir, int list)
{
    char stack[1025][DBDIR_NAME_MAX], why[512];
    int n = dbdir_stack(dbdir, stack, 1024);
    if (n < 0) {
        fprintf(stderr, "%s: %s/%s names no local generation\n", progname, dbdir, DBDIR_CURRENT);
        return EXIT_IO;
    }
    if (list) {
        for (int i = n - 1; i >= 0; i--)
            printf("%s%s\n", stack[i], i == n - 1 ? " (live)" : "");
        return EXIT_OK;
    }
    if (n == 0) {
        fprintf(stderr, "%s: %s has no generations to roll back\n", progname, dbdir);
        return EXIT_REFUSED;
    }
    if (n < 2) {
        fprintf(stderr, "%s: no generation below %s is kept; nothing to roll back to\n",
                progname, stack[0]);
        return EXIT_REFUSED;
    }
    const char *prev = stack[n - 2];
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dbdir, prev);
    struct search_error se;
    struct search_index *ix = search_index_open(path, &se);
    if (!ix) {
        fprintf(stderr, "%s: %s does not open, not rolling back: %s\n", progname, prev,
                se.message);
        return EXIT_REFUSED;
    }
    search_index_close(ix);
    if (dbdir_set_current(dbdir, prev, why, sizeof why) < 0 ||
        dbdir_stack_write(dbdir, stack, (size_t)n - 1, why, sizeof why) < 0) {
        fprintf(stderr, "%s: %s\n", progname, why);
        return EXIT_IO;
    }
    printf("rolled back from %s to %s\n", stack[n - 1], prev);
    return EXIT_OK;
}
