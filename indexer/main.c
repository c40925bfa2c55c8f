/*
 * quire-index -- builds and updates a Quire index from article files.
 *
 * The only writer. A run:
 *   1. takes the writer lock (DIR/quire.lock; a second writer fails at once, exit 3);
 *   2. walks every PATH (files and directory trees, hidden entries and symlinked
 *      directories skipped, so a symlink loop cannot trap it) into a sorted file list;
 *   3. for each file compares (mtime, size) with the signature stored as Xapian metadata
 *      by the last run: unchanged files cost one stat(); changed ones are parsed and
 *      their documents replaced; documents a changed JSON Lines file no longer holds are
 *      deleted;
 *   4. deletes the documents of files under the given roots that have disappeared;
 *   5. commits every --batch documents and at the end. A file's signature is written in the
 *      same transaction as its last document, so a run killed at any point leaves the
 *      index at its last commit and the next run redoes exactly the unfinished files.
 *
 * Exit codes (also in --help and the README):
 *   0 success; 1 finished, but some inputs were skipped; 2 usage error;
 *   3 the index is locked by another writer; 4 I/O or index error;
 *   5 --rebuild refused by its checks, or nothing to --rollback to.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "article.h"
#include "complete.h"
#include "dbdir.h"
#include "schema.h"
#include "search.h"
#include "shardmap.h"
#include "util.h"
#include "xapian-c/xc.h"

#include "config.h"

enum {
    EXIT_OK = 0,
    EXIT_SKIPPED = 1,
    EXIT_USAGE = 2,
    EXIT_LOCKED = 3,
    EXIT_IO = 4,
    EXIT_REFUSED = 5
};

#define META_FILE_PREFIX "F"
#define DEFAULT_BATCH 2000
#define MAX_DEPTH 64

struct file_entry {
    char *path;    /* as found, for messages */
    char *abspath; /* canonical, for the signature key */
    char *relid;   /* id: path relative to the root given on the command line */
    long long mtime_ns;
    long long size;
};

struct file_list {
    struct file_entry *v;
    size_t n, cap;
    long long bytes;
};

/* A set of 64-bit hashes (open addressing), for "which files did this run see". */
struct hashset {
    uint64_t *slots;
    size_t cap, n;
};

struct run {
    const char *dbdir;
    xc_wdb *wdb;
    xc_termgen *tg;
    unsigned batch;
    unsigned pending; /* changes since the last commit */
    int quiet;
    int progress;     /* draw a progress bar (stderr is a terminal) */
    unsigned long added, updated, deleted, unchanged, skipped;
    long long bytes_done, bytes_total;
    double t0, last_draw;
    struct hashset seen_files;
    char **roots; /* canonical roots, for deciding which vanished files are ours */
    size_t nroots;
    int io_error;
    unsigned shard_k, shard_n; /* this run writes the documents of shard k of n (n >= 1) */
    int mute_inputs;           /* another shard's run reports the inputs' problems */
};

static const char *progname = "quire-index";

/* Prints a message about one input to stderr, clearing the progress line first. */
static void report(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct run *r, const char *fmt, ...)
{
    if (r && r->progress)
        fputs("\r\033[K", stderr);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", progname);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Reports a problem with an input (a file or a line), unless another shard's run of the
 * same inputs reports it. */
#define report_input(r, ...)                                                               \
    do {                                                                                   \
        if (!(r)->mute_inputs)                                                             \
            report((r), __VA_ARGS__);                                                      \
    } while (0)

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: quire-index [OPTIONS] PATH...\n"
            "Index article files (.txt, .md, .html, .jsonl, .jsonl.gz) and directory trees.\n"
            "\n"
            "Options:\n"
            "  --db DIR         index directory (default: $QUIRE_DB or ./quire.db)\n"
            "  --batch N        commit every N changed documents (default %d)\n"
            "  --wait[=SECS]    wait for another writer's lock (default: fail at once;\n"
            "                   --wait alone waits up to 3600 s)\n"
            "  --rebuild        build a new generation beside the live one, check it and\n"
            "                   swap it in atomically\n"
            "  --max-drop F     refuse a rebuild with fewer than (1-F) x the live documents\n"
            "                   (default 0.5)\n"
            "  --force          swap a rebuild in even when it lost more than --max-drop\n"
            "  --keep K         generations kept after a rebuild, live one included (default 2)\n"
            "  --rollback       swap the previous generation back in\n"
            "  -n, --dry-run    report what would change; write nothing\n"
            "  --json           print the run summary as one JSON object\n"
            "  --no-spelling    keep no spelling data (no \"did you mean\" suggestions;\n"
            "                   indexing is faster)\n"
            "  --shards N       a sharded index: N databases DIR/shard-K-of-N, written in\n"
            "                   parallel, each document in shard hash(id) mod N, listed in\n"
            "                   the shard map DIR/shards (quired and quire open DIR as usual).\n"
            "                   A changed N moves every document to its new shard.\n"
            "  --shard K        with --shards N: write only shard K (0..N-1), e.g. on the\n"
            "                   machine that serves it\n"
            "  --jobs J         shards written at once (default: the number of CPUs)\n"
            "  -q, --quiet      no progress bar and no summary line\n"
            "  -h, --help       this help\n"
            "  -V, --version    version\n"
            "\n"
            "Runs are incremental: unchanged files are skipped, changed files replace their\n"
            "documents, and documents of files that disappeared from PATH are deleted.\n"
            "\n"
            "Exit status:\n"
            "  0  success\n"
            "  1  finished, but some inputs were skipped (each reported on stderr)\n"
            "  2  usage error\n"
            "  3  the index is locked by another quire-index\n"
            "  4  I/O or index error (the index stays at its last commit)\n"
            "  5  --rebuild refused by its checks (the live index is untouched), or nothing\n"
            "     to --rollback to\n",
            DEFAULT_BATCH);
}

