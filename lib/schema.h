/*
 * schema.h -- THE mapping of article fields onto Xapian terms, prefixes, value slots and
 * stored document data. Nothing else in the tree knows these prefixes or slot numbers.
 *
 * Terms (Xapian/Omega conventions):
 *   Q<id>        unique id                 XF<file>   the source file (incremental runs)
 *   S<word>      title words (free text)   <word>     title and body words (free text)
 *   XS<source>   source (filter, facet)    XC<cat>    category (filter, facet)
 *                (the value's key: schema_value_key)
 *   Y<yyyy>      year                      M<yyyymm>  month          D<yyyymmdd> date
 *   XT<title>    the title lower-cased, spaces folded: titles by prefix (/complete)
 *   XK<file>     an input holding the id   XDUP       an id held by several records
 * Value slots: see enum below. Document data: display fields only (kept small because it
 * is read for every hit); the full text lives in a value slot read only for the top hits.
 */
#ifndef QUIRE_SCHEMA_H
#define QUIRE_SCHEMA_H

#include <stddef.h>

#include "article.h"
#include "xapian-c/xc.h"

enum schema_slot {
    SCHEMA_SLOT_DATE = 0,     /* "YYYYMMDD": sort=date, date ranges */
    SCHEMA_SLOT_HASH = 1,     /* content hash: duplicate collapsing */
    SCHEMA_SLOT_TEXT = 2,     /* full body text: snippets and /doc */
    SCHEMA_SLOT_SOURCE = 3,   /* source as written: facets */
    SCHEMA_SLOT_CATEGORY = 4, /* category as written: facets */
    SCHEMA_SLOT_YEAR = 5,     /* "YYYY": facets */
    SCHEMA_SLOT_CLAIMS = 6,   /* the indexer's: every input that holds this id (below) */
    SCHEMA_SLOT_TEXT_REST = 7, /* a long body's text past its head (SCHEMA_TEXT_HEAD_BYTES) */
    SCHEMA_SLOT_REPEAT = 8     /* the content hash again, only on articles whose text another
                                * article has too (schema_mark_duplicates): what a search
                                * collapses on, a sparse slot that costs a match next to
                                * nothing, where collapsing on SCHEMA_SLOT_HASH reads a value
                                * for every candidate (a quarter of an AND match's time) */
};

#define SCHEMA_PREFIX_ID "Q"
#define SCHEMA_PREFIX_FILE "XF"
#define SCHEMA_PREFIX_TITLE "S"
#define SCHEMA_PREFIX_SOURCE "XS"
#define SCHEMA_PREFIX_CATEGORY "XC"
#define SCHEMA_PREFIX_YEAR "Y"
#define SCHEMA_PREFIX_MONTH "M"
#define SCHEMA_PREFIX_DATE "D"
#define SCHEMA_PREFIX_TITLE_KEY "XT"
/* The indexer's bookkeeping for ids claimed by several inputs (indexer/claims.c): a
 * document carries XK<file> for every input file holding its id (the indexed one
 * included), XDUP when more than one record holds it, and SCHEMA_SLOT_CLAIMS lists the
 * files with their line numbers. */
#define SCHEMA_PREFIX_CLAIM "XK"
#define SCHEMA_TERM_DUPLICATE "XDUP"

/* Metadata: how a search collapses articles that have the same text (the same
 * SCHEMA_SLOT_HASH). "1": no two articles share a text, there is nothing to collapse;
 * SCHEMA_REPEATS_MARKED: some do, and exactly those carry SCHEMA_SLOT_REPEAT; absent or
 * "": not known (an older index, or a run that committed changes and has not yet marked
 * them), collapse on SCHEMA_SLOT_HASH. Written by the indexer before each run's last
 * commit (schema_mark_duplicates); each earlier commit of a run sets it to ""
 * (schema_unmark_duplicates). */
#define SCHEMA_META_UNIQUE_TEXT "quire:unique-text"
#define SCHEMA_REPEATS_MARKED "marked"

