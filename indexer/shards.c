/*
 * shards.c -- a sharded index: one quire-index process per shard (at most --jobs at once),
 * each reading all the inputs and writing the documents that hash to its shard; then the
 * shard map and the merged spelling database.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <getopt.h>

#include <jansson.h>

#include "dbdir.h"
#include "shardmap.h"
#include "util.h"
#include "run.h"
#include "xapian-c/xc.h"

struct shard_run {
    pid_t pid;
    int fd; /* read end of the pipe carrying its JSON summary */
    unsigned k;
};

/* Exit codes of shard runs, worst first: the combined run ends with the worst one seen. */
static int worse(int a, int b)
{
    static const int order[] = {EXIT_IO, EXIT_LOCKED, EXIT_USAGE, EXIT_REFUSED, EXIT_SKIPPED,
                                EXIT_OK};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (a == order[i] || b == order[i])
            return order[i];
    }
    return EXIT_IO;
}

/* The shards' summaries added up into one, as the summary of an unsharded run of the same
 * inputs reads: documents and duplicate ids are each shard's own, a problem is counted by
 * the one run that reports it (input_problem, run.h), and the files that are not articles
 * are counted by every shard's walk alike (the first one's count is taken). */
struct shard_totals {
    struct run sum;
    int code;
    int statuses_ok;
};

static unsigned long count_of(const json_t *j, const char *name)
{
    json_int_t v = json_integer_value(json_object_get(j, name));
    return v > 0 ? (unsigned long)v : 0;
}

/* Adds one shard run's JSON summary j to t; first: it is the first shard's. */
static void add_summary(struct shard_totals *t, const json_t *j, int first)
{
    struct run *s = &t->sum;
    s->added += count_of(j, "added");
    s->updated += count_of(j, "updated");
    s->deleted += count_of(j, "deleted");
    s->unchanged += count_of(j, "unchanged");
    s->skipped += count_of(j, "skipped");
    s->unreadable += count_of(j, "unreadable");
    s->duplicates += count_of(j, "duplicates");
    s->recoded += count_of(j, "converted");
    if (first) {
        const char *ext;
        json_t *v;
        s->ignored.total = count_of(j, "ignored");
        json_object_foreach(json_object_get(j, "ignored_by_extension"), ext, v)
        {
            if (s->ignored.n < IGNORED_KINDS) {
                snprintf(s->ignored.ext[s->ignored.n], sizeof s->ignored.ext[0], "%s", ext);
                s->ignored.count[s->ignored.n++] = (unsigned long)json_integer_value(v);
            }
        }
    }
}

