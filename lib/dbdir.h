/*
 * dbdir.h -- the index directory on disk: generations, the `current` pointer, the
 * writer lock.
 *
 *   DIR/current      Xapian stub database file naming the live generation ("auto gen-N")
 *   DIR/gen-000001/  a glass database
 *   DIR/generations  the live generations, a stack (bottom first; the last is live)
 *   DIR/last-generation  the highest generation number ever made (never reused)
 *   DIR/.rebuild/    a rebuild being written (never live; see DBDIR_BUILD)
 *   DIR/.compact/    a full build's compacted copy being written (never live)
 *   DIR/.part-K-of-P/ one part of a full build written by P processes (never live)
 *   DIR/quire.lock   flock()ed by the one writer
 *
 * `current` is only ever replaced by rename(), so a reader sees the old or the new
 * generation, never a half-written pointer. --db may also name a plain Xapian database
 * or a stub file written by hand (e.g. listing shards); readers open those as they are.
 */
#ifndef QUIRE_DBDIR_H
#define QUIRE_DBDIR_H

#include <stddef.h>
#include <sys/types.h>

#define DBDIR_CURRENT "current"
#define DBDIR_LOCK "quire.lock"
/* The stack of live generations, bottom first, one name a line: the last is live (it is
 * what `current` names), --rollback pops it and makes the one below live again. */
#define DBDIR_STACK "generations"
/* A rebuild is written here; it becomes gen-N only once its checks pass, so a rebuild
 * killed half way leaves nothing that can become live (the next rebuild removes it). */
#define DBDIR_BUILD ".rebuild"
/* A full build's compacted copy is written here before it replaces the build (the next
 * compaction removes what a killed one left). */
#define DBDIR_COMPACT ".compact"
/* The parts of a full build written by several processes (indexer/parts.c):
 * DIR/.part-K-of-P. */
#define DBDIR_PART_PREFIX ".part-"
#define DBDIR_NAME_MAX 32
/* The highest generation number ever made in the directory (dbdir_next_generation). */
#define DBDIR_SEQ "last-generation"

/* The path a reader opens for dir: DIR/current when it exists, else the shard map
 * DIR/shards (shardmap.h) when that exists, else dir itself. */
void dbdir_reader_path(const char *dir, char *out, size_t outlen);

/* Identity of the file or directory a reader opened, to notice a swapped generation. */
struct dbdir_stamp {
    dev_t dev;
    ino_t ino;
    long long mtime_ns;
};
/* Fills st for path; returns 0, or -1 when it cannot be stat()ed. */
int dbdir_stamp_of(const char *path, struct dbdir_stamp *st);
int dbdir_stamp_equal(const struct dbdir_stamp *a, const struct dbdir_stamp *b);

/* Name of the live generation ("gen-000001") into out; "" for a plain database. Returns 0,
 * or -1 when dir has a `current` that cannot be read or names no local generation. */
int dbdir_generation(const char *dir, char *out, size_t outlen);

/* Takes the writer lock on dir (creating dir when missing). wait_seconds < 0: fail at
 * once; otherwise wait up to that long. Returns the lock fd (>= 0), -1 when another
 * writer holds it (errno EWOULDBLOCK), -2 on another error (reason in why). */
int dbdir_lock(const char *dir, int wait_seconds, char *why, size_t whylen);
void dbdir_unlock(int fd);

/* The database path a writer opens: the live generation's directory. When dir holds no
 * index yet, makes gen-000001 and points `current` at it if create is set, else gives ""
 * (nothing to open). A plain Xapian database directory is written in place. Returns 0, or
 * -1 with a reason. */
int dbdir_writer_path(const char *dir, int create, char *out, size_t outlen, char *why,
                      size_t whylen);

/* Points `current` at generation name (atomically, by rename). Returns 0 or -1 + reason. */
int dbdir_set_current(const char *dir, const char *name, char *why, size_t whylen);

/* Generation numbers present in dir (gen-000001 -> 1), ascending, at most max of them.
 * Returns how many were found (0 when none or dir unreadable). */
size_t dbdir_list_generations(const char *dir, unsigned *nums, size_t max);

/* Generation name's number: 42 for "gen-000042" (exactly "gen-" and six digits, not 0).
 * Returns 0, or -1 when name is not a generation's. */
int dbdir_generation_number(const char *name, unsigned *num);
/* Formats generation n's name ("gen-000042") into out. */
void dbdir_generation_name(unsigned n, char *out, size_t outlen);

/* The number for a new generation of dir: above every generation present and every one
 * ever made there (DBDIR_SEQ, written here before the caller makes it). A number is never
 * used twice: a reader may still hold a rolled-back or pruned generation, and Xapian opens
 * some of its tables only when first read, so a new database under the old name would be
 * read with the old one's block numbers. Returns 0, or -1 with a reason. */
int dbdir_next_generation(const char *dir, unsigned *num, char *why, size_t whylen);

/* Removes a generation directory (gen-N), a shard directory of a sharded index
 * (shard-K-of-N) or a spelling database being replaced (.spelling*), and everything in
 * it. Returns 0 or -1 (errno set). */
int dbdir_remove_generation(const char *dir, const char *name);

/* Removes path and everything below it. Returns 0 or -1 (errno set). */
int dbdir_remove_tree(const char *path);

/* The stack of live generations into names (bottom first, the live one last), at most max:
 * DIR/generations, or for an index written before it existed every generation up to the
 * live one; reconciled with `current`, which changes first. Returns how many (0 for a
 * plain database or a new directory), or -1 when `current` cannot be read. */
int dbdir_stack(const char *dir, char (*names)[DBDIR_NAME_MAX], size_t max);
/* Replaces DIR/generations (atomically, by rename). Returns 0 or -1 + reason. */
int dbdir_stack_write(const char *dir, char (*names)[DBDIR_NAME_MAX], size_t n, char *why,
                      size_t whylen);

#endif
