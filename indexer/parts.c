/*
 * parts.c -- a full build on every core. The documents are split by id among one process
 * per core (a part: all records of one id go to one part, so each part's claims and
 * duplicate rules see every record they need), each part writes its own database
 * DIR/.part-K-of-P as an ordinary incremental run would, and the parts are then merged
 * into one compacted database, DIR/.compact, that goes live as the build.
 *
 * A part is an incremental database like any other: a first build killed half way keeps
 * its parts, and the next run continues each where its last commit left it. A rebuild
 * starts its parts afresh (a killed rebuild leaves nothing, see generations.c).
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "dbdir.h"
#include "schema.h"
#include "util.h"
#include "run.h"
#include "xapian-c/xc.h"

/* Below this much input a build is not split: starting and merging parts costs more. */
#define PARTS_MIN_BYTES (4LL << 20)

/* What a part's run sends back to the parent through its pipe. */
struct part_counts {
    unsigned long added, updated, deleted, unchanged, skipped, unreadable, duplicates,
        recoded;
    int io_error;
};

unsigned parts_wanted(const struct options *o, const struct file_list *fl, int fresh)
{
    if (!fresh || o->dry_run || o->shards || o->child)
        return 1;
    unsigned jobs = o->jobs;
    if (!jobs) {
        if (fl->bytes < PARTS_MIN_BYTES)
            return 1;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus > 1 ? (unsigned)cpus : 1;
    }
    return jobs > PARTS_MAX ? PARTS_MAX : jobs;
}

static void part_name(unsigned k, unsigned n, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%u-of-%u", DBDIR_PART_PREFIX, k, n);
}

/* Removes the parts a run left that this one will not continue: all of them for a rebuild,
 * those of another part count otherwise. */
static void remove_stale_parts(const char *dbdir, unsigned n, int rebuild)
{
    for (unsigned m = 1; m <= PARTS_MAX; m++) {
        if (m == n && !rebuild)
            continue;
        for (unsigned k = 0; k < m; k++) {
            char name[64];
            part_name(k, m, name, sizeof name);
            if (dbdir_remove_generation(dbdir, name) < 0 && errno != ENOENT)
                fprintf(stderr, "%s: cannot remove %s/%s: %s\n", progname, dbdir, name,
                        strerror(errno));
        }
    }
}

