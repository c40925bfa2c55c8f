/*
 * xc.h -- Quire's C binding over libxapian.
 *
 * This is the only door to Xapian: nothing else in the tree includes a Xapian header or
 * links libxapian directly. The header is plain C; the implementation (the xc_*.cc files,
 * laid out in xc_int.hh) is the only C++ in the project.
 *
 * Conventions (STYLE.md points 3-5):
 *   - No exception crosses this boundary. Every function catches Xapian::Error (by class),
 *     std::bad_alloc and anything else, and reports it through an `xc_error **err`
 *     out-parameter (which may be NULL when the caller does not care).
 *   - Functions that return a pointer return NULL on failure; functions that return int
 *     return 0 on success and -1 on failure, unless documented otherwise.
 *   - Ownership: every `xc_X_new/open` has an `xc_X_free` that accepts NULL. Strings
 *     returned as `char *` are owned by the caller and freed with free(). Strings returned
 *     as `const char *` are borrowed; the comment says until when.
 *   - Handles are not thread-safe: use one per thread (the daemon gives each worker its own).
 */
#ifndef QUIRE_XC_H
#define QUIRE_XC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes callers can act on. */
typedef enum xc_code {
    XC_OK = 0,
    XC_ERR_NOT_FOUND,   /* database, document or term does not exist */
    XC_ERR_LOCKED,      /* another writer holds the database lock */
    XC_ERR_MODIFIED,    /* the reader fell behind a writer: reopen and retry */
    XC_ERR_QUERY,       /* the query string does not parse */
    XC_ERR_IO,          /* opening, reading, writing or corruption */
    XC_ERR_NOMEM,       /* allocation failed */
    XC_ERR_INVALID,     /* invalid argument or operation */
    XC_ERR_NETWORK,     /* remote backend failed or timed out */
    XC_ERR_INTERNAL,    /* anything else */
    XC_ERR_UNSUPPORTED, /* the backend cannot do this (e.g. a deadline on a remote one) */
    XC_ERR_FIELD,       /* a filter field's value cannot be read (xc_qp_add_filter_field) */
} xc_code;

typedef struct xc_error {
    xc_code code;
    char *message; /* owned by the error; Xapian's description of what went wrong */
} xc_error;

/* Frees an error (NULL is fine). */
void xc_error_free(xc_error *err);
/* A short stable name for a code ("locked", "not_found", ...); static storage. */
const char *xc_code_name(xc_code code);

/* Test hooks, for fault-injection tests only (process-wide, not for concurrent use).
 * xc_test_fail_after: the n-th binding call from now that can fail does fail, once
 * (n >= 1); n = 0 turns injection off. Every function here that can fail counts, including
 * those that report failure only by their return value (xc_db_termfreq, xc_stem_word,
 * xc_query_terms, xc_mset_hit, ...). xc_test_fail_with: which failure is injected:
 * XC_ERR_IO (the default), XC_ERR_MODIFIED (a reader behind a writer) or XC_ERR_NOMEM;
 * the first two only where they can happen, in functions that read a database.
 * xc_test_fault_fired: 1 when the failure armed by the last xc_test_fail_after happened. */
void xc_test_fail_after(long n);
void xc_test_fail_with(xc_code code);
int xc_test_fault_fired(void);

/* Xapian's version string; static storage. */
const char *xc_version(void);

/* ---- Read-only database ------------------------------------------------------------ */

typedef struct xc_db xc_db;

/* Opens a database (a directory, or a stub file listing several). Caller owns the handle. */
xc_db *xc_db_open(const char *path, xc_error **err);
void xc_db_free(xc_db *db);
/* Opens a shard served by xapian-tcpsrv on host:port. timeout_ms bounds the connect and
 * every later read or write on the connection (XC_ERR_NETWORK when it expires). */
xc_db *xc_db_open_remote(const char *host, unsigned port, unsigned timeout_ms,
                         xc_error **err);
/* One database searching all of dbs[0..n) as one (Xapian combines their statistics, so
 * scores equal those of a single database). The handles in dbs stay the caller's; the
 * result shares them and may outlive them. */
