/*
 * claims.c -- the incremental state: which files changed, and which input holds each id.
 *
 * Signatures. Each file's (mtime, size) is stored as Xapian metadata F<abspath>, written
 * in the same commit as the file's last change, and only after a complete read. An
 * unchanged file costs one stat() and one metadata read. A file that cannot be read now
 * (permission denied, an I/O error, the HTML parser's time limit, a .gz cut short) keeps
 * its documents and its old signature, is reported and counted, and is read again by the
 * next run: only a file that is gone, or that was read completely, removes documents.
 *
 * Claims. Several inputs may hold one id (the same JSON id in two files, or twice in one).
 * The rule that picks the indexed record does not depend on history: the file whose
 * abspath sorts first (byte order), then its first line holding the id. So that an
 * incremental run -- which reads only changed files -- ends where a clean build does,
 * every document records all the inputs that hold its id: a term XK<file> per file (so a
 * changed file finds every id it held) and SCHEMA_SLOT_CLAIMS, the files in rule order
 * with their line numbers:
 *
 *     <id>\n<abspath>\t<line>[,<line>...]\n...      (no line numbers for text files)
 *
 * A document is deleted only when no input holds its id any more. When the indexed file
 * lets go of an id that another file still holds, that file's signature is cleared in the
 * same commit, so it is read again (later in this run, or by the next one) and its record
 * replaces the document: a run killed in between leaves nothing the next one cannot finish.
 * Ids held by more than one record carry XDUP and are reported at the end of every run,
 * with every location, so the report (and exit 1) do not depend on what changed.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "article.h"
#include "number.h"
#include "schema.h"
#include "shardmap.h"
#include "util.h"
#include "run.h"
#include "claim_list.h"

#define HTML_TIMEOUT_S 30

/* ---- reading one file ------------------------------------------------------------------ */

struct extra {
    unsigned docid;
    unsigned long line;
};

/* One complete or partial read of a file. */
struct file_read {
    struct file_entry *f; /* NULL for a vanished file */
    const char *abspath;
    struct hashset touched; /* docids of the ids read so far */
    struct extra *extras;   /* later lines repeating an id of this file */
    size_t nextra, capextra;
    long records;           /* distinct ids read */
};

static int first_docid(unsigned docid, void *p)
{
    *(unsigned *)p = docid;
    return 1;
}

/* The document indexed by idterm, 0 when none; -1 on error (reported). */
static long docid_of(struct run *r, const char *term)
{
    unsigned docid = 0;
    xc_error *err = NULL;
    if (xc_wdb_postlist(r->wdb, term, first_docid, &docid, &err) < 0)
        return run_failed(r, &err, "cannot read the index");
    return docid;
}

/* Applies one record of a file: the document is (re)built when this file holds the id
 * first by the rule; otherwise only its claim is recorded. line is 0 for a text file. */
