/*
 * quire-index -- builds and updates a Quire index from article files.
 *
 * The only writer. A run:
 *   1. walks every PATH into a file list sorted by path (walk.c: how ids are formed);
 *   2. takes the writer lock (DIR/quire.lock; a second writer fails at once, exit 3);
 *   3. forgets the files under the given roots that have disappeared, then, for each file,
 *      compares (mtime, size) with the signature stored by the last run: unchanged files
 *      cost one stat(); changed ones are read and their records applied (claims.c: which
 *      input holds an id, and why nothing is deleted on doubt);
 *   4. commits every --batch changes (sooner after BATCH_TEXT_BYTES of text) and at the
 *      end. A file's signature is written in the same commit as its last change, so a run
 *      killed at any point leaves the index at its last commit and the next run redoes
 *      exactly the unfinished files.
 * --rebuild builds a new generation beside the live one and --rollback goes back one
 * (generations.c); --shards N writes a sharded index (shards.c); options.c has the flags.
 *
 * Exit codes (also in --help and the README):
 *   0 success; 1 finished, but some inputs were skipped, unreadable or duplicated;
 *   2 usage error; 3 the index is locked by another writer; 4 I/O or index error;
 *   5 --rebuild refused by its checks, or nothing to --rollback to.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "complete.h"
#include "dbdir.h"
#include "schema.h"
#include "shardmap.h"
#include "util.h"
#include "run.h"
#include "xapian-c/xc.h"

const char *progname = "quire-index";

void report(struct run *r, const char *fmt, ...)
{
    /* One write per message: the runs of several shards or parts share stderr, and a
     * message written in pieces could be torn by another's. */
    char msg[4096];
    int n = snprintf(msg, sizeof msg, "%s%s: ", r && r->progress ? "\r\033[K" : "", progname);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof msg - 1)
        n += vsnprintf(msg + n, sizeof msg - 1 - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof msg - 2)
        n = (int)(sizeof msg - 2); /* cut: the line still ends */
    msg[n++] = '\n';
    util_write_all(STDERR_FILENO, msg, (size_t)n);
}

int run_failed(struct run *r, xc_error **err, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (err) {
        report(r, "%s: %s", what, *err && (*err)->message ? (*err)->message : "out of memory");
        xc_error_free(*err);
        *err = NULL;
    } else {
        report(r, "%s", what);
    }
    r->io_error = 1;
    return -1;
}

/* ---- compacting a full build ---------------------------------------------------------- */

/* A full build comes out compacted (every table rewritten with full blocks: about half the
 * size, queries as fast), written to DIR/.compact by the compactor or by the parts' merge
 * (parts.c). This makes it the build: a rebuild (newgen names it) is replaced by it before
 * its checks; a first build, already live, is replaced on the stack. */
static void place_build(const struct options *o, char *newgen, size_t newgenlen, char *dbpath,
                        size_t len)
{
    char why[512], gen[256];
    if (newgen) {
        generations_abandon(o->dbdir, newgen);
        snprintf(newgen, newgenlen, "%s", DBDIR_COMPACT);
        snprintf(dbpath, len, "%s/%s", o->dbdir, DBDIR_COMPACT);
    } else if (generations_push(o->dbdir, DBDIR_COMPACT, 1, o->keep, gen, sizeof gen, why,
                                sizeof why) < 0) {
        fprintf(stderr, "%s: the build is kept uncompacted: %s\n", progname, why);
        generations_abandon(o->dbdir, DBDIR_COMPACT);
    }
}

/* Compacts a build written by one process. When compaction fails the build stays as it
 * is, which is a working index: said, not fatal. */
static void compact_build(const struct options *o, char *newgen, size_t newgenlen, char *dbpath,
                          size_t len)
{
    char why[512], gen[256];
    if (dbdir_generation(o->dbdir, gen, sizeof gen) < 0)
        return;
    const char *name = newgen ? newgen : gen;
    if (!name[0])
        return;
    if (generations_compact(o->dbdir, name, why, sizeof why) < 0) {
        fprintf(stderr, "%s: the build is kept uncompacted: %s\n", progname, why);
        return;
    }
    place_build(o, newgen, newgenlen, dbpath, len);
}

/* ---- committing and progress -------------------------------------------------------- */