/* Title words count this many times a body word (wdf), so title matches rank higher. */
#define SCHEMA_TITLE_WDF 3
/* Spelling data ("did you mean") comes from titles and the first bytes of each body (the
 * lead): the whole text costs 40% more indexing time on short news articles, the first 500
 * bytes 17%, titles alone 7% (bbc-news). */
#define SCHEMA_SPELLING_LEAD_BYTES 500
/* Longest term we build from a value (Xapian's limit is 245 bytes). */
#define SCHEMA_MAX_TERM 240

#define SCHEMA_LANG "english"

/* The unique term for a prefix and a name: prefix+name, or prefix+"#"+hash for a name too
 * long to be a term. Writes into out (at least SCHEMA_MAX_TERM + 1 bytes). */
void schema_key_term(const char *prefix, const char *name, char *out, size_t outlen);

/* The title-key term of text (len bytes of UTF-8): XT + text lower-cased, runs of spaces
 * folded to one, leading spaces dropped, cut at SCHEMA_MAX_TERM bytes on a character
 * boundary. Trailing space is dropped too unless keep_trailing (a prefix typed so far: "muse "
 * must not match "museum"). Writes into out (at least SCHEMA_MAX_TERM + 1 bytes). Returns the
 * term's length, or -1 with *err set by the binding (NULL when out of memory). */
long schema_title_key(const char *text, size_t len, int keep_trailing, char *out,
                      size_t outlen, xc_error **err);

/* Builds the Xapian document for an article. file_key names its source file (for
 * incremental runs). tg is the caller's term generator; NULL builds the article's identity
 * only (its id, file, filter terms, values and display data, but no words and no stored
 * text), which is all a dry run needs to decide what would change. Caller frees the
 * document.
 * NULL on failure, with *err set by the binding, or NULL in *err when out of memory. */
xc_doc *schema_build(const struct article *a, const char *file_key, xc_termgen *tg,
                     xc_error **err);

/* Tells a query parser about the fielded-search syntax: title:, id:, and the filter
 * fields (schema_filter_query). */
int schema_configure_parser(xc_qp *qp, xc_error **err);

/* Gives a query parser the query-time stop words (used while xc_qp_stopping is on:
 * search.c turns them on for OR queries). */
int schema_set_stopwords(xc_qp *qp, xc_error **err);
/* 1 when the lower-case word (len bytes) is one of those stop words. */
int schema_is_stopword(const char *word, size_t len);
/* The key of a source or category in its filter term: the value lower-cased (every
 * script, by Xapian's Unicode tables), runs of white space as one space, trimmed, Latin
 * accents folded (util_fold_latin, as for words: query text is folded before parsing). A
 * filter names a value as a facet lists it ("BBC News"), in any case, and finds it
 * because both sides go through this. A new string (caller frees), or NULL with *err (NULL
 * when out of memory). */
char *schema_value_key(const char *value, size_t len, xc_error **err);

/* Filter fields: source, category (a value as its facet lists it), year (2004), month
 * (2026-04 or 202604), date (a day 2004-03-05, a month, a year, or a range A..B of them,
 * either end open: 2004..2005, 2004-01-01..2004-03-31, 2004-06..). Values of one field
 * are ORed, fields ANDed. */
#define SCHEMA_FILTER_FIELDS "source, category, year, month, date"
/* Marks the articles of wdb that share a text (SCHEMA_SLOT_REPEAT) and sets
 * SCHEMA_META_UNIQUE_TEXT to what its documents say now: one pass over their text hashes;
 * only articles whose mark changes are rewritten. Returns 0, or -1 with *err. */
int schema_mark_duplicates(xc_wdb *wdb, xc_error **err);
/* Marks the articles of the n databases at paths, taken together, that share a text (for a
 * build's parts before they are merged: see xc_mark_repeats_across). Returns 1 when some
 * text repeats, 0 when none does, -1 with *err. The merged database then records the
 * answer with schema_duplicates_marked. */
int schema_mark_duplicates_across(const char *const *paths, size_t n, xc_error **err);
/* Sets SCHEMA_META_UNIQUE_TEXT of wdb, whose marks are written, to what they say: some
 * text repeats (repeat != 0) or none does. Returns 0, or -1 with *err. */