static int apply_record(struct run *r, struct file_read *fr, struct article *a,
                        unsigned long line)
{
    char idterm[SCHEMA_MAX_TERM + 1];
    schema_key_term(SCHEMA_PREFIX_ID, a->id, idterm, sizeof idterm);
    long found = docid_of(r, idterm);
    if (found < 0)
        return -1;
    unsigned docid = (unsigned)found;
    if (docid && hashset_has(&fr->touched, docid)) {
        /* The same id again in this file: the first line wins; remember where. */
        if (fr->nextra == fr->capextra) {
            size_t cap = fr->capextra ? fr->capextra * 2 : 16;
            struct extra *v = realloc(fr->extras, cap * sizeof *v);
            if (!v)
                goto oom;
            fr->extras = v;
            fr->capextra = cap;
        }
        fr->extras[fr->nextra++] = (struct extra){docid, line};
        return 0;
    }
    struct claims c = {0};
    if (docid && claims_load(r, docid, &c) < 0)
        return -1;
    char lines[32] = "";
    if (line)
        snprintf(lines, sizeof lines, "%lu", line);
    int changed;
    if ((!c.id && !(c.id = strdup(a->id))) || (changed = claims_set(&c, fr->abspath, lines)) < 0) {
        claims_free(&c);
        goto oom;
    }
    int rc = 0;
    if (strcmp(c.v[claims_owner(&c)].path, fr->abspath) == 0) {
        xc_error *err = NULL;
        xc_doc *doc = schema_build(a, fr->abspath, r->tg, &err);
        unsigned got = 0;
        if (doc && claims_to_doc(&c, doc, &err) == 0)
            got = xc_wdb_replace(r->wdb, idterm, doc, &err);
        xc_doc_free(doc);
        if (!got) {
            rc = run_failed(r, &err, "cannot write document %s", a->id);
        } else {
            if (docid)
                r->updated++;
            else
                r->added++;
            docid = got;
            rc = run_changed(r, strlen(a->title) + a->body_len);
        }
    } else if (changed) {
        rc = claims_store(r, docid, &c, fr->abspath, NULL);
    }
    claims_free(&c);
    if (rc == 0 && hashset_add(&fr->touched, docid) < 0)
        goto oom;
    if (rc == 0)
        fr->records++;
    return rc;
oom:
    return run_failed(r, NULL, "out of memory");
}

/* Writes a signature that matches no file, so the file is read again by the next run that
 * has it, while its path stays known: when the file is gone, its claims go with it. */
static int signature_clear(struct run *r, const char *key, const char *path)
{
    struct strbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "-1 -1 0\t%s\t", path);
    xc_error *err = NULL;
    if (sb.failed || xc_wdb_set_metadata(r->wdb, key, sb.buf, sb.len, &err) < 0) {
        sb_free(&sb);
        return run_failed(r, &err, "cannot write index metadata");
    }
    sb_free(&sb);
    return 0;
}

/* Clears a file's signature, so that it is read again: in this run when it is one of this
 * run's files (even one already done), else by the next run that has it. */
static int invalidate(struct run *r, const char *path)
{
    char key[SCHEMA_MAX_TERM + 1];
    schema_key_term(RUN_META_FILE_PREFIX, path, key, sizeof key);
    if (signature_clear(r, key, path) < 0)
        return -1;
    struct file_entry *e = r->files ? walk_find(r->files, path) : NULL;
    if (e && e->done)
        e->redo = 1;
    return 0;
}

/* Appends to d the documents indexed by term. Returns 0, or -1 (reported, r->io_error set)
 * when the index cannot be read or memory runs out: never a list cut short. */
static int postings(struct run *r, const char *term, struct docids *d)
{
    xc_error *err = NULL;
    if (xc_wdb_postlist(r->wdb, term, docids_collect, d, &err) == 0 && !d->oom)
        return 0;
    return run_failed(r, &err, "cannot read the index");
}

/* Ends a complete read: records later lines of repeated ids, and lets go of every id the
 * file no longer holds (deleting documents no other input holds). */