/* ---- hash set ---------------------------------------------------------------------- */

static int hashset_add(struct hashset *s, uint64_t h)
{
    if (h == 0)
        h = 1; /* 0 marks an empty slot */
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            uint64_t v = s->slots[i];
            if (!v)
                continue;
            size_t j = v & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = v;
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j = h & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == h)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = h;
    s->n++;
    return 0;
}

static int hashset_has(const struct hashset *s, uint64_t h)
{
    if (h == 0)
        h = 1;
    if (!s->cap)
        return 0;
    size_t j = h & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == h)
            return 1;
        j = (j + 1) & (s->cap - 1);
    }
    return 0;
}

/* ---- walking ----------------------------------------------------------------------- */

static int file_list_add(struct file_list *fl, const char *path, const char *relid,
                         const struct stat *st)
{
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 256;
        struct file_entry *v = realloc(fl->v, cap * sizeof *v);
        if (!v)
            return -1;
        fl->v = v;
        fl->cap = cap;
    }
    struct file_entry *e = &fl->v[fl->n];
    e->path = strdup(path);
    e->relid = strdup(relid);
    e->abspath = realpath(path, NULL);
    if (!e->path || !e->relid || !e->abspath) {
        free(e->path);
        free(e->relid);
        free(e->abspath);
        return -1;
    }
    e->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    e->size = (long long)st->st_size;
    fl->bytes += e->size;
    fl->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the indexable files below dir (relative ids prefixed with rel). Returns -1 only
 * when out of memory; unreadable entries are reported and counted as skipped. */
