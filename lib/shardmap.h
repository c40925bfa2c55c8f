/*
 * shardmap.h -- the shard map: one index spread over several databases.
 *
 * A shard map is a Xapian stub database file, so Xapian's own tools open it too:
 *
 *   # comment lines and blank lines are ignored
 *   auto shard-0-of-3/current     a local shard (relative to the map's directory)
 *   remote 10.0.0.12:7101         a shard served by xapian-tcpsrv
 *
 * `remote tcp HOST PORT` is accepted as well (Xapian's own tools do not read that form).
 * Xapian 1.4's remote protocol carries no spelling data, so a map of remote shards may
 * name a local database to take "did you mean" suggestions from, on a line Xapian reads
 * as a comment:
 *
 *   #quire-spelling /var/lib/quire/spelling
 *
 * (quire-index --shards writes DIR/spelling: the spelling data of all the shards).
 * `quire-index --shards N --db DIR` writes DIR/shards listing DIR/shard-K-of-N/current for
 * K = 0..N-1; quired and `quire --db` open DIR (or the map file itself) like any index.
 *
 * A document lives in shard shardmap_shard_of(id, N): the same id always maps to the same
 * shard, whoever computes it.
 */
#ifndef QUIRE_SHARDMAP_H
#define QUIRE_SHARDMAP_H

#include <stddef.h>

#define SHARDMAP_FILE "shards"
#define SHARDMAP_SPELLING "spelling" /* DIR/spelling, written by quire-index --shards */
#define SHARDMAP_MAX 256

struct shard_entry {
    int remote;
    char path[4096]; /* local: what to open (made absolute against the map's directory) */
    char host[256];  /* remote */
    unsigned port;
    char name[300];  /* for people: "shard-0-of-3" or "HOST:PORT" */
};

/* Reads the map file. Returns the number of entries (>= 1) with *out a new array (caller
 * frees), or -1 with why filled (cannot read, a bad line, no entries, too many). When
 * spelling is not NULL it gets the #quire-spelling database (made absolute against the
 * map's directory), or "" when the map names none. */
int shardmap_read(const char *file, struct shard_entry **out, char *spelling,
                  size_t spellinglen, char *why, size_t whylen);

/* True when path is a stub file that needs the shard-aware reader: it lists more than one
 * database or any remote one. A generation pointer (`current`) lists one local database. */
int shardmap_is_sharded(const char *path);

/* The shard (0..n-1) a document id belongs to, n >= 1. */
unsigned shardmap_shard_of(const char *id, unsigned n);

/* Directory name of shard k of n: "shard-K-of-N". */
void shardmap_dir_name(unsigned k, unsigned n, char *out, size_t outlen);

/* Shard count of the map dir/shards written by quire-index; 0 when there is none or it
 * was not written by quire-index. */
unsigned shardmap_local_count(const char *dir);

/* Writes dir/shards listing shard-K-of-N/current for K < n, atomically (by rename).
 * Returns 0, or -1 with why filled. */
int shardmap_write(const char *dir, unsigned n, char *why, size_t whylen);

#endif