static int finish_read(struct run *r, struct file_read *fr)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < fr->nextra; i++) {
        struct claims c;
        if (claims_load(r, fr->extras[i].docid, &c) < 0)
            return -1;
        long k = claims_find(&c, fr->abspath);
        if (k >= 0 && c.v[k].lines[0] != '?') {
            char lines[4096];
            snprintf(lines, sizeof lines, "%s,%lu", c.v[k].lines, fr->extras[i].line);
            if (claims_set(&c, fr->abspath, lines) < 0) {
                rc = run_failed(r, NULL, "out of memory");
            } else {
                rc = claims_store(r, fr->extras[i].docid, &c, NULL, NULL);
            }
        }
        claims_free(&c);
    }
    if (rc < 0)
        return -1;

    /* Every document claiming the file, and (from before claims were recorded) every
     * document indexed from it. */
    char kterm[SCHEMA_MAX_TERM + 1], fterm[SCHEMA_MAX_TERM + 1];
    schema_key_term(SCHEMA_PREFIX_CLAIM, fr->abspath, kterm, sizeof kterm);
    schema_key_term(SCHEMA_PREFIX_FILE, fr->abspath, fterm, sizeof fterm);
    struct docids d = {0};
    xc_error *err = NULL;
    if (postings(r, kterm, &d) < 0 || postings(r, fterm, &d) < 0) {
        docids_free(&d);
        return -1;
    }
    if (d.n > 1) /* d.v is NULL when nothing was collected: qsort may not be given it */
        qsort(d.v, d.n, sizeof *d.v, util_cmp_unsigned);
    for (size_t i = 0; rc == 0 && i < d.n; i++) {
        unsigned docid = d.v[i];
        if ((i > 0 && d.v[i - 1] == docid) || hashset_has(&fr->touched, docid))
            continue;
        struct claims c;
        if (claims_load(r, docid, &c) < 0) {
            rc = -1;
            break;
        }
        long k = claims_find(&c, fr->abspath);
        if (!c.id || (k >= 0 && c.n == 1)) {
            /* Nothing else holds the id: the document goes. */
            if (xc_wdb_delete_docid(r->wdb, docid, &err) < 0) {
                rc = run_failed(r, &err, "cannot delete a document");
            } else {
                r->deleted++;
                rc = run_changed(r, 0);
            }
        } else if (k >= 0) {
            int was_first = (size_t)k == claims_owner(&c);
            claims_remove(&c, (size_t)k);
            /* The next file in rule order is read again to give the document its text. */
            if (was_first)
                rc = invalidate(r, c.v[claims_owner(&c)].path);
            if (rc == 0)
                rc = claims_store(r, docid, &c, NULL, fr->abspath);
        }
        claims_free(&c);
    }
    free(d.v);
    return rc;
}

static void file_read_free(struct file_read *fr)
{
    hashset_free(&fr->touched);
    free(fr->extras);
}

/* ---- the formats ------------------------------------------------------------------------ */

/* True when the article belongs to the shard this run writes. */
static int in_shard(const struct run *r, const char *id)
{
    return r->shard_n <= 1 || shardmap_shard_of(id, r->shard_n) == r->shard_k;
}

enum read_result {
    READ_COMPLETE = 0, /* every record applied */
    READ_REJECTED = 1, /* read completely, but it holds no article (reason in why) */
    READ_DOUBT = 2,    /* could not be read now (reason in why): documents kept */
    READ_ERROR = 3     /* index error (reported) */
};

/* Applies one record read from a file (line: its line, or element, number; 0 for a file
 * that is one article), unless it is another shard's; frees it. Returns 0 or -1 (an
 * index error, reported). */
static int take_record(struct run *r, struct file_read *fr, struct article *a,
                       unsigned long line)
{
    int rc = in_shard(r, a->id) ? apply_record(r, fr, a, line) : 0;
    article_clear(a);
    return rc;
}

/* Reads one JSON Lines file (plain or gzip). */
static enum read_result read_jsonl(struct run *r, struct file_read *fr, char *why, size_t whylen)
{
    const struct file_entry *f = fr->f;
    article_lines *lines = article_lines_open(f->path, why, whylen);
    if (!lines)
        return READ_DOUBT;
    const char *line;
    size_t len;
    unsigned long lineno = 0;
    long long at = r->bytes_done;
    int rc;
    enum read_result res = READ_COMPLETE;
    while ((rc = article_lines_next(lines, &line, &len, &lineno, why, whylen)) != 0) {
        if (rc == -1) {
            /* Stopped half way (EIO, a truncated .gz): what was read is applied, the rest
             * keeps its documents, and no signature is written. */
            char w[512];
            snprintf(w, sizeof w, "line %lu: %.480s", lineno, why);
            snprintf(why, whylen, "%s", w);
            res = READ_DOUBT;
            break;
        }
        r->bytes_done = at + (long long)article_lines_offset(lines);
        if (rc == -2) {
            input_problem(r, skipped, "%s:%lu: line longer than %u bytes, skipped", f->path, lineno,
                         ARTICLE_MAX_LINE_BYTES);
            continue;
        }
        if (len == 0 || strspn(line, " \t\r") == len)
            continue;
        /* In a part or a shard, another's record is passed over unread when its id shows at
         * a glance, and the run that owns it reports it if it cannot be read. */
        int owner = 0;
        if (r->shard_n > 1) {
            const char *pid;
            size_t pidlen;
            char id[ARTICLE_MAX_ID_BYTES + 1];
            if (article_json_peek_id(line, len, &pid, &pidlen)) {
                memcpy(id, pid, pidlen);
                id[pidlen] = '\0';
                if (!in_shard(r, id))
                    continue;
                owner = 1;
            }
        }
        struct article a = {0};
        char reason[256];
        if (article_parse_json(line, len, &a, reason, sizeof reason) < 0) {
            input_problem_of(r, owner, skipped, "%s:%lu: %s, skipped", f->path, lineno, reason);
            article_clear(&a);
            continue;
        }
        if (take_record(r, fr, &a, lineno) < 0) {
            res = READ_ERROR;
            break;
        }
        run_progress(r, 0);
    }
    article_lines_close(lines);
    r->bytes_done = at;
    return res;
}

