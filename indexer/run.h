/*
 * run.h -- what one quire-index run over one database shares between its parts: the
 * options (options.c), the input files (walk.c), the incremental state and the ids'
 * claims (claims.c), generations (generations.c), sharded indexes (shards.c) and the
 * run itself (main.c).
 */
#ifndef QUIRE_INDEXER_RUN_H
#define QUIRE_INDEXER_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xapian-c/xc.h"

enum {
    EXIT_OK = 0,
    EXIT_SKIPPED = 1,
    EXIT_USAGE = 2,
    EXIT_LOCKED = 3,
    EXIT_IO = 4,
    EXIT_REFUSED = 5
};

#define DEFAULT_BATCH 2000
/* A batch also ends after this much article text (title and body), whatever --batch
 * says: Xapian holds a batch's postings in memory, so this bounds the indexer's memory
 * for any size of article, and smaller in-memory posting maps are cheaper to add to. */
#define BATCH_TEXT_BYTES (3u << 20)

struct options {
    const char *dbdir;
    long batch;
    int wait_seconds;
    int quiet, json, dry_run, rebuild, rollback, list, force, no_spelling;
    int keep_set, max_drop_set; /* given on the command line (they need --rebuild) */
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
    int first_path;    /* argv index of the first PATH */
};

/* One input file. */
struct file_entry {
    char *path;    /* as found, for messages */
    char *abspath; /* the real path of its root + the path below it: signature and claims */
    char *relid;   /* id of a text/Markdown/HTML file: path relative to the ids' base */
    long long mtime_ns;
    long long size;
    int done;      /* processed in this run */
    int redo;      /* done, then its signature was cleared: read it again (claims.c) */
};

struct file_list {
    struct file_entry *v; /* sorted by abspath, no two alike */
    size_t n, cap;
    long long bytes;
};

/* File extensions met inside directories that are not article files, for the summary. */
#define IGNORED_KINDS 8
struct ignored {
    unsigned long total;
    char ext[IGNORED_KINDS][16];
    unsigned long count[IGNORED_KINDS];
    size_t n;
};


struct run {
    const char *dbdir;
    xc_wdb *wdb;
    xc_termgen *tg;
    unsigned batch;
    unsigned pending; /* changes since the last commit */
    size_t batch_text;   /* ...or after this much article text (BATCH_TEXT_BYTES) */
    size_t pending_text; /* bytes of article text written since the last commit */
    int marked;       /* run_write_tables marked the duplicates for the next commit */
    int quiet;
    int progress;     /* draw a progress bar (stderr is a terminal) */
    unsigned long added, updated, deleted, unchanged, skipped;
    unsigned long unreadable; /* files that could not be read now: documents kept */
    unsigned long duplicates; /* ids held by more than one record */
    unsigned long recoded;    /* text and HTML files converted to UTF-8 */
    unsigned long muted_skipped, muted_unreadable; /* met, but reported by another run */
    struct ignored ignored;
    long long bytes_done, bytes_total;
    double t0, last_draw;
    char **roots; /* canonical roots, for deciding which vanished files are ours */
    size_t nroots;
    char **unread_dirs; /* directories that could not be read: their files are not gone */
    size_t nunread_dirs;
    struct file_list *files;
    int io_error;
    unsigned shard_k, shard_n; /* this run writes the documents of shard k of n (n >= 1) */
    int mute_inputs;           /* another shard's run reports the inputs' problems */
};

extern const char *progname;