/* The run of part k, in the child process: returns its exit code. */
static int part_run(struct run *r, const struct options *o, struct file_list *fl, unsigned k,
                    unsigned n, int fd)
{
    char name[64], path[PATH_MAX];
    part_name(k, n, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", o->dbdir, name);
    r->shard_k = k;
    r->shard_n = n;
    r->mute_inputs = k != 0;      /* part 0 reports what every part meets (run.h) */
    r->progress = r->progress && k == 0;
    r->added = r->updated = r->deleted = r->unchanged = r->skipped = 0;
    r->unreadable = r->duplicates = r->recoded = 0;
    xc_error *err = NULL;
    r->wdb = xc_wdb_open(path, 1, &err);
    r->tg = r->wdb ? xc_termgen_new(SCHEMA_LANG, &err) : NULL;
    if (!r->tg) {
        fprintf(stderr, "%s: cannot open %s: %s\n", progname, path,
                err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        r->io_error = 1;
    } else {
        if (!o->no_spelling)
            xc_termgen_set_spelling(r->tg, r->wdb);
        run_index_files(r, fl);
        if (!r->io_error && r->pending > 0)
            run_commit(r);
    }
    struct part_counts c;
    memset(&c, 0, sizeof c); /* the padding too: all of it goes down the pipe */
    c.added = r->added;
    c.updated = r->updated;
    c.deleted = r->deleted;
    c.unchanged = r->unchanged;
    c.skipped = r->skipped;
    c.unreadable = r->unreadable;
    c.duplicates = r->duplicates;
    c.recoded = r->recoded;
    c.io_error = r->io_error;
    int code = util_write_all(fd, &c, sizeof c) < 0 || r->io_error ? EXIT_IO : EXIT_OK;
    xc_termgen_free(r->tg);
    xc_wdb_free(r->wdb);
    return code;
}

/* Waits for the n parts; adds their counts to r. Returns 0 when every part ended its run
 * complete. */
static int reap_parts(struct run *r, const pid_t *pids, const int *fds, unsigned n)
{
    int rc = 0;
    for (unsigned k = 0; k < n; k++) {
        struct part_counts c;
        int got = util_read_all(fds[k], &c, sizeof c);
        close(fds[k]);
        int st = 0;
        while (waitpid(pids[k], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st)) {
            fprintf(stderr, "%s: part %u of the build was killed by signal %d\n", progname, k,
                    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
            rc = -1;
        }
        if (got != 0 || c.io_error || !WIFEXITED(st) || WEXITSTATUS(st) != EXIT_OK) {
            rc = -1;
            continue;
        }
        r->added += c.added;
        r->updated += c.updated;
        r->deleted += c.deleted;
        r->unchanged += c.unchanged;
        r->skipped += c.skipped;
        r->unreadable += c.unreadable;
        r->duplicates += c.duplicates;
        r->recoded += c.recoded;
    }
    return rc;
}

/* ---- merging ----------------------------------------------------------------------------- */

struct keys {
    struct strlist list;
    int oom;
};

/* Collects a metadata key; stops the listing when out of memory. */
static int collect_key(const char *key, void *p)
{
    struct keys *k = p;
    if (strlist_add(&k->list, key) < 0) {
        k->oom = 1;
        return 1;
    }
    return 0;
}

/* One file's signature in the merged database. Every part records the file it read
 * completely, with the number of its own ids; the merged one holds their sum. A file some
 * part could not read completely loses its signature, so the next run reads it again.
 * Returns 0, or -1 with *err (NULL: out of memory). */
static int fix_signature(xc_wdb *out, xc_db *const *parts, unsigned n, const char *key,
                         xc_error **err)
{
    long long mtime0 = 0, size0 = 0;
    long total = 0;
    char *first = NULL;
    int complete = 1;
    for (unsigned k = 0; k < n && complete; k++) {
        char *v = xc_db_metadata(parts[k], key, err);
        long long mtime = 0, size = 0;
        long docs = 0;
        if (!v) {
            free(first);
            return -1;
        }
        if (claims_signature_parse(v, &mtime, &size, &docs) < 0 ||
            (k > 0 && (mtime != mtime0 || size != size0)))
            complete = 0;
        mtime0 = mtime;
        size0 = size;
        total += docs;
        if (k == 0)
            first = v;
        else
            free(v);
    }
    const char *rest = complete && first ? strchr(first, '\t') : NULL;
    int rc;
    if (rest) {
        struct strbuf sb;
        sb_init(&sb);
        sb_printf(&sb, "%lld %lld %ld%s", mtime0, size0, total, rest);
        rc = sb.failed ? -1 : xc_wdb_set_metadata(out, key, sb_cstr(&sb), sb.len, err);
        sb_free(&sb);
    } else {
        rc = xc_wdb_set_metadata(out, key, "", 0, err);
    }
    free(first);
    return rc;
}

/* Sets every file's signature in the merged database from the parts'. Returns 0, or -1
 * with *err (NULL: out of memory). */
static int fix_signatures(xc_wdb *out, const char *const *srcs, unsigned n, xc_error **err)
{
    xc_db *dbs[PARTS_MAX] = {0};
    struct keys keys = {0};
    int rc = xc_wdb_metadata_keys(out, RUN_META_FILE_PREFIX, collect_key, &keys, err);
    if (rc == 0 && keys.oom)
        rc = -1;
    for (unsigned k = 0; k < n && rc == 0; k++)
        if (!(dbs[k] = xc_db_open(srcs[k], err)))
            rc = -1;
    for (size_t i = 0; i < keys.list.n && rc == 0; i++)
        rc = fix_signature(out, dbs, n, keys.list.v[i], err);
    for (unsigned k = 0; k < n; k++)
        xc_db_free(dbs[k]);
    strlist_free(&keys.list);
    return rc;
}

/* Merges the n parts into DIR/.compact and finishes it as a build: the files' signatures,
 * the completion table, the time stamp. Returns 0, or -1 (reported). */
static int merge_parts(struct run *r, const struct options *o, unsigned n)
{
    char paths[PARTS_MAX][PATH_MAX], out[PATH_MAX];
    const char *srcs[PARTS_MAX];
    for (unsigned k = 0; k < n; k++) {
        char name[64];
        part_name(k, n, name, sizeof name);
        snprintf(paths[k], sizeof paths[k], "%s/%s", o->dbdir, name);
        srcs[k] = paths[k];
    }
    snprintf(out, sizeof out, "%s/%s", o->dbdir, DBDIR_COMPACT);
    if (dbdir_remove_generation(o->dbdir, DBDIR_COMPACT) < 0 && errno != ENOENT) {
        report(r, "cannot remove an unfinished merge %s: %s", out, strerror(errno));
        return -1;
    }
    xc_error *err = NULL;
    /* Marked before the merge, which then writes them into full blocks. */
    int repeats = schema_mark_duplicates_across(srcs, n, &err);
    if (repeats < 0) {
        report(r, "cannot mark the articles that share a text: %s",
               err && err->message ? err->message : "out of memory");
        xc_error_free(err);
        return -1;
    }
    if (xc_db_compact(srcs, n, out, &err) < 0 || !(r->wdb = xc_wdb_open(out, 0, &err))) {
        report(r, "cannot merge the build's parts into %s: %s", out,
               err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        return -1;
    }
    int rc = 0;
    if (fix_signatures(r->wdb, srcs, n, &err) < 0 ||
        xc_wdb_set_metadata(r->wdb, GENERATIONS_FIRST_BUILD, "", 0, &err) < 0) {
        report(r, "cannot merge the build's parts: %s",
               err && err->message ? err->message : "out of memory");
        xc_error_free(err);
        rc = -1;
    } else if (run_write_tables(r, repeats) < 0) {
        rc = -1;
    } else {
        rc = run_commit(r);
    }
    xc_wdb_free(r->wdb);
    r->wdb = NULL;
    if (rc < 0)
        dbdir_remove_generation(o->dbdir, DBDIR_COMPACT);
    return rc;
}

int parts_build(struct run *r, const struct options *o, struct file_list *fl, unsigned n)
{
    assert(n >= 2 && n <= PARTS_MAX && !r->wdb && !r->tg);
    remove_stale_parts(o->dbdir, n, o->rebuild);
    pid_t pids[PARTS_MAX];
    int fds[PARTS_MAX];
    unsigned started = 0;
    fflush(NULL);
    pid_t parent = getpid();
    for (unsigned k = 0; k < n; k++) {
        int pipefd[2];
        if (pipe(pipefd) < 0) {
            report(r, "pipe: %s", strerror(errno));
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            report(r, "fork: %s", strerror(errno));
            close(pipefd[0]);
            close(pipefd[1]);
            break;
        }
        if (pid == 0) {
            /* A part dies with its run: a killed build leaves no writer behind. */
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_IO);
            close(pipefd[0]);
            for (unsigned j = 0; j < started; j++)
                close(fds[j]);
            int code = part_run(r, o, fl, k, n, pipefd[1]);
            fflush(NULL);
            _exit(code);
        }
        close(pipefd[1]);
        pids[started] = pid;
        fds[started++] = pipefd[0];
    }
    int rc = reap_parts(r, pids, fds, started);
    if (rc < 0 || started < n) {
        r->io_error = 1;
        return -1; /* the parts stay: a first build's next run continues them */
    }
    if (r->progress)
        fputs("\r\033[K", stderr);
    if (merge_parts(r, o, n) < 0) {
        r->io_error = 1;
        return -1;
    }
    remove_stale_parts(o->dbdir, 0, 1);
    return 0;
}