static int walk_dir(struct run *r, struct file_list *fl, const char *dir, const char *rel,
                    int depth)
{
    if (depth > MAX_DEPTH) {
        report_input(r, "%s: directory tree deeper than %d levels, not descending", dir, MAX_DEPTH);
        r->skipped++;
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        report_input(r, "%s: cannot read directory: %s", dir, strerror(errno));
        r->skipped++;
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* hidden files, ".", ".." */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[PATH_MAX], relid[PATH_MAX];
        int l1 = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int l2 = rel[0] ? snprintf(relid, sizeof relid, "%s/%s", rel, names[i])
                        : snprintf(relid, sizeof relid, "%s", names[i]);
        if (l1 < 0 || (size_t)l1 >= sizeof path || l2 < 0 || (size_t)l2 >= sizeof relid) {
            report_input(r, "%s/%s: path too long, skipped", dir, names[i]);
            r->skipped++;
            continue;
        }
        struct stat lst, st;
        if (lstat(path, &lst) < 0) {
            report_input(r, "%s: %s, skipped", path, strerror(errno));
            r->skipped++;
            continue;
        }
        if (S_ISLNK(lst.st_mode)) {
            /* Follow links to files; never to directories (no loops, no escaping). */
            if (stat(path, &st) < 0) {
                report_input(r, "%s: broken symbolic link, skipped", path);
                r->skipped++;
                continue;
            }
            if (S_ISDIR(st.st_mode))
                continue;
        } else {
            st = lst;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(r, fl, path, relid, depth + 1);
        } else if (article_format_for_path(path) == ARTICLE_UNKNOWN) {
            continue; /* not an article file: not ours to report */
        } else if (S_ISREG(st.st_mode)) {
            if (file_list_add(fl, path, relid, &st) < 0)
                rc = -1;
        } else {
            /* FIFOs, sockets and devices are never opened (one could block forever). */
            report_input(r, "%s: not a regular file (a FIFO, socket or device), skipped", path);
            r->skipped++;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- committing and progress -------------------------------------------------------- */

static int commit(struct run *r)
{
    char stamp[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    xc_error *err = NULL;
    if (xc_wdb_set_metadata(r->wdb, "quire:updated", stamp, strlen(stamp), &err) < 0 ||
        xc_wdb_commit(r->wdb, &err) < 0) {
        report(r, "commit failed: %s", err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        r->io_error = 1;
        return -1;
    }
    r->pending = 0;
    return 0;
}

/* Rewrites the completion table (lib/complete.h) before the run's last commit. A failure
 * is reported and fails the run; the documents are not committed without it. */
static int write_completions(struct run *r)
{
    xc_error *err = NULL;
    if (complete_build_table(r->wdb, NULL, &err) == 0)
        return 0;
    report(r, "cannot write the completion table: %s",
           err && err->message ? err->message : "out of memory");
    xc_error_free(err);
    r->io_error = 1;
    return -1;
}

/* Counts one change; commits when a batch is full. */
static int changed(struct run *r)
{
    if (++r->pending >= r->batch)
        return commit(r);
    return 0;
}

static void draw_progress(struct run *r, int final)
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

/* ---- indexing one file -------------------------------------------------------------- */

/* True when the article belongs to the shard this run writes. */
static int in_shard(const struct run *r, const char *id)
{
    return r->shard_n <= 1 || shardmap_shard_of(id, r->shard_n) == r->shard_k;
}

/* Adds or replaces one article; counts it. Returns the docid, 0 on error. */
static unsigned put_article(struct run *r, struct article *a, const char *file_key)
{
    xc_error *err = NULL;
    char idterm[SCHEMA_MAX_TERM + 1];
    schema_key_term(SCHEMA_PREFIX_ID, a->id, idterm, sizeof idterm);
    int existed = xc_wdb_termfreq(r->wdb, idterm, &err) > 0;
    if (err) {
        report(r, "cannot read index for %s: %s", a->id,
               err->message ? err->message : "unknown error");
        xc_error_free(err);
        r->io_error = 1;
        return 0;
    }
    xc_doc *doc = schema_build(a, file_key, r->tg, &err);
    if (!doc) {
        report(r, "cannot build document %s: %s", a->id,
               err && err->message ? err->message : "out of memory");
        xc_error_free(err);
        r->io_error = 1;
        return 0;
    }
    unsigned docid = xc_wdb_replace(r->wdb, idterm, doc, &err);
    xc_doc_free(doc);
    if (!docid) {
        report(r, "cannot write document %s: %s", a->id,
               err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        r->io_error = 1;
        return 0;
    }
    if (existed)
        r->updated++;
    else
        r->added++;
    if (changed(r) < 0)
        return 0;
    return docid;
}

/* Reads a whole regular file without blocking on FIFOs, bounded in size. */
static char *read_file(const char *path, size_t *len, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "not a regular file");
        close(fd);
        return NULL;
    }
    if (st.st_size > (off_t)ARTICLE_MAX_FILE_BYTES) {
        snprintf(why, whylen, "file is %lld bytes; the most allowed is %u", (long long)st.st_size,
                 ARTICLE_MAX_FILE_BYTES);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(why, whylen, "out of memory");
        close(fd);
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            /* The file grew while we read it: bounded all the same. */
            if (cap > ARTICLE_MAX_FILE_BYTES) {
                snprintf(why, whylen, "file grew past %u bytes while being read",
                         ARTICLE_MAX_FILE_BYTES);
                free(buf);
                close(fd);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                snprintf(why, whylen, "out of memory");
                free(buf);
                close(fd);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            snprintf(why, whylen, "read error: %s", strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
}

struct docid_set {
    unsigned *v;
    size_t n, cap;
};

static int docid_set_add(struct docid_set *s, unsigned id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        unsigned *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = id;
    return 0;
}

static int cmp_uint(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

struct stale_ctx {
    struct docid_set *keep;
    struct docid_set stale;
};

/* Collects docids of the file's postlist that this run did not write. */
static int collect_stale(unsigned docid, void *p)
{
    struct stale_ctx *c = p;
    if (!bsearch(&docid, c->keep->v, c->keep->n, sizeof(unsigned), cmp_uint))
        return docid_set_add(&c->stale, docid) < 0;
    return 0;
}

/* Deletes documents indexed under file_term except those in keep (sorted). */
static int delete_stale(struct run *r, const char *file_term, struct docid_set *keep)
{
    struct stale_ctx c = {keep, {0}};
    xc_error *err = NULL;
    int rc = xc_wdb_postlist(r->wdb, file_term, collect_stale, &c, &err);
    for (size_t i = 0; rc == 0 && i < c.stale.n; i++) {
        rc = xc_wdb_delete_docid(r->wdb, c.stale.v[i], &err);
        if (rc == 0) {
            r->deleted++;
            rc = changed(r);
        }
    }
    if (rc < 0 && err) {
        report(r, "cannot delete stale documents: %s", err->message);
        r->io_error = 1;
    }
    xc_error_free(err);
    free(c.stale.v);
    return rc;
}

/* Indexes one JSON Lines file. Returns the number of documents it holds, -1 when the file
 * could not be read at all (reason in why). */
static long index_jsonl(struct run *r, const struct file_entry *f, const char *file_term,
                        char *why, size_t whylen)
{
    article_lines *lines = article_lines_open(f->path, why, whylen);
    if (!lines)
        return -1;
    struct docid_set keep = {0};
    const char *line;
    size_t len;
    unsigned long lineno = 0;
    long docs = 0;
    int rc;
    while ((rc = article_lines_next(lines, &line, &len, &lineno, why, whylen)) != 0) {
        if (rc == -1) {
            report_input(r, "%s:%lu: %s; rest of file skipped", f->path, lineno, why);
            r->skipped++;
            break;
        }
        if (rc == -2) {
            report_input(r, "%s:%lu: line longer than %u bytes, skipped", f->path, lineno,
                   ARTICLE_MAX_LINE_BYTES);
            r->skipped++;
            continue;
        }
        if (len == 0 || strspn(line, " \t\r") == len)
            continue;
        struct article a = {0};
        char reason[256];
        if (article_parse_json(line, len, &a, reason, sizeof reason) < 0) {
            report_input(r, "%s:%lu: %s, skipped", f->path, lineno, reason);
            r->skipped++;
            article_clear(&a);
            continue;
        }
        if (!in_shard(r, a.id)) {
            article_clear(&a); /* another shard's document */
            continue;
        }
        unsigned docid = put_article(r, &a, f->abspath);
        article_clear(&a);
        if (!docid || docid_set_add(&keep, docid) < 0) {
            free(keep.v);
            article_lines_close(lines);
            r->io_error = 1;
            snprintf(why, whylen, "index write failed");
            return -2;
        }
        docs++;
        draw_progress(r, 0);
    }
    article_lines_close(lines);
    qsort(keep.v, keep.n, sizeof(unsigned), cmp_uint);
    if (delete_stale(r, file_term, &keep) < 0) {
        free(keep.v);
        snprintf(why, whylen, "index write failed");
        return -2;
    }
    free(keep.v);
    return docs;
}

/* Indexes one .txt/.md/.html file. Returns 1 (documents held), -1 when skipped. */
static long index_single(struct run *r, const struct file_entry *f, article_format fmt,
                         const char *file_term, char *why, size_t whylen)
{
    if (!in_shard(r, f->relid)) {
        /* Another shard's document: none of this file's belongs here. */
        struct docid_set none = {0};
        if (delete_stale(r, file_term, &none) < 0) {
            snprintf(why, whylen, "index write failed");
            return -2;
        }
        return 0;
    }
    size_t len;
    char *buf = read_file(f->path, &len, why, whylen);
    if (!buf)
        return -1;
    struct article a = {0};
    /* HTML goes through its parser in a child process: the gumbo that Debian ships aborts
     * on some tag soup, which must cost one file, not the run. */
    int rc = fmt == ARTICLE_HTML ? article_parse_html_isolated(buf, len, &a, why, whylen, 30)
                                 : article_parse_text(buf, len, fmt == ARTICLE_MARKDOWN, &a, why,
                                                      whylen);
    free(buf);
    if (rc < 0) {
        article_clear(&a);
        return -1;
    }
    free(a.id);
    a.id = strdup(f->relid);
    if (!a.id) {
        article_clear(&a);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    unsigned docid = put_article(r, &a, f->abspath);
    article_clear(&a);
    if (!docid) {
        snprintf(why, whylen, "index write failed");
        return -2;
    }
    /* A file whose id changed (it cannot here) would leave a stale doc; ids are paths. */
    return 1;
}

/* Processes one file: skip when unchanged, else (re)index it and record its signature. */
static int index_file(struct run *r, const struct file_entry *f)
{
    char key[SCHEMA_MAX_TERM + 1], file_term[SCHEMA_MAX_TERM + 1];
    schema_key_term(META_FILE_PREFIX, f->abspath, key, sizeof key);
    schema_key_term(SCHEMA_PREFIX_FILE, f->abspath, file_term, sizeof file_term);
    hashset_add(&r->seen_files, util_hash64(key, strlen(key)));

    xc_error *err = NULL;
    char *sig = xc_wdb_metadata(r->wdb, key, &err);
    if (!sig) {
        report(r, "cannot read index metadata: %s", err && err->message ? err->message : "?");
        xc_error_free(err);
        r->io_error = 1;
        return -1;
    }
    long long mtime = 0, size = 0;
    long ndocs = 0;
    if (sscanf(sig, "%lld %lld %ld", &mtime, &size, &ndocs) == 3 && mtime == f->mtime_ns &&
        size == f->size) {
        r->unchanged += (unsigned long)ndocs;
        free(sig);
        return 0;
    }
    free(sig);

    char why[512];
    article_format fmt = article_format_for_path(f->path);
    long docs = fmt == ARTICLE_JSONL ? index_jsonl(r, f, file_term, why, sizeof why)
                                     : index_single(r, f, fmt, file_term, why, sizeof why);
    if (docs == -2)
        return -1;
    if (docs < 0) {
        report_input(r, "%s: %s, skipped", f->path, why);
        r->skipped++;
        /* The file no longer yields a document: drop what it held, and record no
         * signature so that a fixed file is picked up next run. */
        unsigned had = xc_wdb_termfreq(r->wdb, file_term, &err);
        if (had > 0 || err) {
            if (err || xc_wdb_delete_term(r->wdb, file_term, &err) < 0) {
                report(r, "cannot delete documents of %s: %s", f->path,
                       err && err->message ? err->message : "?");
                xc_error_free(err);
                r->io_error = 1;
                return -1;
            }
            r->deleted += had;
        }
        xc_wdb_set_metadata(r->wdb, key, "", 0, NULL);
        return changed(r);
    }
    char val[PATH_MAX + 64];
    int n = snprintf(val, sizeof val, "%lld %lld %ld\t%s", f->mtime_ns, f->size, docs,
                     f->abspath);
    if (n < 0 || (size_t)n >= sizeof val)
        n = (int)strlen(val);
    if (xc_wdb_set_metadata(r->wdb, key, val, (size_t)n, &err) < 0) {
        report(r, "cannot write index metadata: %s", err && err->message ? err->message : "?");
        xc_error_free(err);
        r->io_error = 1;
        return -1;
    }
    return changed(r);
}

/* ---- vanished files ----------------------------------------------------------------- */

struct vanished_ctx {
    struct run *r;
    char **keys;
    size_t n, cap;
};

/* Collects signature keys of files this run did not see (deleted after the scan). */
static int collect_vanished(const char *key, void *p)
{
    struct vanished_ctx *c = p;
    if (hashset_has(&c->r->seen_files, util_hash64(key, strlen(key))))
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        char **k = realloc(c->keys, cap * sizeof *k);
        if (!k)
            return 1;
        c->keys = k;
        c->cap = cap;
    }
    if (!(c->keys[c->n] = strdup(key)))
        return 1;
    c->n++;
    return 0;
}

/* True when path lies under one of this run's roots. */
static int under_roots(const struct run *r, const char *path)
{
    for (size_t i = 0; i < r->nroots; i++) {
        size_t len = strlen(r->roots[i]);
        if (strncmp(path, r->roots[i], len) == 0 &&
            (path[len] == '/' || path[len] == '\0' || (len == 1 && r->roots[i][0] == '/')))
            return 1;
    }
    return 0;
}

/* Deletes the documents of files under this run's roots that no longer exist. */
static int delete_vanished(struct run *r)
{
    struct vanished_ctx c = {r, NULL, 0, 0};
    xc_error *err = NULL;
    int rc = xc_wdb_metadata_keys(r->wdb, META_FILE_PREFIX, collect_vanished, &c, &err);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        char *val = xc_wdb_metadata(r->wdb, c.keys[i], &err);
        if (!val) {
            rc = -1;
            break;
        }
        const char *tab = strchr(val, '\t');
        const char *path = tab ? tab + 1 : "";
        if (*path && under_roots(r, path)) {
            char file_term[SCHEMA_MAX_TERM + 1];
            schema_key_term(SCHEMA_PREFIX_FILE, path, file_term, sizeof file_term);
            unsigned had = xc_wdb_termfreq(r->wdb, file_term, &err);
            if (err || xc_wdb_delete_term(r->wdb, file_term, &err) < 0 ||
                xc_wdb_set_metadata(r->wdb, c.keys[i], "", 0, &err) < 0)
                rc = -1;
            else
                r->deleted += had;
            if (rc == 0)
                rc = changed(r);
        }
        free(val);
    }
    if (rc < 0 && err) {
        report(r, "cannot delete vanished files' documents: %s", err->message);
        r->io_error = 1;
    }
    xc_error_free(err);
    for (size_t i = 0; i < c.n; i++)
        free(c.keys[i]);
    free(c.keys);
    return rc;
}

/* ---- generations: rebuild checks, swap, rollback ------------------------------------- */

struct options {
    const char *dbdir;
    long batch;
    int wait_seconds;
    int quiet, json, dry_run, rebuild, rollback, force, no_spelling;
    unsigned keep;     /* generations kept after a swap (the live one included) */
    double max_drop;   /* a rebuild may lose at most this fraction of the live documents */
    unsigned shards;   /* --shards N: a sharded index of N databases (0: one database) */
    int shard_only;    /* --shard K: write only shard K (-1: all) */
    unsigned jobs;     /* shards written at once */
    /* Set in the process that writes one shard of a sharded index: */
    int child;
    unsigned shard_k;
    int summary_fd;    /* where the run's JSON summary goes (-1: stdout) */
    int mute_inputs;
};

/* Checks a freshly built generation before it goes live: it opens, has documents, did not
 * shrink by more than max_drop against the live one (unless --force), and searching for
 * the titles of a few of its documents finds them. Returns 0, or -1 with why filled. */
static int check_generation(const char *dbdir, const char *genpath, const struct options *o,
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

/* Deletes generations beyond the newest `keep` (never the live one). */
static void prune_generations(const char *dbdir, unsigned keep, unsigned live)
{
    unsigned nums[1024];
    size_t n = dbdir_list_generations(dbdir, nums, 1024);
    for (size_t i = 0; i + keep < n; i++) {
        if (nums[i] == live)
            continue;
        char name[32];
        dbdir_generation_name(nums[i], name, sizeof name);
        if (dbdir_remove_generation(dbdir, name) < 0)
            fprintf(stderr, "%s: cannot remove old generation %s: %s\n", progname, name,
                    strerror(errno));
    }
}

/* Swaps the previous generation back in. */
static int do_rollback(const char *dbdir)
{
    char gen[256], why[512];
    unsigned live = 0;
    if (dbdir_generation(dbdir, gen, sizeof gen) < 0 || !gen[0] ||
        sscanf(gen, "gen-%u", &live) != 1) {
        fprintf(stderr, "%s: %s has no generations to roll back\n", progname, dbdir);
        return EXIT_REFUSED;
    }
    unsigned nums[1024];
    size_t n = dbdir_list_generations(dbdir, nums, 1024);
    unsigned prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (nums[i] < live)
            prev = nums[i];
    }
    if (!prev) {
        fprintf(stderr, "%s: no generation older than %s is kept; nothing to roll back to\n",
                progname, gen);
        return EXIT_REFUSED;
    }
    char name[32], path[PATH_MAX];
    dbdir_generation_name(prev, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dbdir, name);
    struct search_error se;
    struct search_index *ix = search_index_open(path, &se);
    if (!ix) {
        fprintf(stderr, "%s: %s does not open, not rolling back: %s\n", progname, name,
                se.message);
        return EXIT_REFUSED;
    }
    search_index_close(ix);
    if (dbdir_set_current(dbdir, name, why, sizeof why) < 0) {
        fprintf(stderr, "%s: %s\n", progname, why);
        return EXIT_IO;
    }
    printf("rolled back from %s to %s\n", gen, name);
    return EXIT_OK;
}

/* Prints the run summary: one line for people, or one JSON object with --json. */
static void print_summary(const struct run *r, const struct options *o, const char *generation,
                          const char *status)
{
    double secs = (util_now_ms() - r->t0) / 1000.0;
    double rate = secs > 0 ? (double)(r->added + r->updated) / secs : 0.0;
    if (o->json) {
        json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:b, s:b, s:s, s:s}",
                              "status", status, "added", (json_int_t)r->added, "updated",
                              (json_int_t)r->updated, "deleted", (json_int_t)r->deleted,
                              "unchanged", (json_int_t)r->unchanged, "skipped",
                              (json_int_t)r->skipped, "seconds", secs, "docs_per_second", rate,
                              "dry_run", o->dry_run, "rebuild", o->rebuild, "generation",
                              generation ? generation : "", "db", o->dbdir);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text && o->summary_fd >= 0) {
            size_t len = strlen(text), off = 0;
            while (off < len) {
                ssize_t w = write(o->summary_fd, text + off, len - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    break;
                off += (size_t)w;
            }
        } else if (text) {
            puts(text);
        }
        free(text);
        json_decref(j);
        return;
    }
    if (o->quiet)
        return;
    printf("%sadded %lu, updated %lu, deleted %lu, unchanged %lu, skipped %lu in %.2f s "
           "(%.0f docs/s)\n",
           o->dry_run ? "dry run: would have " : "", r->added, r->updated, r->deleted,
           r->unchanged, r->skipped, secs, rate);
}

/* ---- main ---------------------------------------------------------------------------- */

/* Parses the command line into o; returns -1 to exit with *code. */
static int parse_options(int argc, char **argv, struct options *o, int *code)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},    {"batch", required_argument, NULL, 'b'},
        {"wait", optional_argument, NULL, 'w'},  {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'j'},        {"dry-run", no_argument, NULL, 'n'},
        {"rebuild", no_argument, NULL, 'R'},     {"rollback", no_argument, NULL, 'B'},
        {"force", no_argument, NULL, 'f'},       {"keep", required_argument, NULL, 'k'},
        {"max-drop", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},     {"no-spelling", no_argument, NULL, 'S'},
        {"shards", required_argument, NULL, 'N'}, {"shard", required_argument, NULL, 'K'},
        {"jobs", required_argument, NULL, 'J'},  {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->dbdir = getenv("QUIRE_DB");
    if (!o->dbdir || !*o->dbdir)
        o->dbdir = "quire.db";
    o->batch = DEFAULT_BATCH;
    o->wait_seconds = -1;
    o->keep = 2;
    o->max_drop = 0.5;
    o->shard_only = -1;
    o->summary_fd = -1;
    int c;
    *code = EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "qhVn", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'd': o->dbdir = optarg; break;
        case 'b':
            o->batch = strtol(optarg, &end, 10);
            if (*end || o->batch < 1 || o->batch > 10000000) {
                fprintf(stderr, "%s: --batch must be a number from 1 to 10000000\n", progname);
                return -1;
            }
            break;
        case 'w': {
            if (!optarg) {
                o->wait_seconds = 3600;
                break;
            }
            long w = strtol(optarg, &end, 10);
            if (*end || w < 0 || w > 86400) {
                fprintf(stderr, "%s: --wait takes seconds from 0 to 86400\n", progname);
                return -1;
            }
            o->wait_seconds = (int)w;
            break;
        }
        case 'k': {
            long k = strtol(optarg, &end, 10);
            if (*end || k < 1 || k > 100) {
                fprintf(stderr, "%s: --keep must be from 1 to 100\n", progname);
                return -1;
            }
            o->keep = (unsigned)k;
            break;
        }
        case 'm':
            o->max_drop = strtod(optarg, &end);
            if (*end || o->max_drop < 0 || o->max_drop > 1) {
                fprintf(stderr, "%s: --max-drop is a fraction from 0 to 1\n", progname);
                return -1;
            }
            break;
        case 'q': o->quiet = 1; break;
        case 'j': o->json = 1; break;
        case 'n': o->dry_run = 1; break;
        case 'R': o->rebuild = 1; break;
        case 'B': o->rollback = 1; break;
        case 'f': o->force = 1; break;
        case 'S': o->no_spelling = 1; break;
        case 'N': {
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > SHARDMAP_MAX) {
                fprintf(stderr, "%s: --shards must be from 1 to %d\n", progname, SHARDMAP_MAX);
                return -1;
            }
            o->shards = (unsigned)n;
            break;
        }
        case 'K': {
            long k = strtol(optarg, &end, 10);
            if (*end || k < 0 || k >= SHARDMAP_MAX) {
                fprintf(stderr, "%s: --shard takes a shard number from 0\n", progname);
                return -1;
            }
            o->shard_only = (int)k;
            break;
        }
        case 'J': {
            long j = strtol(optarg, &end, 10);
            if (*end || j < 1 || j > SHARDMAP_MAX) {
                fprintf(stderr, "%s: --jobs must be from 1 to %d\n", progname, SHARDMAP_MAX);
                return -1;
            }
            o->jobs = (unsigned)j;
            break;
        }
        case 'h': usage(stdout); *code = EXIT_OK; return -1;
        case 'V':
            printf("quire-index %s (Xapian %s)\n", PACKAGE_VERSION, xc_version());
            *code = EXIT_OK;
            return -1;
        default: usage(stderr); return -1;
        }
    }
    if (o->rollback && (o->rebuild || o->dry_run || optind < argc)) {
        fprintf(stderr, "%s: --rollback takes no PATH and no other mode\n", progname);
        return -1;
    }
    if (o->rebuild && o->dry_run) {
        fprintf(stderr, "%s: --rebuild and --dry-run do not go together\n", progname);
        return -1;
    }
    if ((o->shard_only >= 0 || o->jobs) && !o->shards) {
        fprintf(stderr, "%s: --shard and --jobs go with --shards N\n", progname);
        return -1;
    }
    if (o->shard_only >= 0 && (unsigned)o->shard_only >= o->shards) {
        fprintf(stderr, "%s: --shard %d: shards are numbered 0 to %u\n", progname,
                o->shard_only, o->shards - 1);
        return -1;
    }
    if (!o->rollback && optind >= argc) {
        fprintf(stderr, "%s: no PATH given (try --help)\n", progname);
        return -1;
    }
    return 0;
}

/* Collects the files named on the command line. Returns 0, or an exit code. */
static int collect_inputs(struct run *r, struct file_list *fl, int argc, char **argv)
{
    r->roots = calloc((size_t)(argc + 1), sizeof *r->roots);
    if (!r->roots) {
        fprintf(stderr, "%s: out of memory\n", progname);
        return EXIT_IO;
    }
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "%s: %s: %s\n", progname, argv[i], strerror(errno));
            return EXIT_USAGE;
        }
        if (S_ISDIR(st.st_mode)) {
            r->roots[r->nroots] = realpath(argv[i], NULL);
            if (!r->roots[r->nroots]) {
                fprintf(stderr, "%s: %s: %s\n", progname, argv[i], strerror(errno));
                return EXIT_USAGE;
            }
            r->nroots++;
            if (walk_dir(r, fl, argv[i], "", 0) < 0) {
                fprintf(stderr, "%s: out of memory\n", progname);
                return EXIT_IO;
            }
        } else if (S_ISREG(st.st_mode)) {
            const char *base = strrchr(argv[i], '/');
            base = base ? base + 1 : argv[i];
            if (article_format_for_path(argv[i]) == ARTICLE_UNKNOWN) {
                report_input(r, "%s: unknown file type (want .txt, .md, .html, .jsonl, .jsonl.gz), "
                          "skipped", argv[i]);
                r->skipped++;
                continue;
            }
            if (file_list_add(fl, argv[i], base, &st) < 0) {
                fprintf(stderr, "%s: out of memory\n", progname);
                return EXIT_IO;
            }
        } else {
            fprintf(stderr, "%s: %s: not a regular file or directory\n", progname, argv[i]);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* One run over one database: the whole index, or one shard of a sharded index. */
static int index_one(const struct options *opts, int argc, char **argv)
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
    r.progress = !o.quiet && !o.json && !o.child && isatty(STDERR_FILENO);
    r.shard_k = o.shard_k;
    r.shard_n = o.child ? o.shards : 1;
    r.mute_inputs = o.mute_inputs;
    r.t0 = util_now_ms();
    char why[512];
    char dbpath[PATH_MAX], newgen[32] = "";
    unsigned live_num = 0;

    if (!o.rollback) {
        /* Check the inputs before touching the index, so a typo cannot delete anything. */
        code = collect_inputs(&r, &fl, argc, argv);
        if (code)
            goto out;
        r.bytes_total = fl.bytes;
    }

    lock = dbdir_lock(o.dbdir, o.wait_seconds, why, sizeof why);
    if (lock < 0) {
        fprintf(stderr, "%s: %s\n", progname, why);
        code = lock == -1 ? EXIT_LOCKED : EXIT_IO;
        goto out;
    }
    if (o.rollback) {
        code = do_rollback(o.dbdir);
        goto out;
    }

    if (o.rebuild) {
        /* A new generation beside the live one; `current` moves only after the checks. */
        unsigned nums[1024];
        size_t n = dbdir_list_generations(o.dbdir, nums, 1024);
        unsigned next = n ? nums[n - 1] + 1 : 1;
        dbdir_generation_name(next, newgen, sizeof newgen);
        snprintf(dbpath, sizeof dbpath, "%s/%s", o.dbdir, newgen);
        live_num = next;
    } else if (dbdir_writer_path(o.dbdir, !o.dry_run, dbpath, sizeof dbpath, why, sizeof why) < 0) {
        fprintf(stderr, "%s: %s\n", progname, why);
        code = EXIT_IO;
        goto out;
    }
    r.wdb = xc_wdb_open(dbpath, 1, &err);
    if (!r.wdb) {
        int locked = err && err->code == XC_ERR_LOCKED;
        fprintf(stderr, "%s: cannot open index %s: %s\n", progname, dbpath,
                err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        code = locked ? EXIT_LOCKED : EXIT_IO;
        goto out;
    }
    r.tg = xc_termgen_new(SCHEMA_LANG, &err);
    if (!r.tg) {
        fprintf(stderr, "%s: %s\n", progname, err && err->message ? err->message : "termgen");
        xc_error_free(err);
        code = EXIT_IO;
        goto out;
    }
    /* Spelling data for "did you mean" suggestions. */
    if (!o.no_spelling)
        xc_termgen_set_spelling(r.tg, r.wdb);

    /* A dry run does all the work inside a transaction that is then thrown away: Xapian
     * would otherwise commit it when the writer is closed. */
    if (o.dry_run && xc_wdb_begin(r.wdb, &err) < 0) {
        fprintf(stderr, "%s: %s\n", progname, err && err->message ? err->message : "transaction");
        xc_error_free(err);
        code = EXIT_IO;
        goto out;
    }
    for (size_t i = 0; i < fl.n && !r.io_error; i++) {
        index_file(&r, &fl.v[i]);
        r.bytes_done += fl.v[i].size;
        draw_progress(&r, 0);
    }
    if (!r.io_error && !o.rebuild)
        delete_vanished(&r);
    if (!r.io_error && !o.dry_run && (r.pending > 0 || r.added + r.updated + r.deleted > 0 ||
                                      o.rebuild || complete_table_present(r.wdb, NULL) == 0))
        if (write_completions(&r) == 0)
            commit(&r);
    draw_progress(&r, 1);
    if (r.progress)
        fputc('\n', stderr);
    xc_termgen_free(r.tg);
    r.tg = NULL;
    if (o.dry_run)
        xc_wdb_cancel(r.wdb, NULL);
    xc_wdb_free(r.wdb);
    r.wdb = NULL;

    const char *status = r.io_error ? "error" : "ok";
    char generation[256] = "";
    dbdir_generation(o.dbdir, generation, sizeof generation);
    if (o.rebuild && !r.io_error) {
        if (check_generation(o.dbdir, dbpath, &o, why, sizeof why) < 0) {
            fprintf(stderr, "%s: rebuild refused, %s stays live: %s\n", progname,
                    generation[0] ? generation : "the old index", why);
            dbdir_remove_generation(o.dbdir, newgen);
            status = "refused";
        } else if (dbdir_set_current(o.dbdir, newgen, why, sizeof why) < 0) {
            fprintf(stderr, "%s: %s\n", progname, why);
            r.io_error = 1;
            status = "error";
        } else {
            snprintf(generation, sizeof generation, "%s", newgen);
            prune_generations(o.dbdir, o.keep, live_num);
        }
    } else if (o.rebuild) {
        dbdir_remove_generation(o.dbdir, newgen);
    }
    print_summary(&r, &o, generation, status);
    if (r.io_error)
        code = EXIT_IO;
    else if (strcmp(status, "refused") == 0)
        code = EXIT_REFUSED;
    else
        code = r.skipped ? EXIT_SKIPPED : EXIT_OK;

out:
    /* One way out, so every path frees what it made (a leak checker runs in CI). */
    xc_termgen_free(r.tg);
    xc_wdb_free(r.wdb);
    dbdir_unlock(lock);
    for (size_t i = 0; i < fl.n; i++) {
        free(fl.v[i].path);
        free(fl.v[i].abspath);
        free(fl.v[i].relid);
    }
    free(fl.v);
    for (size_t i = 0; i < r.nroots; i++)
        free(r.roots[i]);
    free(r.roots);
    free(r.seen_files.slots);
    return code;
}

/* ---- sharded indexes --------------------------------------------------------------------- */

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

struct shard_totals {
    unsigned long added, updated, deleted, unchanged, skipped;
    int code;
    int statuses_ok;
};

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
        t->added += (unsigned long)json_integer_value(json_object_get(j, "added"));
        t->updated += (unsigned long)json_integer_value(json_object_get(j, "updated"));
        t->deleted += (unsigned long)json_integer_value(json_object_get(j, "deleted"));
        t->unchanged += (unsigned long)json_integer_value(json_object_get(j, "unchanged"));
        /* Every shard's run reads the same inputs; one of them counts their problems. */
        if (runs[i].k == first)
            t->skipped = (unsigned long)json_integer_value(json_object_get(j, "skipped"));
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
static int index_sharded(const struct options *o, int argc, char **argv)
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
    struct shard_totals t = {0, 0, 0, 0, 0, EXIT_OK, 1};
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
        (t.added + t.updated + t.deleted > 0 || o->rollback || old_n != n ||
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

    double secs = (util_now_ms() - t0) / 1000.0;
    double rate = secs > 0 ? (double)(t.added + t.updated) / secs : 0.0;
    const char *status = t.code == EXIT_IO || t.code == EXIT_LOCKED ? "error"
                         : t.code == EXIT_REFUSED                  ? "refused"
                                                                   : "ok";
    if (o->json) {
        json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:b, s:b, s:i, s:s}",
                              "status", status, "added", (json_int_t)t.added, "updated",
                              (json_int_t)t.updated, "deleted", (json_int_t)t.deleted,
                              "unchanged", (json_int_t)t.unchanged, "skipped",
                              (json_int_t)t.skipped, "seconds", secs, "docs_per_second", rate,
                              "dry_run", o->dry_run, "rebuild", o->rebuild, "shards", (int)n,
                              "db", o->dbdir);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text)
            puts(text);
        free(text);
        json_decref(j);
    } else if (!o->quiet && !o->rollback) {
        printf("%sadded %lu, updated %lu, deleted %lu, unchanged %lu, skipped %lu in %.2f s "
               "(%.0f docs/s) over %u shard%s\n",
               o->dry_run ? "dry run: would have " : "", t.added, t.updated, t.deleted,
               t.unchanged, t.skipped, secs, rate, end - first, end - first == 1 ? "" : "s");
    }
    return t.code;
}

int main(int argc, char **argv)
{
    struct options o;
    int code;
    if (parse_options(argc, argv, &o, &code) < 0)
        return code;
    /* A full disk or a file-size limit (ulimit -f) must end the run with a clear error at
     * the last commit, not kill it with SIGXFSZ: ignored, a write fails with EFBIG. */
    signal(SIGXFSZ, SIG_IGN);
    if (o.shards > 0)
        return index_sharded(&o, argc, argv);
    return index_one(&o, argc, argv);
}