xc_db *xc_db_combine(xc_db *const *dbs, size_t n, xc_error **err);
/* Remote (network) failures this thread has met in any binding call, including calls that
 * report no error (doccount, termfreq, ...): compare before and after an operation to
 * learn that a remote shard failed during it. xc_network_last_error() describes the last
 * one (it names the shard: "... (context: remote:tcp(HOST:PORT))"); borrowed until the
 * next failure on this thread. */
unsigned long xc_network_failures(void);
const char *xc_network_last_error(void);
/* Picks up the latest commit. Returns 1 if the database may have changed, 0 if not,
 * -1 on error. Does not re-read a stub file: a swapped generation needs a new open. */
int xc_db_reopen(xc_db *db, xc_error **err);
/* 1 when a and b are handles on one single database (a directory, or a stub naming one) at
 * one revision, so that any read gives the same answer on either; else 0. */
int xc_db_same(xc_db *a, xc_db *b);
/* Number of documents; 0 with err set on failure. */
unsigned xc_db_doccount(xc_db *db, xc_error **err);
/* The revision committed last; 0 when there is no single one (a stub over several
 * databases). Cannot fail otherwise: it is read from memory. */
unsigned long xc_db_revision(xc_db *db);
/* Document id indexed by the unique term, or 0 when none (err set only on failure). */
unsigned xc_db_docid_for_term(xc_db *db, const char *term, xc_error **err);
/* Stored document data / value slot of a document. Caller frees; *len gets the length.
 * xc_db_doc_data: NULL with XC_ERR_NOT_FOUND when the document does not exist.
 * xc_db_doc_value: for docids that came from a match or a term lookup; it skips the
 * existence check, so an unknown docid (like an unset slot) reads as "". */
char *xc_db_doc_data(xc_db *db, unsigned docid, size_t *len, xc_error **err);
/* The data of a document that a match on db just returned (a hit): xc_db_doc_data without
 * the existence check, which costs a look-up in another table per hit. Caller frees. */
char *xc_db_hit_data(xc_db *db, unsigned docid, size_t *len, xc_error **err);
char *xc_db_doc_value(xc_db *db, unsigned docid, unsigned slot, size_t *len,
                      xc_error **err);
/* xc_db_doc_value without the copy (a whole article's value is copied once more by it):
 * the value is lent to fn(value, len, ctx) -- valid during the call only, not
 * NUL-terminated -- and what fn returns is returned. NULL with *err set when the value
 * cannot be read (fn is not called then), or when fn returns NULL (*err untouched). */
void *xc_db_doc_value_lend(xc_db *db, unsigned docid, unsigned slot,
                           void *(*fn)(const char *value, size_t len, void *ctx), void *ctx,
                           xc_error **err);
/* Metadata by key; empty string when unset. Caller frees. */
char *xc_db_metadata(xc_db *db, const char *key, xc_error **err);
/* Documents whose value in slot another document holds too, less one per such value: how
 * many collapsing on slot can hide at most. One pass over the slot's value stream (meant
 * for a sparse slot). -1 on failure. */
long xc_db_value_repeats(xc_db *db, unsigned slot, xc_error **err);
/* Number of documents indexed by term (0 when none; err set only on failure). */
unsigned xc_db_termfreq(xc_db *db, const char *term, xc_error **err);
/* 1 when some document is indexed by all n (>= 1) terms, 0 when none is; -1 on failure.
 * The terms' posting lists are walked together, each skipping to the others' next docid:
 * the work is bounded by the first term's postings, so give the rarest first. No weight,
 * no match set: for a yes or no this costs a small part of xc_enquire's set-up. A remote
 * database may refuse it (XC_ERR_UNSUPPORTED). */
int xc_db_cooccur(xc_db *db, const char *const *terms, size_t n, xc_error **err);
/* Calls cb for every docid indexed by term ("" : every document), ascending; stops early
 * when cb returns non-zero. */