int run_commit(struct run *r)
{
    char stamp[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    xc_error *err = NULL;
    /* Articles changed since the duplicates were marked may share a text unmarked: searches
     * collapse on the full hash until the run's last commit marks them again. */
    if ((!r->marked && schema_unmark_duplicates(r->wdb, &err) < 0) ||
        xc_wdb_set_metadata(r->wdb, "quire:updated", stamp, strlen(stamp), &err) < 0 ||
        xc_wdb_commit(r->wdb, &err) < 0)
        return run_failed(r, &err, "commit failed");
    r->pending = 0;
    r->pending_text = 0;
    r->marked = 0;
    return 0;
}

int run_write_tables(struct run *r, int repeats)
{
    xc_error *err = NULL;
    if (complete_build_table(r->wdb, NULL, &err) < 0)
        return run_failed(r, &err, "cannot write the completion table");
    if ((repeats < 0 ? schema_mark_duplicates(r->wdb, &err)
                     : schema_duplicates_marked(r->wdb, repeats, &err)) < 0)
        return run_failed(r, &err, "cannot mark the articles that share a text");
    r->marked = 1;
    return 0;
}

int run_changed(struct run *r, size_t text_bytes)
{
    r->pending_text += text_bytes;
    if (++r->pending >= r->batch || r->pending_text >= r->batch_text)
        return run_commit(r);
    return 0;
}

void run_progress(struct run *r, int final)
{
    if (!r->progress)
        return;
    double now = util_now_ms();
    if (!final && now - r->last_draw < 200)
        return;
    r->last_draw = now;
    double secs = (now - r->t0) / 1000.0;
    unsigned long docs = r->added + r->updated + r->unchanged;
    double frac = r->bytes_total > 0 ? (double)r->bytes_done / (double)r->bytes_total : 1.0;
    if (frac > 1)
        frac = 1;
    int width = 30, fill = (int)(frac * width);
    fprintf(stderr, "\r\033[K[%.*s%*s] %3.0f%% %lu docs, %.0f docs/s", fill,
            "##############################", width - fill, "", frac * 100, docs,
            secs > 0 ? (double)(r->added + r->updated) / secs : 0.0);
    fflush(stderr);
}

/* The summary's words for files that are not article files: "ignored 12: .pdf 10, .docx 2". */
static void ignored_text(const struct ignored *ig, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "ignored %lu", ig->total);
    for (size_t i = 0; i < ig->n && n > 0 && (size_t)n < outlen; i++)
        n += snprintf(out + n, outlen - (size_t)n, "%s%s %lu", i ? ", " : ": ", ig->ext[i],
                      ig->count[i]);
}

/* The ignored files by extension, as a JSON object {".pdf": 10, ".docx": 2}. */
static json_t *ignored_json(const struct ignored *ig)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < ig->n; i++)
        json_object_set_new(o, ig->ext[i], json_integer((json_int_t)ig->count[i]));
    return o;
}