int schema_duplicates_marked(xc_wdb *wdb, int repeat, xc_error **err);
/* 1 when SCHEMA_META_UNIQUE_TEXT of wdb says what its documents are ("1" or marked); 0
 * when not known, or on failure. */
int schema_duplicates_known(xc_wdb *wdb);
/* Sets SCHEMA_META_UNIQUE_TEXT to "" (not known), for a commit before the marks are. */
int schema_unmark_duplicates(xc_wdb *wdb, xc_error **err);

/* 1 when term (len bytes) is a filter or id term, which carries no weight: a query of
 * these alone has no words to rank by. */
int schema_is_filter_term(const char *term, size_t len);
/* 1 when field names a filter field. */
int schema_is_filter_field(const char *field);
/* Checks value for a filter field without building anything. Returns 0, or -1 with a
 * sentence in why naming the field and the forms it takes. */
int schema_filter_check(const char *field, const char *value, char *why, size_t whylen);
/* The query for one value of a filter field (an xc_field_fn: the query parser calls it for
 * "field:value", the structured `filter` parameter for each of its values). A new query, or
 * NULL with the sentence of schema_filter_check in why (why empty: out of memory). */
xc_query *schema_filter_query(const char *field, const char *value, char *why, size_t whylen);

/* Display fields decoded from document data: pointers into a copy owned by the struct. */
struct schema_display {
    char *buf;
    const char *id, *title, *date, *source, *url, *category; /* "" when absent */
};
/* Decodes data (len bytes). Returns 0, or -1 when out of memory. */
int schema_display_decode(const char *data, size_t len, struct schema_display *out);

/* The stored body (SCHEMA_SLOT_TEXT) is compressed when that saves space: a byte 0xFE
 * (never in UTF-8, so an older index's plain text reads as it is), the text's length as 4
 * bytes little-endian, then an LZ4 block. Values an older indexer wrote with 0xFF and a
 * zlib stream read too. schema_text_pack returns the value to store in
 * a new buffer (*outlen its length), or NULL when out of memory. schema_text_unpack takes
 * a value read from the slot (ownership passes to it) and returns the text (*len its
 * length), or NULL when the value is damaged or memory runs out. */
char *schema_text_pack(const char *text, size_t len, size_t *outlen);
char *schema_text_unpack(char *value, size_t *len);
/* schema_text_unpack, but only the text's first max bytes (all of it when shorter): what a
 * snippet reads of a long article, for a fraction of the cost. The text may end inside a
 * word or a UTF-8 sequence. */
char *schema_text_unpack_prefix(char *value, size_t *len, size_t max);
/* The same of a borrowed value (vlen bytes, left as it is): the text's first max bytes as a
 * new NUL-terminated string the caller frees, *len its length; NULL when the value is
 * damaged or memory runs out. */
char *schema_text_prefix(const char *value, size_t vlen, size_t max, size_t *len);
/* A body longer than this is stored in two values, each packed as above: its first
 * SCHEMA_TEXT_HEAD_BYTES in SCHEMA_SLOT_TEXT, the rest in SCHEMA_SLOT_TEXT_REST. A snippet
 * reads its text's lead from the head alone, and Xapian reads (and copies) a value whole:
 * the head of a long article, not all of it. An index written before holds the whole body
 * in SCHEMA_SLOT_TEXT and nothing in SCHEMA_SLOT_TEXT_REST, and reads the same. */
#define SCHEMA_TEXT_HEAD_BYTES (16u << 10)
/* A document's whole body (SCHEMA_SLOT_TEXT and SCHEMA_SLOT_TEXT_REST unpacked, one after the
 * other), NUL-terminated, *len its length; the caller frees. NULL with *err set by the
 * binding when a value cannot be read, or with *err NULL when one is damaged or memory
 * runs out. */
char *schema_text_read(xc_db *db, unsigned docid, size_t *len, xc_error **err);
void schema_display_free(struct schema_display *d);

#endif