int xc_db_postlist(xc_db *db, const char *term, int (*cb)(unsigned docid, void *ctx), void *ctx,
                   xc_error **err);

/* ---- Documents and term generation -------------------------------------------------- */

typedef struct xc_doc xc_doc;

xc_doc *xc_doc_new(xc_error **err);
void xc_doc_free(xc_doc *doc);
int xc_doc_set_data(xc_doc *doc, const char *data, size_t len, xc_error **err);
int xc_doc_set_value(xc_doc *doc, unsigned slot, const char *data, size_t len,
                     xc_error **err);
/* A term that does not affect ranking (filters, ids, facets). */
int xc_doc_add_boolean_term(xc_doc *doc, const char *term, xc_error **err);

typedef struct xc_termgen xc_termgen;

/* A term generator with a stemmer for lang (e.g. "english"; "none" for no stemming).
 * It records positions, stores stemmed terms with Xapian's Z prefix convention and
 * makes n-grams of CJK text. */
xc_termgen *xc_termgen_new(const char *lang, xc_error **err);
void xc_termgen_free(xc_termgen *tg);
/* Directs the generator at a document; the document is borrowed until the next call. */
void xc_termgen_set_document(xc_termgen *tg, xc_doc *doc);
/* Indexes text (UTF-8, len bytes) with every term's wdf increased by wdf_inc and the
 * given prefix ("" for none). */
int xc_termgen_index_text(xc_termgen *tg, const char *text, size_t len, unsigned wdf_inc,
                          const char *prefix, xc_error **err);
/* Leaves a gap in positions so that phrases do not match across fields. */
void xc_termgen_increase_termpos(xc_termgen *tg, unsigned delta);

/* ---- Writable database ---------------------------------------------------------------- */

typedef struct xc_wdb xc_wdb;

/* Opens (create != 0: creating if missing) a database for writing. Fails at once with
 * XC_ERR_LOCKED when another writer holds it. Caller owns; xc_wdb_free closes it.
 * Trap: Xapian commits pending changes when a writer is closed or destroyed, unless a
 * transaction is open; to throw changes away, use xc_wdb_begin + xc_wdb_cancel. */
xc_wdb *xc_wdb_open(const char *path, int create, xc_error **err);
void xc_wdb_free(xc_wdb *wdb);
int xc_wdb_commit(xc_wdb *wdb, xc_error **err);
/* Starts an unflushed transaction: nothing is written until it ends. */
int xc_wdb_begin(xc_wdb *wdb, xc_error **err);
/* Throws away every change since xc_wdb_begin. */
int xc_wdb_cancel(xc_wdb *wdb, xc_error **err);
/* Replaces the document indexed by idterm (adding it if none); returns its docid, 0 on
 * error. */
unsigned xc_wdb_replace(xc_wdb *wdb, const char *idterm, xc_doc *doc, xc_error **err);
/* Deletes every document indexed by term. */
int xc_wdb_delete_term(xc_wdb *wdb, const char *term, xc_error **err);
int xc_wdb_delete_docid(xc_wdb *wdb, unsigned docid, xc_error **err);
/* Number of documents indexed by term (0 when none; err set only on failure). */
unsigned xc_wdb_termfreq(xc_wdb *wdb, const char *term, xc_error **err);
/* Number of documents in the database (0 with err set on failure). */
unsigned xc_wdb_doccount(xc_wdb *wdb, xc_error **err);
/* Calls cb for every docid indexed by term, in ascending order; stops early when cb
 * returns non-zero. */
int xc_wdb_postlist(xc_wdb *wdb, const char *term, int (*cb)(unsigned docid, void *ctx),
                    void *ctx, xc_error **err);
int xc_wdb_set_metadata(xc_wdb *wdb, const char *key, const char *value, size_t len,
                        xc_error **err);
/* Marks the documents of wdb whose value in slot another document holds too: each gets
 * that value in mark_slot, and every other document has none there (marks left by an
 * earlier call are taken off when the value no longer repeats). Only documents whose mark
 * changes are rewritten, their values alone. Returns 1 when some value repeats, 0 when
 * none does, -1 with *err. One pass over each slot's value stream, 16 bytes of memory per
 * document. */