/* Reads one .json file (plain or gzip): one object, or an array of them. A record that
 * cannot be read is skipped as a JSON Lines line is; the elements of an array count as its
 * lines (for the rule that picks among records holding one id, and in messages). */
static enum read_result read_json(struct run *r, struct file_read *fr, char *why, size_t whylen)
{
    const struct file_entry *f = fr->f;
    size_t len;
    char *buf = article_read_file(f->path, &len, why, whylen);
    if (!buf)
        return READ_DOUBT;
    article_json_doc *d = article_json_doc_parse(buf, len, why, whylen);
    free(buf);
    if (!d)
        return strcmp(why, "out of memory") == 0 ? READ_DOUBT : READ_REJECTED;
    int array = article_json_doc_is_array(d);
    size_t n = article_json_doc_count(d);
    enum read_result res = READ_COMPLETE;
    for (size_t i = 0; i < n; i++) {
        struct article a = {0};
        char reason[256];
        if (article_json_doc_record(d, i, f->relid, &a, reason, sizeof reason) < 0) {
            article_clear(&a);
            if (strcmp(reason, "out of memory") == 0) {
                snprintf(why, whylen, "%s", reason);
                res = READ_DOUBT;
                break;
            }
            if (!array) {
                /* The file's one article: it holds none. */
                snprintf(why, whylen, "%s", reason);
                res = READ_REJECTED;
                break;
            }
            input_problem(r, skipped, "%s: element %zu: %s, skipped", f->path, i + 1, reason);
            continue;
        }
        if (take_record(r, fr, &a, array ? i + 1 : 0) < 0) {
            res = READ_ERROR;
            break;
        }
        run_progress(r, 0);
    }
    article_json_doc_free(d);
    return res;
}

/* Reads one .txt/.md/.html file (plain or gzip). */
static enum read_result read_single(struct run *r, struct file_read *fr, char *why,
                                    size_t whylen)
{
    const struct file_entry *f = fr->f;
    if (!in_shard(r, f->relid))
        return READ_COMPLETE; /* another shard's document: none of this file's is here */
    article_format fmt = article_format_for_path(f->path);
    size_t len;
    char *buf = article_read_file(f->path, &len, why, whylen);
    if (!buf)
        return READ_DOUBT;
    /* Text in another charset is converted here, so that the summary can count it (the
     * parsers would convert it all the same). */
    char *utf8 = NULL;
    size_t ulen = 0;
    int recoded = article_recode(buf, len, fmt == ARTICLE_HTML, &utf8, &ulen, NULL, 0);
    if (recoded < 0) {
        free(buf);
        snprintf(why, whylen, "out of memory");
        return READ_DOUBT;
    }
    if (recoded) {
        free(buf);
        buf = utf8;
        len = ulen;
        r->recoded++;
    }
    struct article a = {0};
    /* HTML goes through its parser in a child process: the gumbo that Debian ships aborts
     * on some tag soup, which must cost one file, not the run. */
    int rc = fmt == ARTICLE_HTML
                 ? article_parse_html_isolated(buf, len, &a, why, whylen, HTML_TIMEOUT_S)
                 : article_parse_text(buf, len, fmt == ARTICLE_MARKDOWN, &a, why, whylen);
    free(buf);
    if (rc < 0) {
        article_clear(&a);
        return rc == -2 ? READ_DOUBT : READ_REJECTED;
    }
    free(a.id);
    a.id = strdup(f->relid);
    if (!a.id) {
        article_clear(&a);
        run_failed(r, NULL, "out of memory");
        return READ_ERROR;
    }
    rc = apply_record(r, fr, &a, 0);
    article_clear(&a);
    return rc < 0 ? READ_ERROR : READ_COMPLETE;
}