/* Prints a message to stderr, clearing the progress line first. */
void report(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failure that ends the run's writing: reports fmt's message, followed by ": " and the
 * binding's error (or "out of memory" when the binding could not make one) when err is
 * not NULL; frees and clears *err; marks the run failed (io_error). Returns -1. */
int run_failed(struct run *r, xc_error **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports a problem with an input that every shard's (or part's) run of the same inputs
 * meets -- a directory, a JSON Lines or .json file or one of its records -- and counts it
 * in the named counter, unless another run reports it: so the runs' counts add up. A
 * text, Markdown or HTML file is read only by the run its id belongs to, which reports it
 * with report(); so is a JSON Lines record whose id shows at a glance
 * (article_json_peek_id), which that run reports with input_problem_of. A muted run
 * still notes what it met (muted_*): a shard's --rebuild must be refused for an
 * unreadable input whichever shard's run reported it. */
#define input_problem(r, counter, ...) input_problem_of((r), 0, counter, __VA_ARGS__)
/* The same, for an input that only the run owning it meets when owned is true: that run
 * reports it, muted or not. */
#define input_problem_of(r, owned, counter, ...)                                           \
    do {                                                                                   \
        if ((owned) || !(r)->mute_inputs) {                                                \
            report((r), __VA_ARGS__);                                                      \
            (r)->counter++;                                                                \
        } else {                                                                           \
            (r)->muted_##counter++;                                                        \
        }                                                                                  \
    } while (0)

/* Metadata key prefix of the files' signatures (claims.c): F<abspath> ->
 * "mtime size ids\tabspath\tid". */
#define RUN_META_FILE_PREFIX "F"

/* Reads every file of the list, then those a later file sent back (claims.c), and reports
 * the duplicate ids. */
void run_index_files(struct run *r, struct file_list *fl);
/* Rewrites what is derived from all the documents before a run's last commit: the
 * completion table (lib/complete.h) and the marks on articles that share their text
 * (schema_mark_duplicates), or, when repeats >= 0, only whether any text repeats: a
 * build's parts were marked before they were merged (parts.c). A failure is reported, sets
 * r->io_error and returns -1; the documents are not committed without them. */
int run_write_tables(struct run *r, int repeats);
/* Commits (and stamps quire:updated). Returns 0, or -1 (reported, r->io_error set). */
int run_commit(struct run *r);
/* Counts one change that wrote text_bytes of article text; commits when a batch is full
 * (r->batch changes or r->batch_text bytes of text). */
int run_changed(struct run *r, size_t text_bytes);
/* Redraws the progress bar (at most every 200 ms unless final). */
void run_progress(struct run *r, int final);
/* Prints the run's summary: one line for people, or one JSON object with --json (to
 * o->summary_fd when set). shards: the number of shards the run wrote (0: one database),
 * added as " over N shards" and "shards": N. */
void run_summary(const struct run *r, const struct options *o, const char *generation,
                 const char *status, unsigned shards);

/* options.c */
void options_usage(FILE *out);
/* Parses the command line into o; returns -1 to exit with *code. */
int options_parse(int argc, char **argv, struct options *o, int *code);

/* walk.c: collects the files named by argv[first..argc) into fl, sorted by abspath, and
 * this run's roots into r. Returns 0, or an exit code. */
int walk_inputs(struct run *r, struct file_list *fl, int first, int argc, char **argv);
void walk_free(struct file_list *fl);
/* The entry with this abspath, or NULL. */
struct file_entry *walk_find(struct file_list *fl, const char *abspath);

/* claims.c: processes one file (skipped when unchanged). Returns 0, or -1 on an index
 * error (reported, r->io_error set). */
int claims_index_file(struct run *r, struct file_entry *f);
/* Forgets the files under this run's roots that no longer exist: their claims go, and the
 * documents nothing else holds are deleted. */
int claims_vanished(struct run *r);
/* Reports every id held by more than one record (all locations) and counts them. */
int claims_report_duplicates(struct run *r);
/* Reads the head of a file's signature, "MTIME SIZE NDOCS" up to a tab or the end (as
 * claims_index_file records it). Returns 0, or -1 when sig does not start so. */
int claims_signature_parse(const char *sig, long long *mtime, long long *size, long *ndocs);

/* generations.c */
int generations_check(const char *dbdir, const char *genpath, const struct options *o,
                      char *why, size_t whylen);
/* --rollback: pops the live generation, making the one below it live (list: prints the
 * stack instead). Returns an exit code. */
int generations_rollback(const char *dbdir, int list);
/* Prepares DIR/.rebuild for a rebuild (removing what a killed one left); its name into name. */
int generations_begin(const char *dbdir, char *name, size_t namelen, char *why, size_t whylen);
/* Makes the checked rebuild `built` a generation (gen-N, N above every one present), pushes
 * it on the stack (replace: in place of the live one, which it holds compacted), points
 * `current` at it, and keeps the top `keep` of the stack (removing every other
 * generation). Its name into gen. Returns 0 or -1 + reason. */
int generations_push(const char *dbdir, const char *built, int replace, unsigned keep,
                     char *gen, size_t genlen, char *why, size_t whylen);
/* A first build is marked in its metadata until a complete run compacts it, so a build
 * killed half way is compacted by the run that finishes it. */
#define GENERATIONS_FIRST_BUILD "quire:first-build"
/* Writes a compacted copy of DIR/name to DIR/.compact (DBDIR_COMPACT), with the first-build
 * mark cleared in the copy. Returns 0, or -1 + reason (DIR/name is untouched either way). */
int generations_compact(const char *dbdir, const char *name, char *why, size_t whylen);
/* Removes an unfinished or refused rebuild. */
void generations_abandon(const char *dbdir, const char *name);

/* parts.c: a full build split by id among processes (at most PARTS_MAX). */
#define PARTS_MAX 16
/* How many parts a run builds in: 1 (no split) unless it is a full build (fresh) of one
 * database with enough input, or --jobs asks. */
unsigned parts_wanted(const struct options *o, const struct file_list *fl, int fresh);
/* Builds the inputs in n parts and merges them into DIR/.compact (DBDIR_COMPACT), adding
 * the parts' counts to r. r has no database open. Returns 0, or -1 (reported, r->io_error
 * set; a first build's parts stay for the next run to continue). */
int parts_build(struct run *r, const struct options *o, struct file_list *fl, unsigned n);

/* shards.c */
int shards_index(const struct options *o, int argc, char **argv);

/* main.c: one run over one database (the whole index or one shard). */
int index_one(const struct options *opts, int argc, char **argv);

#endif