int xc_wdb_mark_repeats(xc_wdb *wdb, unsigned slot, unsigned mark_slot, xc_error **err);
/* The same for the n databases at paths taken together (a value repeats when any two of
 * their documents hold it); each database is written and committed on its own. For a
 * build's parts before they are compacted: marks written into a compacted database split
 * the full blocks they land in (a quarter more index on reuters-21578). */
int xc_mark_repeats_across(const char *const *paths, size_t n, unsigned slot,
                           unsigned mark_slot, xc_error **err);
/* Metadata by key; empty string when unset. Caller frees. */
char *xc_wdb_metadata(xc_wdb *wdb, const char *key, xc_error **err);
/* Calls cb for every metadata key starting with prefix; stops early when cb returns
 * non-zero. The key is borrowed for the duration of the call. */
int xc_wdb_metadata_keys(xc_wdb *wdb, const char *prefix,
                         int (*cb)(const char *key, void *ctx), void *ctx, xc_error **err);
/* Value slot of a stored document (the indexer's bookkeeping); "" when unset. Caller
 * frees; *len gets the length. NULL with XC_ERR_NOT_FOUND when the document does not exist. */
char *xc_wdb_doc_value(xc_wdb *wdb, unsigned docid, unsigned slot, size_t *len,
                       xc_error **err);
/* Edits a stored document in place without rebuilding it: sets value slot `slot` to
 * value (len bytes), adds the boolean terms add[0..nadd) and removes the terms
 * del[0..ndel) (a term it does not hold is ignored). Returns 0 or -1. */
int xc_wdb_doc_edit(xc_wdb *wdb, unsigned docid, unsigned slot, const char *value, size_t len,
                    const char *const *add, size_t nadd, const char *const *del, size_t ndel,
                    xc_error **err);

/* ---- Stemming ------------------------------------------------------------------------ */

typedef struct xc_stem xc_stem;
xc_stem *xc_stem_new(const char *lang, xc_error **err);
void xc_stem_free(xc_stem *st);
/* Stems a lower-cased word into out (size outlen, NUL-terminated, truncated if needed).
 * Returns the stem's length, or -1 (out empty) when stemming failed for want of memory. */
long xc_stem_word(xc_stem *st, const char *word, size_t len, char *out, size_t outlen);

/* ---- Query parsing ------------------------------------------------------------------- */

typedef struct xc_query xc_query;
typedef struct xc_qp xc_qp;

enum {
    XC_QP_BOOLEAN = 1,   /* AND, OR, NOT, parentheses */
    XC_QP_PHRASE = 2,    /* "exact phrases" */
    XC_QP_LOVEHATE = 4,  /* +required -excluded */
    XC_QP_WILDCARD = 16, /* prefix* */
    XC_QP_PURE_NOT = 32,
    XC_QP_SPELLING = 128,
    XC_QP_CJK_NGRAM = 2048,
    XC_QP_DEFAULT = XC_QP_BOOLEAN | XC_QP_PHRASE | XC_QP_LOVEHATE
};

/* A query parser with the stemmer for lang, Xapian's STEM_SOME strategy. The database
 * (borrowed, may be NULL) is used for wildcard expansion and spelling. */
xc_qp *xc_qp_new(const char *lang, xc_db *db, xc_error **err);
void xc_qp_free(xc_qp *qp);
/* Gives the parser a list of stop words (the n strings are copied). They are dropped from
 * queries while xc_qp_stopping(qp, 1) is in force (off after this call): not from phrases,
 * and a query of stop words only keeps them (Xapian's rules). */
int xc_qp_set_stopwords(xc_qp *qp, const char *const *words, size_t n, xc_error **err);
void xc_qp_stopping(xc_qp *qp, int on);
/* default_and != 0: plain words are ANDed; otherwise ORed. */
void xc_qp_set_default_and(xc_qp *qp, int default_and);
/* Maps a field name ("title") to a free-text term prefix ("S"). */
int xc_qp_add_prefix(xc_qp *qp, const char *field, const char *prefix, xc_error **err);
/* Maps a field name to a boolean (filter) term prefix. */
int xc_qp_add_boolean_prefix(xc_qp *qp, const char *field, const char *prefix,
                             xc_error **err);