/* ---- one file ---------------------------------------------------------------------------- */

/* After a file could not be read (completely): its documents stay as they are, its
 * signature is cleared so the next run reads it again, and an id whose record it should
 * give but the document does not hold (the file that gave it let go) waits for it: the
 * next file by the rule stands in, read again for that (claims_owner). */
static int doubt_read(struct run *r, struct file_read *fr, const char *key)
{
    if (signature_clear(r, key, fr->abspath) < 0)
        return -1;
    char kterm[SCHEMA_MAX_TERM + 1], fterm[SCHEMA_MAX_TERM + 1];
    schema_key_term(SCHEMA_PREFIX_CLAIM, fr->abspath, kterm, sizeof kterm);
    schema_key_term(SCHEMA_PREFIX_FILE, fr->abspath, fterm, sizeof fterm);
    struct docids claimed = {0}, held = {0};
    if (postings(r, kterm, &claimed) < 0 || postings(r, fterm, &held) < 0) {
        docids_free(&claimed);
        docids_free(&held);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < claimed.n; i++) {
        unsigned docid = claimed.v[i];
        if (hashset_has(&fr->touched, docid) ||
            (held.n > 0 && bsearch(&docid, held.v, held.n, sizeof *held.v, util_cmp_unsigned)))
            continue; /* read just now, or the document holds this file's record */
        struct claims c;
        if (claims_load(r, docid, &c) < 0) {
            rc = -1;
            break;
        }
        long k = claims_find(&c, fr->abspath);
        if (k >= 0 && (size_t)k == claims_owner(&c) && c.v[k].lines[0] != '?') {
            char lines[4096];
            snprintf(lines, sizeof lines, "?%s", c.v[k].lines);
            size_t next;
            if (claims_set(&c, fr->abspath, lines) < 0) {
                rc = run_failed(r, NULL, "out of memory");
            } else if ((next = claims_owner(&c)) != (size_t)k) {
                rc = invalidate(r, c.v[next].path);
            }
            if (rc == 0)
                rc = claims_store(r, docid, &c, NULL, NULL);
        }
        claims_free(&c);
    }
    free(claimed.v);
    free(held.v);
    return rc;
}

/* The numbers are read as longs: Quire is built for LP64 systems, where a long holds any
 * nanosecond mtime or file size a long long does. */
_Static_assert(sizeof(long) == sizeof(long long), "a long holds an mtime in nanoseconds");

int claims_signature_parse(const char *sig, long long *mtime, long long *size, long *ndocs)
{
    long v[3];
    const char *p = sig;
    for (int i = 0; i < 3; i++) {
        size_t n = strcspn(p, i < 2 ? " " : "\t");
        if (num_parse_span(p, n, 10, i == 0 ? LONG_MIN : 0, LONG_MAX, &v[i]) != NUM_OK)
            return -1;
        p += n;
        if (i < 2 && *p++ != ' ')
            return -1;
    }
    *mtime = v[0];
    *size = v[1];
    *ndocs = v[2];
    return 0;
}