void run_summary(const struct run *r, const struct options *o, const char *generation,
                 const char *status, unsigned shards)
{
    double secs = (util_now_ms() - r->t0) / 1000.0;
    double rate = secs > 0 ? (double)(r->added + r->updated) / secs : 0.0;
    if (o->json) {
        json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:f, "
                              "s:b, s:b, s:s, s:s}",
                              "status", status, "added", (json_int_t)r->added, "updated",
                              (json_int_t)r->updated, "deleted", (json_int_t)r->deleted,
                              "unchanged", (json_int_t)r->unchanged, "skipped",
                              (json_int_t)r->skipped, "unreadable", (json_int_t)r->unreadable,
                              "duplicates", (json_int_t)r->duplicates, "converted",
                              (json_int_t)r->recoded, "ignored", (json_int_t)r->ignored.total,
                              "ignored_by_extension", ignored_json(&r->ignored), "seconds",
                              secs, "docs_per_second", rate, "dry_run", o->dry_run, "rebuild",
                              o->rebuild, "generation", generation ? generation : "", "db",
                              o->dbdir);
        if (j && shards)
            json_object_set_new(j, "shards", json_integer(shards));
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text && o->summary_fd >= 0) {
            util_write_all(o->summary_fd, text, strlen(text)); /* the parent sees a short one */
        } else if (text) {
            puts(text);
        }
        free(text);
        json_decref(j);
        return;
    }
    if (o->quiet)
        return;
    char extra[512] = "", over[64] = "";
    int n = 0;
    if (r->unreadable)
        n += snprintf(extra + n, sizeof extra - (size_t)n, ", unreadable %lu (documents kept)",
                      r->unreadable);
    if (r->recoded && n < (int)sizeof extra)
        n += snprintf(extra + n, sizeof extra - (size_t)n, ", converted to UTF-8 %lu", r->recoded);
    if (r->duplicates && n < (int)sizeof extra)
        n += snprintf(extra + n, sizeof extra - (size_t)n, ", duplicate ids %lu", r->duplicates);
    if (r->ignored.total && n < (int)sizeof extra) {
        char ig[256];
        ignored_text(&r->ignored, ig, sizeof ig);
        snprintf(extra + n, sizeof extra - (size_t)n, ", %s", ig);
    }
    if (shards)
        snprintf(over, sizeof over, " over %u shard%s", shards, shards == 1 ? "" : "s");
    printf("%sadded %lu, updated %lu, deleted %lu, unchanged %lu, skipped %lu%s in %.2f s "
           "(%.0f docs/s)%s\n",
           o->dry_run ? "dry run: would have " : "", r->added, r->updated, r->deleted,
           r->unchanged, r->skipped, extra, secs, rate, over);
}

/* The unchanged files cost a stat and a metadata read each. */
void run_index_files(struct run *r, struct file_list *fl)
{
    if (!r->io_error)
        claims_vanished(r);
    for (size_t i = 0; i < fl->n && !r->io_error; i++) {
        claims_index_file(r, &fl->v[i]);
        r->bytes_done += fl->v[i].size;
        run_progress(r, 0);
    }
    for (size_t pass = 0, again = 1; again && pass < fl->n && !r->io_error; pass++) {
        again = 0;
        for (size_t i = 0; i < fl->n && !r->io_error; i++) {
            if (fl->v[i].redo) {
                claims_index_file(r, &fl->v[i]);
                again = 1;
            }
        }
    }
    if (!r->io_error)
        claims_report_duplicates(r);
}