/* Date ranges "field:A..B" over a value slot holding YYYYMMDD strings. */
int xc_qp_add_date_range(xc_qp *qp, const char *field, unsigned slot, xc_error **err);
/* Limits how many terms one wildcard may expand to (0 = no limit); more is an error. */
void xc_qp_set_max_wildcard(xc_qp *qp, unsigned max_terms);
/* Turns the value of a filter field ("source:Reuters", quoted when it has spaces:
 * source:"BBC News", the quotes gone) into a query: a new one (the parser takes it over), or
 * NULL with a sentence in why (whylen bytes) saying what the field takes. NULL with why
 * empty is out of memory. */
typedef xc_query *(*xc_field_fn)(const char *field, const char *value, char *why,
                                 size_t whylen);
/* Makes field a filter field whose values fn turns into queries. As with boolean prefixes,
 * the values of one field are ORed and fields are ANDed, and a query of filters alone
 * matches what they admit. A value that fn refuses makes xc_qp_parse fail with
 * XC_ERR_FIELD and fn's sentence as the message (the query is not read as plain words). */
int xc_qp_add_filter_field(xc_qp *qp, const char *field, xc_field_fn fn, xc_error **err);
/* Parses text (UTF-8) with XC_QP_* flags. NULL with XC_ERR_QUERY on a syntax error.
 * Caller owns the query. */
xc_query *xc_qp_parse(xc_qp *qp, const char *text, unsigned flags, xc_error **err);
/* The spelling-corrected query from the last parse with XC_QP_SPELLING, or "" when
 * none; borrowed until the next parse or xc_qp_free. */
const char *xc_qp_corrected(xc_qp *qp);

void xc_query_free(xc_query *q);
/* Xapian's description of the query. Caller frees. NULL when out of memory. */
char *xc_query_describe(const xc_query *q);
/* Calls cb for each distinct term in the query (stemmed terms carry Xapian's Z prefix,
 * field terms their prefix). Returns 0, or -1 when out of memory (cb may have been called
 * for some of the terms). */
int xc_query_terms(const xc_query *q, void (*cb)(const char *term, size_t len, void *ctx),
                   void *ctx);
/* Number of wildcards in the query. They are not among xc_query_terms: each expands when
 * the query is matched, to up to xc_qp_set_max_wildcard terms, and opening those posting
 * lists comes before any deadline can cut the match (xc_match_opts.deadline_ms). */
unsigned xc_query_wildcards(const xc_query *q);
/* 1 when q matches nothing because it holds nothing (the parse of "" or of spaces). */
int xc_query_is_empty(const xc_query *q);

/* Queries built directly (filters). Each returns a new query the caller owns, or NULL with
 * *err. Inputs are borrowed. */
xc_query *xc_query_term(const char *term, xc_error **err);
/* Documents whose value in slot is from lo to hi, compared byte by byte; lo NULL: no lower
 * bound, hi NULL: no upper bound (not both). */
xc_query *xc_query_value_range(unsigned slot, const char *lo, const char *hi, xc_error **err);
enum { XC_QOP_AND = 0, XC_QOP_OR = 1 };
/* qs[0] op qs[1] op ... (n >= 1). */
xc_query *xc_query_combine(int op, const xc_query *const *qs, size_t n, xc_error **err);
/* q restricted to what filter admits, ranked as q alone; q NULL: every document filter
 * admits, each with weight 0. */
xc_query *xc_query_filter(const xc_query *q, const xc_query *filter, xc_error **err);
/* q with every weight it gives multiplied by factor (>= 0); a new query. */
xc_query *xc_query_scale(const xc_query *q, double factor, xc_error **err);

/* ---- Matching ---------------------------------------------------------------------- */

