/*
 * xc_int.hh -- what the files of the C binding share: the handles' definitions, the error
 * mapping, and XC_TRY / XC_CATCH.
 *
 * Every exported function body runs inside XC_TRY / XC_CATCH: exceptions are turned into
 * an xc_error by xc_set_error() (xc_error.cc), which rethrows the in-flight exception and
 * catches it by class (the "Lippincott" pattern), so the mapping from Xapian's classes to
 * our codes lives in exactly one place.
 *
 * The binding's files, by what they wrap:
 *   xc_error.cc     errors, injected faults (tests), remote failures, the version
 *   xc_db.cc        databases (read-only and writable), documents, term lists
 *   xc_query.cc     stemming, query parsing, walking a parsed query's terms
 *   xc_match.cc     matching: enquire, deadlines, facets, msets
 *   xc_split.cc     a heavy match split in two halves of the docid range, run side by side
 *   xc_spelling.cc  spelling candidates (edit distance over the spelling table)
 *   xc_unicode.cc   Xapian's Unicode tables, for lib/tokenize
 */
#ifndef QUIRE_XC_INT_HH
#define QUIRE_XC_INT_HH

#include "xc.h"

#include <xapian.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

struct xc_db {
    Xapian::Database db;
};
struct xc_wdb {
    Xapian::WritableDatabase db;
};
struct xc_doc {
    Xapian::Document doc;
};
struct xc_termgen {
    Xapian::TermGenerator tg;
    Xapian::Stem stem;
    bool spelling_db = false;
};
struct xc_stem {
    Xapian::Stem stem;
};
struct xc_query {
    Xapian::Query q;
};
struct xc_qp {
    Xapian::QueryParser qp;
    Xapian::Stem stem;
    std::string corrected;
    /* The stop words (xc_qp_set_stopwords); the parser uses them only while
     * xc_qp_stopping is on. Owned here, not reference-counted: turning stopping off must
     * not free it. The parser does not touch it when destroyed. */
    std::unique_ptr<Xapian::SimpleStopper> stopper;
    std::string field_error; /* why a filter field refused its value in the last parse */
    bool field_nomem = false; /* a filter field ran out of memory in the last parse */
    /* Range processors must outlive the parser's use of them; the parser keeps a
     * reference-counted pointer, so they are released with it. */
};
struct xc_mset {
    Xapian::MSet ms;
    std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spies;
    bool timed_out = false;
    /* A split match (xc_split.cc) holds its merged hits and totals here, not in ms. */
    bool merged = false;
    std::vector<xc_hit> hits;
    unsigned estimated = 0, lower = 0, upper = 0;
    unsigned u_estimated = 0, u_lower = 0, u_upper = 0; /* before collapsing */
};

/* ---- matching (xc_match.cc, xc_split.cc) -------------------------------------------- */

struct xc_deadline;
/* query restricted to part `part` of `nparts` of each sub-database's docid range, and cut
 * at the deadline (NULL: none); query itself when neither applies. */
Xapian::Query xc_match_part_query(const Xapian::Query &query,
                                  const std::shared_ptr<xc_deadline> &deadline, unsigned part,
                                  unsigned nparts);
/* True when a source of the match ended at the deadline. */
bool xc_deadline_hit(const std::shared_ptr<xc_deadline> &deadline);
/* The weighting, collapsing and sorting opts ask for. */
void xc_enquire_configure(Xapian::Enquire &enq, const xc_match_opts *opts);
/* query matched on db and twin as two halves, merged (see xc_match_opts.split_twin). */
xc_mset *xc_enquire_split(xc_db *db, xc_db *twin, const Xapian::Query &query,
                          const xc_match_opts *opts,
                          const std::shared_ptr<xc_deadline> &deadline);

/* ---- errors (xc_error.cc) ---------------------------------------------------------- */

/* Counts down towards an injected failure (xc_test_fail_after); 0 when injection is off. */
extern std::atomic<long> xc_fault_countdown;
void xc_fault_fire(bool reads);

/* Every exported function that can fail passes through here first; when injection is off
 * this is one relaxed load, cheap enough for the per-word and per-hit calls. reads: the
 * function reads a database (or a remote one); one that works in memory alone (a query
 * built, a term stemmed, an MSet's hit read) can run out of memory but never meets an I/O
 * error or a newer revision, so only injected out-of-memory faults count it. */
inline void xc_fault_point(bool reads = true)
{
    if (xc_fault_countdown.load(std::memory_order_relaxed) > 0)
        xc_fault_fire(reads);
}

/* A malloc'd copy of s (throws std::bad_alloc). */
char *xc_strdup(const std::string &s);
/* Fills *err (when err is not NULL) with a new error of code and msg. */
void xc_make_error(xc_error **err, xc_code code, const std::string &msg);
/* Counts a remote shard's failure for xc_network_failures. */
void xc_note_network(const Xapian::NetworkError &e);
/* Called from a catch(...) block of a function that reports no error: the failure is
 * dropped, but a remote one is still counted. */
void xc_swallow();
/* Called from a catch(...) block: classifies the in-flight exception into *err. */
void xc_set_error(xc_error **err);

#define XC_TRY                                                                             \
    try {                                                                                  \
        xc_fault_point();
#define XC_TRY_PURE                                                                        \
    try {                                                                                  \
        xc_fault_point(false);
#define XC_CATCH(err, failval)                                                             \
    }                                                                                      \
    catch (...)                                                                            \
    {                                                                                      \
        xc_set_error(err);                                                                 \
        return failval;                                                                    \
    }

#endif