/* Parses a signature "mtime size ndocs\tabspath\tid". Returns 1 when it matches f. */
static int signature_matches(const char *sig, const struct file_entry *f, long *ndocs)
{
    long long mtime = 0, size = 0;
    if (claims_signature_parse(sig, &mtime, &size, ndocs) < 0 || mtime != f->mtime_ns ||
        size != f->size)
        return 0;
    if (article_format_for_path(f->path) == ARTICLE_JSONL)
        return 1;
    /* A text file's id comes from the PATHs given: other PATHs, another id (and so may a
     * .json file's). */
    const char *tab = strchr(sig, '\t');
    tab = tab ? strchr(tab + 1, '\t') : NULL;
    return tab && strcmp(tab + 1, f->relid) == 0;
}

int claims_index_file(struct run *r, struct file_entry *f)
{
    char key[SCHEMA_MAX_TERM + 1];
    schema_key_term(RUN_META_FILE_PREFIX, f->abspath, key, sizeof key);
    f->done = 1;
    f->redo = 0;
    xc_error *err = NULL;
    char *sig = xc_wdb_metadata(r->wdb, key, &err);
    if (!sig)
        return run_failed(r, &err, "cannot read index metadata");
    long ndocs = 0;
    int same = signature_matches(sig, f, &ndocs);
    free(sig);
    if (same) {
        r->unchanged += (unsigned long)ndocs;
        return 0;
    }

    char why[512] = "";
    struct file_read fr = {0};
    fr.f = f;
    fr.abspath = f->abspath;
    article_format fmt = article_format_for_path(f->path);
    enum read_result res = fmt == ARTICLE_JSONL  ? read_jsonl(r, &fr, why, sizeof why)
                           : fmt == ARTICLE_JSON ? read_json(r, &fr, why, sizeof why)
                                                 : read_single(r, &fr, why, sizeof why);
    /* A text, Markdown or HTML file is read only by the run of the shard it belongs to
     * (run.h): that run reports its problems, whichever shard it writes. */
    int own = fmt != ARTICLE_JSONL && fmt != ARTICLE_JSON;
    int rc = 0;
    switch (res) {
    case READ_ERROR:
        rc = -1;
        break;
    case READ_DOUBT:
        /* Not read completely: keep what it held, and read it again next run. */
        if (own) { /* only its own run reads it */
            report(r, "%s: %s; its documents are kept and it is read again next run", f->path,
                   why);
            r->unreadable++;
        } else {
            input_problem(r, unreadable,
                          "%s: %s; its documents are kept and it is read again next run",
                          f->path, why);
        }
        rc = doubt_read(r, &fr, key);
        break;
    case READ_REJECTED:
        /* Read completely and it holds no article: its documents go; no signature, so
         * the problem is reported by every run until the file is fixed. */
        if (own) { /* only its own run reads it */
            report(r, "%s: %s, skipped", f->path, why);
            r->skipped++;
        } else {
            input_problem(r, skipped, "%s: %s, skipped", f->path, why);
        }
        rc = finish_read(r, &fr);
        if (rc == 0)
            rc = signature_clear(r, key, f->abspath);
        break;
    case READ_COMPLETE: {
        rc = finish_read(r, &fr);
        if (rc < 0)
            break;
        char val[3 * PATH_MAX];
        /* A JSON Lines file's ids are its records' own; any other file's may be its path's
         * (a .json object without "id"). */
        int n = snprintf(val, sizeof val, "%lld %lld %ld\t%s\t%s", f->mtime_ns, f->size,
                         fr.records, f->abspath, fmt == ARTICLE_JSONL ? "" : f->relid);
        if (n < 0 || (size_t)n >= sizeof val) {
            rc = 0; /* too long to record: read again next run */
            break;
        }
        if (xc_wdb_set_metadata(r->wdb, key, val, (size_t)n, &err) < 0) {
            rc = run_failed(r, &err, "cannot write index metadata");
            break;
        }
        rc = run_changed(r, 0);
        break;
    }
    }
    file_read_free(&fr);
    return rc;
}

/* ---- vanished files ------------------------------------------------------------------ */