#define XC_MAX_FACETS 4

typedef struct xc_match_opts {
    unsigned offset;
    unsigned limit;
    unsigned check_at_least; /* 0: Xapian's default estimate; the doccount: exact totals */
    int collapse_slot;       /* -1: no collapsing */
    int sort_slot;           /* -1: relevance */
    int sort_descending;     /* with sort_slot: newest first */
    double bm25_k1, bm25_b;  /* <= 0: Xapian's defaults */
    double bm25_min_normlen; /* < 0 (the default): Xapian's 0.5 */
    /* Value slots to count over the whole matched set (facets). Counting sees every match,
     * so a request with facets forgoes Xapian's early termination. */
    int facet_slots[XC_MAX_FACETS];
    unsigned nfacets;
    const char *exclude_term; /* leave out documents with this (id) term; NULL: none */
    /* Leave out documents whose value in exclude_slot equals exclude_value (borrowed,
     * exclude_value_len bytes); exclude_slot -1 (the default): none. */
    int exclude_slot;
    const char *exclude_value;
    size_t exclude_value_len;
    /* Milliseconds the match may take from the call (0: no limit). Xapian's own
     * set_time_limit() does not stop a match, so the binding filters the query through a
     * posting source that ends once the clock passes the deadline: the match then stops
     * and returns what it ranked so far (xc_mset_timed_out says so). The clock is read
     * between candidate documents, so opening the posting lists (wildcard expansion) and
     * one candidate's own work (a phrase check) are not cut. A remote database cannot run
     * the check: xc_enquire then fails with XC_ERR_UNSUPPORTED; ask again with 0. */
    unsigned deadline_ms;
    /* Ask for the hits' documents together as soon as the match is done (MSet::fetch):
     * over remote shards that is one exchange instead of one per hit. */
    int fetch;
    /* Count the facets in a match of their own that returns no hits, then match for the
     * hits. The trap it avoids: over remote shards, Xapian 1.4's match spies count some
     * documents twice when every match has the same weight (a query of filters alone) and
     * the hits asked for are fewer than the matches: facet counts come out above the
     * total. With no hits asked for they are right. */
    int facets_apart;
    /* Only the totals are wanted (limit 0): no document is weighed (Xapian::BoolWeight),
     * which spares the match the weighting scheme's statistics and per-document
     * arithmetic. The counts are the same: weights only order the hits. */
    int count_only;
    /* NULL: one match. Else a second handle on the same database at the same revision
     * (xc_db_same; borrowed, and not used by any other thread during the call): the match
     * runs as two halves of the docid range side by side, the first on db in the calling
     * thread and the second on split_twin in a thread of its own, and their hits are
     * merged. Weights come from the whole database's statistics whichever half weighs a
     * document, so the hits (docids, weights, order) are those of one match, and so are
     * exact totals; estimated ones come from the halves' estimates. Collapsed, a key that
     * both halves hold keeps its better document, whose collapse count adds the other's
     * (a lower bound, as Xapian's own is). Only a ranked match splits: with facets, a sort
     * by value, count_only, fetch, no hits asked for, or exact totals of a collapsed
     * match, split_twin is ignored. */
    xc_db *split_twin;
} xc_match_opts;

void xc_match_opts_init(xc_match_opts *o);
/* 1 when a match with opts would split given a twin (see xc_match_opts.split_twin). */
int xc_match_can_split(const xc_match_opts *opts);

typedef struct xc_mset xc_mset;

typedef struct xc_hit {
    unsigned docid;
    unsigned rank; /* 0-based rank within the whole result set */
    double weight;
    unsigned collapse_count; /* documents collapsed into this one (lower bound) */
} xc_hit;

/* Runs q against db. Caller owns the result. XC_ERR_MODIFIED means: reopen and retry. */
xc_mset *xc_enquire(xc_db *db, const xc_query *q, const xc_match_opts *opts, xc_error **err);
void xc_mset_free(xc_mset *ms);
/* 1 when opts.deadline_ms cut the match short, else 0. A cut result is well formed but
 * partial: its hits, facet counts and totals cover only the documents examined before the
 * deadline (totals are then Xapian's estimates from that part, possibly 0). */