/* One run over one database: the whole index, or one shard of a sharded index. */
int index_one(const struct options *opts, int argc, char **argv)
{
    struct options o = *opts;
    int code;
    struct run r = {0};
    struct file_list fl = {0};
    int lock = -1;
    xc_error *err = NULL;
    r.dbdir = o.dbdir;
    r.quiet = o.quiet;
    r.batch = o.dry_run ? UINT_MAX : (unsigned)o.batch;
    r.batch_text = o.dry_run ? SIZE_MAX : BATCH_TEXT_BYTES; /* a dry run is one transaction */
    r.progress = !o.quiet && !o.json && !o.child && isatty(STDERR_FILENO);
    r.shard_k = o.shard_k;
    r.shard_n = o.child ? o.shards : 1;
    r.mute_inputs = o.mute_inputs;
    r.files = &fl;
    r.t0 = util_now_ms();
    char why[512];
    char dbpath[PATH_MAX], newgen[64] = "", scratch[PATH_MAX] = "";

    if (!o.rollback) {
        /* Check the inputs before touching the index, so a typo cannot delete anything. */
        code = walk_inputs(&r, &fl, o.first_path, argc, argv);
        if (code)
            goto out;
        r.bytes_total = fl.bytes;
    }

    dbpath[0] = '\0';
    if (o.rollback && access(o.dbdir, F_OK) < 0) {
        /* Nothing to go back to or list; a mistyped --db must not create a directory. */
        fprintf(stderr, "%s: %s: %s: %s\n", progname, o.dbdir, strerror(errno),
                o.list ? "no generations to list" : "nothing to roll back");
        code = o.list ? EXIT_IO : EXIT_REFUSED;
        goto out;
    }
    if (o.dry_run && access(o.dbdir, F_OK) < 0) {
        /* A dry run on a new index writes nothing, not even the directory or a lock: it
         * runs on a scratch database and reports everything as added. */
    } else {
        lock = dbdir_lock(o.dbdir, o.wait_seconds, why, sizeof why);
        if (lock < 0) {
            fprintf(stderr, "%s: %s\n", progname, why);
            code = lock == -1 ? EXIT_LOCKED : EXIT_IO;
            goto out;
        }
    }
    if (o.rollback) {
        code = generations_rollback(o.dbdir, o.list);
        goto out;
    }

    if (o.rebuild) {
        /* A new generation under a temporary name; it becomes one only after its checks. */
        if (generations_begin(o.dbdir, newgen, sizeof newgen, why, sizeof why) < 0) {
            fprintf(stderr, "%s: %s\n", progname, why);
            code = EXIT_IO;
            goto out;
        }
        snprintf(dbpath, sizeof dbpath, "%s/%s", o.dbdir, newgen);
    } else if (lock >= 0 &&
               dbdir_writer_path(o.dbdir, !o.dry_run, dbpath, sizeof dbpath, why, sizeof why) < 0) {
        fprintf(stderr, "%s: %s\n", progname, why);
        code = EXIT_IO;
        goto out;
    }
    if (o.dry_run && !dbpath[0]) {
        /* A scratch database that is never committed, for a new index's dry run (no
         * directory, or one that holds no index yet). */
        snprintf(dbpath, sizeof dbpath, "%s", "/tmp/quire-dry-XXXXXX");
        if (!mkdtemp(dbpath)) {
            fprintf(stderr, "%s: cannot make a scratch directory: %s\n", progname, strerror(errno));
            code = EXIT_IO;
            goto out;
        }
        snprintf(scratch, sizeof scratch, "%s", dbpath);
        r.wdb = xc_wdb_open(dbpath, 1, &err);
    } else {
        r.wdb = xc_wdb_open(dbpath, o.rebuild, &err);
    }
    if (!r.wdb) {
        int locked = err && err->code == XC_ERR_LOCKED;
        fprintf(stderr, "%s: cannot open index %s: %s\n", progname, dbpath,
                err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        code = locked ? EXIT_LOCKED : EXIT_IO;
        goto out;
    }
    /* A dry run indexes no words: the articles' identities alone decide what would change
     * (schema_build), and its transaction stays small whatever the size of the text. */
    if (!o.dry_run && !(r.tg = xc_termgen_new(SCHEMA_LANG, &err))) {
        fprintf(stderr, "%s: %s\n", progname, err && err->message ? err->message : "termgen");
        xc_error_free(err);
        code = EXIT_IO;
        goto out;
    }
    /* A first build into a generation is marked until a complete run compacts it. */
    int managed = !o.dry_run && !o.rebuild && strcmp(dbpath, o.dbdir) != 0;
    int fresh_first = managed && xc_wdb_doccount(r.wdb, NULL) == 0;
    if (fresh_first && xc_wdb_set_metadata(r.wdb, GENERATIONS_FIRST_BUILD, "1", 1, &err) < 0) {
        fprintf(stderr, "%s: cannot write to %s: %s\n", progname, dbpath,
                err && err->message ? err->message : "out of memory");
        xc_error_free(err);
        code = EXIT_IO;
        goto out;
    }
    unsigned nparts = parts_wanted(&o, &fl, o.rebuild || fresh_first);
    if (nparts > 1) {
        /* Each part opens its own database; this one only held the first-build mark. */
        xc_termgen_free(r.tg);
        r.tg = NULL;
        xc_wdb_free(r.wdb);
        r.wdb = NULL;
        if (parts_build(&r, &o, &fl, nparts) == 0)
            place_build(&o, o.rebuild ? newgen : NULL, sizeof newgen, dbpath, sizeof dbpath);
        run_progress(&r, 1);
        if (r.progress)
            fputc('\n', stderr);
    } else {
        /* Spelling data for "did you mean" suggestions. */
        if (!o.no_spelling && r.tg)
            xc_termgen_set_spelling(r.tg, r.wdb);
        /* A dry run does all the work inside a transaction that is then thrown away:
         * Xapian would otherwise commit it when the writer is closed. */
        if (o.dry_run && xc_wdb_begin(r.wdb, &err) < 0) {
            fprintf(stderr, "%s: %s\n", progname,
                    err && err->message ? err->message : "transaction");
            xc_error_free(err);
            code = EXIT_IO;
            goto out;
        }
        run_index_files(&r, &fl);
        if (!r.io_error && !o.dry_run &&
            (r.pending > 0 || r.added + r.updated + r.deleted > 0 || o.rebuild ||
             complete_table_present(r.wdb, NULL) == 0 || !schema_duplicates_known(r.wdb)))
            if (run_write_tables(&r, -1) == 0)
                run_commit(&r);
        run_progress(&r, 1);
        if (r.progress)
            fputc('\n', stderr);
        xc_termgen_free(r.tg);
        r.tg = NULL;
        if (o.dry_run)
            xc_wdb_cancel(r.wdb, NULL);
        char *mark = managed && !r.io_error
                         ? xc_wdb_metadata(r.wdb, GENERATIONS_FIRST_BUILD, NULL)
                         : NULL;
        int first_build = mark && strcmp(mark, "1") == 0;
        free(mark);
        xc_wdb_free(r.wdb);
        r.wdb = NULL;
        if (!r.io_error && (o.rebuild || first_build))
            compact_build(&o, o.rebuild ? newgen : NULL, sizeof newgen, dbpath, sizeof dbpath);
    }

    const char *status = r.io_error ? "error" : "ok";
    int refused = 0;
    char generation[256] = "";
    dbdir_generation(o.dbdir, generation, sizeof generation);
    if (o.rebuild && !r.io_error) {
        /* What this run met counts, even when another shard's run reported it. */
        unsigned long unread = r.unreadable + r.muted_unreadable;
        if (unread && !o.force) {
            snprintf(why, sizeof why, "%lu input%s could not be read (reported above), so "
                     "their documents would be lost; use --force to swap anyway",
                     unread, unread == 1 ? "" : "s");
            fprintf(stderr, "%s: rebuild refused, %s stays live: %s\n", progname,
                    generation[0] ? generation : "the old index", why);
            generations_abandon(o.dbdir, newgen);
            status = "refused";
            refused = 1;
        } else if (generations_check(o.dbdir, dbpath, &o, why, sizeof why) < 0) {
            fprintf(stderr, "%s: rebuild refused, %s stays live: %s\n", progname,
                    generation[0] ? generation : "the old index", why);
            generations_abandon(o.dbdir, newgen);
            status = "refused";
            refused = 1;
        } else if (generations_push(o.dbdir, newgen, 0, o.keep, generation, sizeof generation,
                                    why, sizeof why) < 0) {
            fprintf(stderr, "%s: %s\n", progname, why);
            generations_abandon(o.dbdir, newgen);
            r.io_error = 1;
            status = "error";
        }
    } else if (o.rebuild) {
        generations_abandon(o.dbdir, newgen);
    }
    run_summary(&r, &o, generation, status, 0);
    if (r.io_error)
        code = EXIT_IO;
    else if (refused)
        code = EXIT_REFUSED;
    else
        code = r.skipped || r.unreadable || r.duplicates ? EXIT_SKIPPED : EXIT_OK;

out:
    /* One way out, so every path frees what it made (a leak checker runs in CI). */
    xc_termgen_free(r.tg);
    xc_wdb_free(r.wdb);
    dbdir_unlock(lock);
    if (scratch[0])
        dbdir_remove_tree(scratch);
    walk_free(&fl);
    for (size_t i = 0; i < r.nroots; i++)
        free(r.roots[i]);
    free(r.roots);
    for (size_t i = 0; i < r.nunread_dirs; i++)
        free(r.unread_dirs[i]);
    free(r.unread_dirs);
    return code;
}

int main(int argc, char **argv)
{
    struct options o;
    int code;
    if (options_parse(argc, argv, &o, &code) < 0)
        return code;
    /* A full disk or a file-size limit (ulimit -f) must end the run with a clear error at
     * the last commit, not kill it with SIGXFSZ: ignored, a write fails with EFBIG. */
    signal(SIGXFSZ, SIG_IGN);
    /* A sharded index stays one: a plain run (or a dry run) updates its shards, rather
     * than creating a second, unsharded index beside them. */
    if (o.shards == 0 && (o.shards = shardmap_local_count(o.dbdir)) > 0)
        return shards_index(&o, argc, argv);
    if (o.shards > 0)
        return shards_index(&o, argc, argv);
    return index_one(&o, argc, argv);
}
