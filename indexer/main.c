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
 *   3 the index is locked by another writer; 4 I/O or index error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "article.h"
#include "dbdir.h"
#include "schema.h"
#include "util.h"
#include "xapian-c/xc.h"

#include "config.h"

enum {
    EXIT_OK = 0,
    EXIT_SKIPPED = 1,
    EXIT_USAGE = 2,
    EXIT_LOCKED = 3,
    EXIT_IO = 4
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
            "  4  I/O or index error (the index stays at its last commit)\n",
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
        report(r, "%s: directory tree deeper than %d levels, not descending", dir, MAX_DEPTH);
        r->skipped++;
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        report(r, "%s: cannot read directory: %s", dir, strerror(errno));
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
            report(r, "%s/%s: path too long, skipped", dir, names[i]);
            r->skipped++;
            continue;
        }
        struct stat lst, st;
        if (lstat(path, &lst) < 0) {
            report(r, "%s: %s, skipped", path, strerror(errno));
            r->skipped++;
            continue;
        }
        if (S_ISLNK(lst.st_mode)) {
            /* Follow links to files; never to directories (no loops, no escaping). */
            if (stat(path, &st) < 0) {
                report(r, "%s: broken symbolic link, skipped", path);
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
        } else if (S_ISREG(st.st_mode)) {
            if (article_format_for_path(path) != ARTICLE_UNKNOWN &&
                file_list_add(fl, path, relid, &st) < 0)
                rc = -1;
        }
        /* FIFOs, sockets and devices are never opened. */
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

/* Adds or replaces one article; counts it. Returns the docid, 0 on error. */
static unsigned put_article(struct run *r, struct article *a, const char *file_key)
{
    xc_error *err = NULL;
    char idterm[SCHEMA_MAX_TERM + 1];
    schema_key_term(SCHEMA_PREFIX_ID, a->id, idterm, sizeof idterm);
    int existed = xc_wdb_termfreq(r->wdb, idterm) > 0;
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
            report(r, "%s:%lu: %s; rest of file skipped", f->path, lineno, why);
            r->skipped++;
            break;
        }
        if (rc == -2) {
            report(r, "%s:%lu: line longer than %u bytes, skipped", f->path, lineno,
                   ARTICLE_MAX_LINE_BYTES);
            r->skipped++;
            continue;
        }
        if (len == 0 || strspn(line, " \t\r") == len)
            continue;
        struct article a = {0};
        char reason[256];
        if (article_parse_json(line, len, &a, reason, sizeof reason) < 0) {
            report(r, "%s:%lu: %s, skipped", f->path, lineno, reason);
            r->skipped++;
            article_clear(&a);
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
                         char *why, size_t whylen)
{
    size_t len;
    char *buf = read_file(f->path, &len, why, whylen);
    if (!buf)
        return -1;
    struct article a = {0};
    int rc = fmt == ARTICLE_HTML ? article_parse_html(buf, len, &a, why, whylen)
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
                                     : index_single(r, f, fmt, why, sizeof why);
    if (docs == -2)
        return -1;
    if (docs < 0) {
        report(r, "%s: %s, skipped", f->path, why);
        r->skipped++;
        /* The file no longer yields a document: drop what it held, and record no
         * signature so that a fixed file is picked up next run. */
        unsigned had = xc_wdb_termfreq(r->wdb, file_term);
        if (had > 0) {
            if (xc_wdb_delete_term(r->wdb, file_term, &err) < 0) {
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
            unsigned had = xc_wdb_termfreq(r->wdb, file_term);
            if (xc_wdb_delete_term(r->wdb, file_term, &err) < 0 ||
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

/* ---- main ---------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},   {"batch", required_argument, NULL, 'b'},
        {"wait", optional_argument, NULL, 'w'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},       {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    struct run r = {0};
    const char *dbdir = getenv("QUIRE_DB");
    if (!dbdir || !*dbdir)
        dbdir = "quire.db";
    long batch = DEFAULT_BATCH;
    int wait_seconds = -1;
    int c;
    while ((c = getopt_long(argc, argv, "qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': dbdir = optarg; break;
        case 'b': {
            char *end;
            batch = strtol(optarg, &end, 10);
            if (*end || batch < 1 || batch > 10000000) {
                fprintf(stderr, "%s: --batch must be a number from 1 to 10000000\n", progname);
                return EXIT_USAGE;
            }
            break;
        }
        case 'w': {
            if (!optarg) {
                wait_seconds = 3600;
                break;
            }
            char *end;
            long w = strtol(optarg, &end, 10);
            if (*end || w < 0 || w > 86400) {
                fprintf(stderr, "%s: --wait takes seconds from 0 to 86400\n", progname);
                return EXIT_USAGE;
            }
            wait_seconds = (int)w;
            break;
        }
        case 'q': r.quiet = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'V': printf("quire-index %s (Xapian %s)\n", PACKAGE_VERSION, xc_version()); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: no PATH given (try --help)\n", progname);
        return EXIT_USAGE;
    }
    r.dbdir = dbdir;
    r.batch = (unsigned)batch;
    r.progress = !r.quiet && isatty(STDERR_FILENO);
    r.t0 = util_now_ms();

    /* Check the inputs before touching the index, so a typo cannot delete anything. */
    struct file_list fl = {0};
    r.roots = calloc((size_t)(argc - optind), sizeof *r.roots);
    if (!r.roots) {
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
            r.roots[r.nroots] = realpath(argv[i], NULL);
            if (!r.roots[r.nroots]) {
                fprintf(stderr, "%s: %s: %s\n", progname, argv[i], strerror(errno));
                return EXIT_USAGE;
            }
            r.nroots++;
            if (walk_dir(&r, &fl, argv[i], "", 0) < 0) {
                fprintf(stderr, "%s: out of memory\n", progname);
                return EXIT_IO;
            }
        } else if (S_ISREG(st.st_mode)) {
            const char *base = strrchr(argv[i], '/');
            base = base ? base + 1 : argv[i];
            if (article_format_for_path(argv[i]) == ARTICLE_UNKNOWN) {
                report(&r, "%s: unknown file type (want .txt, .md, .html, .jsonl, .jsonl.gz), "
                           "skipped", argv[i]);
                r.skipped++;
                continue;
            }
            if (file_list_add(&fl, argv[i], base, &st) < 0) {
                fprintf(stderr, "%s: out of memory\n", progname);
                return EXIT_IO;
            }
        } else {
            fprintf(stderr, "%s: %s: not a regular file or directory\n", progname, argv[i]);
            return EXIT_USAGE;
        }
    }
    r.bytes_total = fl.bytes;

    char why[512];
    int lock = dbdir_lock(dbdir, wait_seconds, why, sizeof why);
    if (lock == -1) {
        fprintf(stderr, "%s: %s\n", progname, why);
        return EXIT_LOCKED;
    }
    if (lock < 0) {
        fprintf(stderr, "%s: %s\n", progname, why);
        return EXIT_IO;
    }
    char dbpath[PATH_MAX];
    if (dbdir_writer_path(dbdir, 1, dbpath, sizeof dbpath, why, sizeof why) < 0) {
        fprintf(stderr, "%s: %s\n", progname, why);
        return EXIT_IO;
    }
    xc_error *err = NULL;
    r.wdb = xc_wdb_open(dbpath, 1, &err);
    if (!r.wdb) {
        int locked = err && err->code == XC_ERR_LOCKED;
        fprintf(stderr, "%s: cannot open index %s: %s\n", progname, dbpath,
                err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        return locked ? EXIT_LOCKED : EXIT_IO;
    }
    r.tg = xc_termgen_new(SCHEMA_LANG, &err);
    if (!r.tg) {
        fprintf(stderr, "%s: %s\n", progname, err && err->message ? err->message : "termgen");
        xc_error_free(err);
        return EXIT_IO;
    }

    for (size_t i = 0; i < fl.n && !r.io_error; i++) {
        index_file(&r, &fl.v[i]);
        r.bytes_done += fl.v[i].size;
        draw_progress(&r, 0);
    }
    if (!r.io_error)
        delete_vanished(&r);
    if (!r.io_error && (r.pending > 0 || r.added + r.updated + r.deleted > 0))
        commit(&r);
    draw_progress(&r, 1);
    if (r.progress)
        fputc('\n', stderr);

    double secs = (util_now_ms() - r.t0) / 1000.0;
    if (!r.quiet)
        printf("added %lu, updated %lu, deleted %lu, unchanged %lu, skipped %lu in %.2f s "
               "(%.0f docs/s)\n",
               r.added, r.updated, r.deleted, r.unchanged, r.skipped, secs,
               secs > 0 ? (double)(r.added + r.updated) / secs : 0.0);

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
    if (r.io_error)
        return EXIT_IO;
    return r.skipped ? EXIT_SKIPPED : EXIT_OK;
}