/* Waits for one shard run to end and adds its summary to t. */
static void reap_one(struct shard_run *runs, size_t *nrun, unsigned first, struct shard_totals *t)
{
    int st = 0;
    pid_t pid;
    while ((pid = wait(&st)) < 0 && errno == EINTR)
        ;
    size_t i = 0;
    while (i < *nrun && runs[i].pid != pid)
        i++;
    if (i == *nrun)
        return;
    char buf[4096];
    size_t len = 0;
    ssize_t got;
    while (len + 1 < sizeof buf &&
           ((got = read(runs[i].fd, buf + len, sizeof buf - 1 - len)) > 0 || (got < 0 && errno == EINTR)))
        len += got > 0 ? (size_t)got : 0;
    buf[len] = '\0';
    close(runs[i].fd);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_IO;
    if (!WIFEXITED(st))
        fprintf(stderr, "%s: shard %u: the run was killed by signal %d\n", progname, runs[i].k,
                WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    t->code = worse(t->code, code);
    json_t *j = json_loads(buf, 0, NULL);
    if (j) {
        add_summary(t, j, runs[i].k == first);
        const char *status = json_string_value(json_object_get(j, "status"));
        if (!status || strcmp(status, "ok") != 0)
            t->statuses_ok = 0;
        json_decref(j);
    } else if (code != EXIT_OK && code != EXIT_SKIPPED) {
        t->statuses_ok = 0;
    }
    runs[i] = runs[--*nrun];
}

/* Writes DIR/spelling: the spelling data of all n shards in one database, for front ends
 * that search remote shards (Xapian's remote protocol carries no spelling; shardmap.h).
 * Built beside the old one and swapped in by rename. Returns 0, or -1 (reported). */
static int write_spelling(const char *dbdir, unsigned n)
{
    char (*paths)[PATH_MAX] = calloc(n, sizeof *paths);
    const char *srcs[SHARDMAP_MAX];
    if (!paths) {
        fprintf(stderr, "%s: out of memory\n", progname);
        return -1;
    }
    for (unsigned k = 0; k < n; k++) {
        char name[64], dir[PATH_MAX];
        shardmap_dir_name(k, n, name, sizeof name);
        snprintf(dir, sizeof dir, "%s/%s", dbdir, name);
        dbdir_reader_path(dir, paths[k], sizeof paths[k]);
        srcs[k] = paths[k];
    }
    char fresh[PATH_MAX], live[PATH_MAX], old[PATH_MAX];
    snprintf(fresh, sizeof fresh, "%s/.spelling.new", dbdir);
    snprintf(live, sizeof live, "%s/%s", dbdir, SHARDMAP_SPELLING);
    snprintf(old, sizeof old, "%s/.spelling.old", dbdir);
    dbdir_remove_generation(dbdir, ".spelling.new");
    dbdir_remove_generation(dbdir, ".spelling.old");
    xc_error *err = NULL;
    long merged = xc_spelling_merge(srcs, n, fresh, &err);
    free(paths);
    if (merged < 0) {
        fprintf(stderr, "%s: cannot write the spelling database %s: %s\n", progname, fresh,
                err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        return -1;
    }
    if ((rename(live, old) < 0 && errno != ENOENT) || rename(fresh, live) < 0) {
        fprintf(stderr, "%s: cannot put the spelling database in place: %s\n", progname,
                strerror(errno));
        return -1;
    }
    dbdir_remove_generation(dbdir, ".spelling.old");
    return 0;
}

/* Writes a sharded index: one process per shard (at most --jobs at once), each reading all
 * the inputs and writing the documents that hash to its shard, with the usual generations,
 * checks and crash safety in its own directory DB/shard-K-of-N. Then writes the shard map
 * DB/shards. A changed shard count builds the new shards beside the old ones and swaps the
 * map: every document moves to its new shard, and no reader sees it twice. */
int shards_index(const struct options *o, int argc, char **argv)
{
    char why[512], path[PATH_MAX];
    double t0 = util_now_ms();
    snprintf(path, sizeof path, "%s/%s", o->dbdir, DBDIR_CURRENT);
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "%s: %s holds an index of one database; build the sharded index in "
                        "a new --db directory\n", progname, o->dbdir);
        return EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "%s: %s: %s\n", progname, argv[i], strerror(errno));
            return EXIT_USAGE;
        }
    }
    int lock = dbdir_lock(o->dbdir, o->wait_seconds, why, sizeof why);
    if (lock < 0) {
        fprintf(stderr, "%s: %s\n", progname, why);
        return lock == -1 ? EXIT_LOCKED : EXIT_IO;
    }
    unsigned n = o->shards, old_n = shardmap_local_count(o->dbdir);
    int reshard = old_n && old_n != n;
    if (reshard && (o->shard_only >= 0 || o->dry_run || o->rollback)) {
        fprintf(stderr, "%s: %s has %u shards, not %u: change the shard count with a plain run "
                        "of all shards\n", progname, o->dbdir, old_n, n);
        dbdir_unlock(lock);
        return EXIT_USAGE;
    }
    unsigned jobs = o->jobs;
    if (!jobs) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus > 0 ? (unsigned)cpus : 1;
    }
    unsigned first = o->shard_only >= 0 ? (unsigned)o->shard_only : 0;
    unsigned end = o->shard_only >= 0 ? first + 1 : n;
    struct shard_run runs[SHARDMAP_MAX];
    size_t nrun = 0;
    struct shard_totals t;
    memset(&t, 0, sizeof t);
    t.code = EXIT_OK;
    t.statuses_ok = 1;
    t.sum.t0 = t0;
    fflush(NULL);
    for (unsigned k = first; k < end; k++) {
        while (nrun >= jobs)
            reap_one(runs, &nrun, first, &t);
        int fds[2];
        if (pipe(fds) < 0) {
            fprintf(stderr, "%s: pipe: %s\n", progname, strerror(errno));
            t.code = EXIT_IO;
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "%s: fork: %s\n", progname, strerror(errno));
            close(fds[0]);
            close(fds[1]);
            t.code = EXIT_IO;
            break;
        }
        if (pid == 0) {
            close(fds[0]);
            close(lock); /* the parent keeps the lock (closing a copy does not release it) */
            static char name[64], label[96];
            shardmap_dir_name(k, n, name, sizeof name);
            snprintf(label, sizeof label, "quire-index [%s]", name);
            progname = label;
            snprintf(path, sizeof path, "%s/%s", o->dbdir, name);
            struct options co = *o;
            co.dbdir = path;
            co.child = 1;
            co.shard_k = k;
            co.summary_fd = fds[1];
            co.json = 1;
            co.mute_inputs = k != first;
            exit(index_one(&co, argc, argv));
        }
        close(fds[1]);
        runs[nrun++] = (struct shard_run){pid, fds[0], k};
    }
    while (nrun > 0)
        reap_one(runs, &nrun, first, &t);

    int all_ok = (t.code == EXIT_OK || t.code == EXIT_SKIPPED) && t.statuses_ok;
    char spelling[PATH_MAX];
    snprintf(spelling, sizeof spelling, "%s/%s", o->dbdir, SHARDMAP_SPELLING);
    if (all_ok && o->shard_only < 0 && !o->dry_run && !o->no_spelling &&
        (t.sum.added + t.sum.updated + t.sum.deleted > 0 || o->rollback || old_n != n ||
         access(spelling, F_OK) != 0) &&
        write_spelling(o->dbdir, n) < 0)
        t.code = worse(t.code, EXIT_IO);
    if (all_ok && o->shard_only < 0 && !o->dry_run && !o->rollback && old_n != n) {
        if (shardmap_write(o->dbdir, n, why, sizeof why) < 0) {
            fprintf(stderr, "%s: %s\n", progname, why);
            t.code = EXIT_IO;
        } else if (reshard) {
            for (unsigned k = 0; k < old_n; k++) {
                char name[64];
                shardmap_dir_name(k, old_n, name, sizeof name);
                if (dbdir_remove_generation(o->dbdir, name) < 0)
                    fprintf(stderr, "%s: cannot remove old shard %s: %s\n", progname, name,
                            strerror(errno));
            }
            if (!o->quiet && !o->json)
                printf("moved from %u shards to %u\n", old_n, n);
        }
    } else if (reshard && !all_ok) {
        fprintf(stderr, "%s: the %u new shards are not complete; the index keeps its %u shards "
                        "(the next run continues the new ones)\n", progname, n, old_n);
    }
    dbdir_unlock(lock);

    const char *status = t.code == EXIT_IO || t.code == EXIT_LOCKED ? "error"
                         : t.code == EXIT_REFUSED                  ? "refused"
                                                                   : "ok";
    if (!o->rollback || o->json)
        run_summary(&t.sum, o, NULL, status, end - first);
    return t.code;
}