int xc_mset_timed_out(const xc_mset *ms);
unsigned xc_mset_size(const xc_mset *ms);
void xc_mset_totals(const xc_mset *ms, unsigned *estimated, unsigned *lower, unsigned *upper);
/* The totals before collapsing (the same as xc_mset_totals when nothing was collapsed). */
void xc_mset_uncollapsed_totals(const xc_mset *ms, unsigned *estimated, unsigned *lower,
                                unsigned *upper);
/* Fills hit i. Returns 0, or -1 when i is out of range or on failure. */
int xc_mset_hit(const xc_mset *ms, unsigned i, xc_hit *hit);
/* Document data of hit i. Caller frees. Not for a split match (xc_match_opts.split_twin),
 * which holds no documents: read its hits by docid. */
char *xc_mset_data(xc_mset *ms, unsigned i, size_t *len, xc_error **err);
/* Value slot of hit i's document, read with the document (fetched with it over a remote
 * shard; see xc_match_opts.fetch). Caller frees. */
char *xc_mset_value(xc_mset *ms, unsigned i, unsigned slot, size_t *len, xc_error **err);
/* Calls cb for each value counted for facet k (k-th of opts.facet_slots), most frequent
 * first, at most max values (max 0: every value, in byte order). The value is borrowed for the call. Returns 0, or -1 when k
 * is out of range or out of memory (cb may have been called for some of the values). */
int xc_mset_facet(const xc_mset *ms, unsigned k, unsigned max,
                  void (*cb)(const char *value, size_t len, unsigned count, void *ctx), void *ctx);

/* The weight the document with idterm gets from the single term (BM25 with db's
 * statistics), or 0 when it does not have the term: per-term contributions for explain. */
double xc_term_weight(xc_db *db, const char *term, const char *idterm,
                      const xc_match_opts *opts, xc_error **err);

/* A query for documents like docid: the nterms terms that best describe it (Xapian's
 * relevance-feedback expansion over the document's own terms) among those another
 * document holds too, ORed. Terms that do not pass accept (when given) are skipped.
 * Caller owns. */
xc_query *xc_query_similar(xc_db *db, unsigned docid, unsigned nterms,
                           int (*accept)(const char *term, size_t len), xc_error **err);

/* Xapian's spelling suggestion for word (edit distance <= 2), or "" when none. Caller
 * frees. */
char *xc_db_spelling(xc_db *db, const char *word, xc_error **err);
/* Writes a database at dest (replacing any there) holding only the spelling data of the
 * n databases at srcs: each word with the sum of its frequencies, as one database built
 * from all their documents would have it. Returns the number of entries read, or -1. */
long xc_spelling_merge(const char *const *srcs, size_t n, const char *dest, xc_error **err);
/* Writes the n databases at srcs, compacted, as one database at dest (which must not
 * exist): every table rewritten with full blocks. One source keeps its document numbers;
 * several are numbered one after another in the order given. Spelling frequencies are
 * summed; of user metadata present in several sources, the first source's value is kept.
 * Returns 0, or -1 with *err. */
int xc_db_compact(const char *const *srcs, size_t n, const char *dest, xc_error **err);

/* Gives the generator a database for spelling data (borrowed until the generator is freed
 * or given another). Spelling data is then recorded for text indexed while
 * xc_termgen_spelling(tg, 1) is in force. */
void xc_termgen_set_spelling(xc_termgen *tg, xc_wdb *wdb);
void xc_termgen_spelling(xc_termgen *tg, int on);

/* ---- Unicode (Xapian's tables, for lib/tokenize) ------------------------------------- */

enum {
    XC_UC_WORD = 1,  /* a word character for TermGenerator (Unicode::is_wordchar) */
    XC_UC_DIGIT = 2, /* a decimal digit (category Nd) */
    XC_UC_STEM = 4   /* a term starting with it is stemmed (Ll, Lt, Lm or Lo) */
};
/* The XC_UC_* classes of code point cp, and its lower-case form in *lower (Xapian's
 * Unicode::tolower). Cannot fail. */