struct vanished_ctx {
    struct run *r;
    struct strlist keys;
    int oom;
};

static int under(const char *path, char *const *dirs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(dirs[i]);
        if (strncmp(path, dirs[i], len) == 0 &&
            (path[len] == '/' || path[len] == '\0' || (len == 1 && dirs[i][0] == '/')))
            return 1;
    }
    return 0;
}

/* True when path lies under one of this run's roots, and not under a directory that could
 * not be read (what it holds is unknown, not gone). */
static int under_roots(const struct run *r, const char *path)
{
    return under(path, r->roots, r->nroots) && !under(path, r->unread_dirs, r->nunread_dirs);
}

/* Collects signature keys of files this run did not see. Keys are F<abspath>, or F#<hash>
 * for a path too long to be a key (its path is in the value). */
static int collect_vanished(const char *key, void *p)
{
    struct vanished_ctx *c = p;
    if (key[1] == '/' && (!under_roots(c->r, key + 1) || walk_find(c->r->files, key + 1)))
        return 0;
    if (strlist_add(&c->keys, key) < 0) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

int claims_vanished(struct run *r)
{
    struct vanished_ctx c = {r, {0}, 0};
    xc_error *err = NULL;
    int rc = xc_wdb_metadata_keys(r->wdb, RUN_META_FILE_PREFIX, collect_vanished, &c, &err);
    if (rc < 0 || c.oom)
        rc = run_failed(r, &err, "cannot list the indexed files");
    for (size_t i = 0; rc == 0 && i < c.keys.n; i++) {
        char *val = xc_wdb_metadata(r->wdb, c.keys.v[i], &err);
        if (!val) {
            rc = run_failed(r, &err, "cannot read index metadata");
            break;
        }
        const char *tab = strchr(val, '\t');
        char *path = tab ? strdup(tab + 1) : NULL;
        char *tab2 = path ? strchr(path, '\t') : NULL;
        if (tab2)
            *tab2 = '\0';
        free(val);
        if (path && *path && under_roots(r, path) && !walk_find(r->files, path)) {
            struct file_read fr = {0};
            fr.abspath = path;
            rc = finish_read(r, &fr);
            file_read_free(&fr);
            if (rc == 0 && xc_wdb_set_metadata(r->wdb, c.keys.v[i], "", 0, &err) < 0)
                rc = run_failed(r, &err, "cannot write index metadata");
            if (rc == 0)
                rc = run_changed(r, 0);
        }
        free(path);
    }
    strlist_free(&c.keys);
    return rc;
}

/* ---- duplicates ------------------------------------------------------------------------ */

int claims_report_duplicates(struct run *r)
{
    struct docids d = {0};
    if (postings(r, SCHEMA_TERM_DUPLICATE, &d) < 0) {
        docids_free(&d);
        return -1;
    }
    for (size_t i = 0; i < d.n; i++) {
        struct claims c;
        if (claims_load(r, d.v[i], &c) < 0)
            break;
        struct strbuf sb;
        sb_init(&sb);
        for (size_t k = 0; k < c.n; k++) {
            const char *l = c.v[k].lines;
            if (*l == '?')
                l++; /* waiting for its file to be readable */
            if (!*l) {
                sb_printf(&sb, "%s%s", k ? ", " : "", c.v[k].path);
                continue;
            }
            /* One location per line: path:3, path:7 */
            for (int first = 1; *l; first = 0) {
                const char *comma = strchr(l, ',');
                size_t len = comma ? (size_t)(comma - l) : strlen(l);
                sb_printf(&sb, "%s%s:%.*s", k || !first ? ", " : "", c.v[k].path, (int)len, l);
                l += len + (comma != NULL);
            }
        }
        report(r, "duplicate id \"%s\" in %lu records; the first is indexed: %s",
               c.id ? c.id : "?", claims_records(&c), sb_cstr(&sb));
        sb_free(&sb);
        claims_free(&c);
        r->duplicates++;
    }
    free(d.v);
    return 0;
}
