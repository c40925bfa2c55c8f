/*
 * util.h -- small helpers shared by the library and the programs: a growable byte
 * buffer, the hash table, a 64-bit hash, a monotonic clock and a few string helpers.
 */
#ifndef QUIRE_UTIL_H
#define QUIRE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A growable byte buffer, always NUL-terminated when len > 0 or after sb_cstr. */
struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: further appends are no-ops */
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
/* Appends len bytes; on allocation failure sets sb->failed. */
void sb_append(struct strbuf *sb, const char *s, size_t len);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for extra more bytes (and a NUL) past len, to be written at buf + len;
 * 0, or -1 with sb->failed set. */
int sb_reserve(struct strbuf *sb, size_t extra);
/* The contents as a C string (never NULL: "" when empty or failed). Borrowed. */
const char *sb_cstr(struct strbuf *sb);
/* Hands the contents over as a NUL-terminated string the caller frees ("" when nothing was
 * appended), its length in *len (when not NULL), and leaves sb empty; NULL (and sb freed)
 * when an allocation failed along the way, so callers need not check every append. */
char *sb_take(struct strbuf *sb, size_t *len);

/* A hash table from 64-bit keys to 64-bit values: the one hash table of the tree (a set
 * is a table whose values go unused; a pointer is stored as (uintptr_t)). Open addressing
 * with linear probing, at most half full; a removal moves the later entries of its
 * cluster back, so there are no tombstones and lookups stay short however many entries
 * come and go. Keys are mixed before probing, so pointers and consecutive numbers spread
 * as well as hashes do. Every key is allowed: 0, which marks an empty slot, is kept
 * beside the slots. Zero-init it (= {0}); hashmap_free empties it. */
struct hashmap {
    uint64_t *keys;
    uint64_t *vals; /* beside keys, unless keys_only */
    size_t cap, n;  /* slots (0 or a power of two); entries, key 0 included */
    int keys_only;  /* a set: no values are kept (every value reads 0) */
    int has_zero;   /* key 0 is present, with value zero_val */
    uint64_t zero_val;
};
/* Makes room for n entries in all, so that inserting up to that many allocates nothing.
 * Returns 0, or -1 when out of memory (the table is unchanged). */
int hashmap_reserve(struct hashmap *m, size_t n);
/* Sets key's value (inserting key when absent; in a keys_only table val must be 0).
 * Returns 0, or -1 when out of memory (the table is unchanged); never -1 while the table
 * holds fewer entries than it was last reserved for. */
int hashmap_put(struct hashmap *m, uint64_t key, uint64_t val);
/* 1 with key's value in *val (when val is not NULL), or 0 when key is absent. */
int hashmap_get(const struct hashmap *m, uint64_t key, uint64_t *val);
/* Removes key. Returns 1, or 0 when it was absent. Never allocates. */
int hashmap_remove(struct hashmap *m, uint64_t key);
/* Steps through the entries in no particular order: start with *pos = 0; each call
 * returns 1 with the next entry's key and value (either pointer may be NULL), or 0 at the
 * end. The table must not change meanwhile. */
int hashmap_next(const struct hashmap *m, size_t *pos, uint64_t *key, uint64_t *val);
void hashmap_free(struct hashmap *m);

/* A set of 64-bit values (hashes, document numbers): a hashmap without values. Zero-init
 * it (= {0}); free it with hashset_free. */
struct hashset {
    struct hashmap map;
};
/* Returns 0, or -1 when out of memory (the set is unchanged). */
int hashset_add(struct hashset *s, uint64_t h);
int hashset_has(const struct hashset *s, uint64_t h);
void hashset_free(struct hashset *s);

/* FNV-1a, 64 bits: content hashes and short keys for over-long names (not security). */
uint64_t util_hash64(const void *data, size_t len);
/* 16 lower-case hex digits of h into out (17 bytes). */
void util_hex64(uint64_t h, char out[17]);

/* Monotonic time in milliseconds (fractional). */
double util_now_ms(void);

/* A growable list of strings, each its own copy. Zero-initialise; strlist_free empties. */
struct strlist {
    char **v;
    size_t n, cap;
};
/* Appends a copy of s. Returns 0, or -1 when out of memory (the list is unchanged). */
int strlist_add(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

/* A growable array of document numbers. Zero-initialise; docids_free empties. */
struct docids {
    unsigned *v;
    size_t n, cap;
    int oom; /* an append failed: the array is incomplete */
};
/* Appends docid: a postlist callback (ctx is the struct docids). Returns 0, or 1 (stop)
 * when out of memory, with oom set. */
int docids_collect(unsigned docid, void *ctx);
void docids_free(struct docids *d);
/* qsort()/bsearch() order of unsigned ints. */
int util_cmp_unsigned(const void *a, const void *b);

/* Writes all len bytes to fd (retrying short writes and EINTR). Returns 0, or -1 with
 * errno. */
int util_write_all(int fd, const void *buf, size_t len);
/* Reads exactly len bytes from fd (retrying short reads and EINTR). Returns 0, or -1 on an
 * error or when the other end closed first. */
int util_read_all(int fd, void *buf, size_t len);


/* True when s (len bytes) is valid UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF) and holds no NUL byte. */
int util_utf8_valid(const char *s, size_t len);
/* The length (1 to 4) of the valid UTF-8 sequence that starts s (n > 0 bytes), or 0 when
 * none does: no overlong forms, no surrogates, nothing above U+10FFFF. */
size_t util_utf8_len(const unsigned char *s, size_t n);

/* Folds Latin accents to plain letters (é -> e, ß -> ss, Æ -> AE; U+00C0..U+017F and the
 * combining marks U+0300..U+036F), so "cafe" finds "café". Other scripts are left alone:
 * their combining marks (Devanagari vowel signs, say) carry meaning. Returns 1 with a new
 * string in *out (caller frees) and its length in *outlen; 0 with *out NULL when there is
 * nothing to fold (the caller uses the input as it is); -1 with *out NULL when out of
 * memory. The two are kept apart because text used unfolded when it needed folding is
 * indexed or searched wrongly, with no error to show for it. */
int util_fold_latin(const char *s, size_t len, char **out, size_t *outlen);
/* What util_fold_latin makes of one character: its ASCII replacement ("" for a combining
 * mark, which is dropped), or NULL when it is kept as it is. Static storage. */
const char *util_fold_char(unsigned cp);

/* json_loadb, except that running out of memory is always reported as such (*oom set, NULL
 * returned) and never does harm. The trap: when growing its token buffer fails, jansson's
 * lexer drops the character and carries on (jansson issue #362), so a string can come back
 * a character short with no error, or the lexer can trip an assertion (abort) or read past
 * its buffer; other allocation failures inside a token it reports as syntax errors. So on
 * first use jansson's allocator is wrapped (json_set_alloc_funcs, over whatever allocator
 * was set before), and during a parse here a failed allocation jumps straight out of
 * jansson, which then holds nothing but memory the wrapper recorded and frees. Every JSON
 * document libquire parses goes through here. */
json_t *util_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *jerr, int *oom);

#endif