unsigned xc_unicode_class(unsigned cp, unsigned *lower);

/* ---- Query terms with their roles -------------------------------------------------- */

typedef struct xc_qterm {
    const char *term; /* borrowed for the callback: a term as the parser made it ("Zstem",
                         "word", "Sword"...), or a wildcard's pattern (prefix included) */
    size_t len;
    int wildcard; /* the term is a wildcard pattern: it matches every term it starts */
    int excluded; /* under a NOT: the right side of AND_NOT (at any depth) */
    /* Positional operators: an OP_PHRASE ("exact phrase", a ADJ/n b) or OP_NEAR (a NEAR/n b)
     * whose subqueries are all terms. */
    unsigned phrase;        /* 0, or the number (1, 2, ...) of the operator it is a word of */
    unsigned phrase_pos;    /* its place in that operator (0-based) */
    unsigned phrase_len;    /* the operator's number of words */
    unsigned phrase_window; /* its words match within this many positions (last - first <
                               window); an exact phrase's window is its number of words */
    int phrase_near;        /* 1: OP_NEAR, the words in any order; 0: OP_PHRASE, in order */
} xc_qterm;

/* Calls cb for every leaf term of q (a term repeated in several places is reported once per
 * place), depth first, left to right. A phrase or NEAR over anything but terms reports its
 * terms as plain terms. Returns 0, or -1 when out of memory (cb may have been called for
 * some of the terms). */
int xc_query_walk(const xc_query *q, void (*cb)(const xc_qterm *t, void *ctx), void *ctx);

/* ---- Oracle for tests: what TermGenerator indexes ----------------------------------- */

/* Calls cb for every term of doc (in term order) with its wdf and its positions (borrowed
 * for the call; npos 0 for a term without positions). */
int xc_doc_terms(xc_doc *doc,
                 void (*cb)(const char *term, size_t len, unsigned wdf, const unsigned *pos,
                            size_t npos, void *ctx),
                 void *ctx, xc_error **err);

/* ---- Spelling candidates ----------------------------------------------------------- */

/* Close spellings of word (lower-case, UTF-8) in db's spelling table: every word of the
 * table within max_edit edits (Damerau-Levenshtein, counted in characters) under a
 * two-character prefix that one edit near the start could leave: the word's first two
 * characters, the two swapped, the first and third, the second and third; and Xapian's
 * own suggestion (edit distance <= max_edit). cb gets
 * each candidate once with its distance (the candidate borrowed for the call); at most
 * max_cands of the table words are reported. */
int xc_db_spelling_candidates(xc_db *db, const char *word, unsigned max_edit,
                              unsigned max_cands,
                              void (*cb)(const char *cand, size_t len, unsigned dist, void *ctx),
                              void *ctx, xc_error **err);

/* ---- Unicode ------------------------------------------------------------------------- */

/* s (len bytes of UTF-8) lower-cased by Xapian's Unicode tables (every script, as the
 * TermGenerator does), as a new string (caller frees) of *outlen bytes; NULL on failure. */
char *xc_utf8_lower(const char *s, size_t len, size_t *outlen, xc_error **err);

/* ---- Term lists (completions) --------------------------------------------------------- */

/* Calls cb for every term starting with prefix, in byte order, with the number of documents
 * it indexes; stops early when cb returns non-zero. The term is borrowed for the duration
 * of the call (len bytes, NUL-terminated). Returns 0, or -1 with err filled. */
typedef int (*xc_term_cb)(const char *term, size_t len, unsigned termfreq, void *ctx);
int xc_db_allterms(xc_db *db, const char *prefix, xc_term_cb cb, void *ctx, xc_error **err);
/* The same over a writer's view (its pending changes included). */
int xc_wdb_allterms(xc_wdb *wdb, const char *prefix, xc_term_cb cb, void *ctx, xc_error **err);

#ifdef __cplusplus
}
#endif
#endif
