/*
 * xc.cc -- implementation of the C binding declared in xc.h.
 *
 * Every exported function body runs inside XC_TRY / XC_CATCH: exceptions are turned into
 * an xc_error by xc_set_error(), which rethrows the in-flight exception and catches it by
 * class (the "Lippincott" pattern), so the mapping from Xapian's classes to our codes lives
 * in exactly one place.
 */
#include "xc.h"

#include <xapian.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <set>
#include <vector>
#include <string>

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
    /* Range processors must outlive the parser's use of them; the parser keeps a
     * reference-counted pointer, so they are released with it. */
};
struct xc_mset {
    Xapian::MSet ms;
    std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spies;
    bool timed_out = false;
};

/* ---- errors ---------------------------------------------------------------------- */

static std::atomic<long> fault_countdown(0);
static std::atomic<int> fault_kind(XC_ERR_IO);
static std::atomic<bool> fault_fired(false);

/* Counts down towards an injected failure (xc_test_fail_after). Every exported function
 * that can fail passes through here first; when injection is off this is one relaxed
 * load, cheap enough for the per-word and per-hit calls. */
static void xc_fault_point()
{
    if (fault_countdown.load(std::memory_order_relaxed) <= 0)
        return;
    if (fault_countdown.fetch_sub(1) != 1)
        return;
    fault_fired.store(true);
    switch (fault_kind.load()) {
    case XC_ERR_MODIFIED:
        throw Xapian::DatabaseModifiedError("injected fault (xc_test_fail_after)");
    case XC_ERR_NOMEM: throw std::bad_alloc();
    default: throw Xapian::DatabaseError("injected fault (xc_test_fail_after)");
    }
}

extern "C" void xc_test_fail_after(long n)
{
    fault_fired.store(false);
    fault_countdown.store(n < 0 ? 0 : n);
}

extern "C" void xc_test_fail_with(xc_code code)
{
    fault_kind.store(code == XC_ERR_MODIFIED || code == XC_ERR_NOMEM ? code : XC_ERR_IO);
}

extern "C" int xc_test_fault_fired(void)
{
    return fault_fired.load() ? 1 : 0;
}

static char *xc_strdup(const std::string &s)
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p)
        throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

static void xc_make_error(xc_error **err, xc_code code, const std::string &msg)
{
    if (!err)
        return;
    xc_error *e = static_cast<xc_error *>(std::malloc(sizeof *e));
    if (!e) {
        *err = NULL;
        return;
    }
    e->code = code;
    e->message = static_cast<char *>(std::malloc(msg.size() + 1));
    if (e->message) {
        std::memcpy(e->message, msg.data(), msg.size());
        e->message[msg.size()] = '\0';
    }
    *err = e;
}

/* Remote shard failures seen by this thread (see xc_network_failures). */
static thread_local unsigned long net_failures;
static thread_local std::string net_last;

static void xc_note_network(const Xapian::NetworkError &e)
{
    net_failures++;
    net_last = e.get_description();
}

/* Called from a catch(...) block of a function that reports no error: the failure is
 * dropped, but a remote one is still counted. */
static void xc_swallow()
{
    try {
        throw;
    } catch (const Xapian::NetworkError &e) {
        xc_note_network(e);
    } catch (...) {
    }
}

extern "C" unsigned long xc_network_failures(void)
{
    return net_failures;
}

extern "C" const char *xc_network_last_error(void)
{
    return net_last.c_str();
}

/* Called from a catch(...) block: classifies the in-flight exception. */
static void xc_set_error(xc_error **err)
{
    try {
        throw;
    } catch (const Xapian::DatabaseLockError &e) {
        xc_make_error(err, XC_ERR_LOCKED, e.get_description());
    } catch (const Xapian::DatabaseModifiedError &e) {
        xc_make_error(err, XC_ERR_MODIFIED, e.get_description());
    } catch (const Xapian::DatabaseNotFoundError &e) {
        xc_make_error(err, XC_ERR_NOT_FOUND, e.get_description());
    } catch (const Xapian::DocNotFoundError &e) {
        xc_make_error(err, XC_ERR_NOT_FOUND, e.get_description());
    } catch (const Xapian::QueryParserError &e) {
        xc_make_error(err, XC_ERR_QUERY, e.get_description());
    } catch (const Xapian::WildcardError &e) {
        xc_make_error(err, XC_ERR_QUERY, e.get_description());
    } catch (const Xapian::NetworkError &e) {
        xc_note_network(e);
        xc_make_error(err, XC_ERR_NETWORK, e.get_description());
    } catch (const Xapian::UnimplementedError &e) {
        xc_make_error(err, XC_ERR_UNSUPPORTED, e.get_description());
    } catch (const Xapian::DatabaseError &e) {
        xc_make_error(err, XC_ERR_IO, e.get_description());
    } catch (const Xapian::InvalidArgumentError &e) {
        xc_make_error(err, XC_ERR_INVALID, e.get_description());
    } catch (const Xapian::InvalidOperationError &e) {
        xc_make_error(err, XC_ERR_INVALID, e.get_description());
    } catch (const Xapian::Error &e) {
        xc_make_error(err, XC_ERR_INTERNAL, e.get_description());
    } catch (const std::bad_alloc &) {
        xc_make_error(err, XC_ERR_NOMEM, "out of memory");
    } catch (const std::exception &e) {
        xc_make_error(err, XC_ERR_INTERNAL, e.what());
    } catch (...) {
        xc_make_error(err, XC_ERR_INTERNAL, "unknown C++ exception");
    }
}

#define XC_TRY                                                                             \
    try {                                                                                  \
        xc_fault_point();
#define XC_CATCH(err, failval)                                                             \
    }                                                                                      \
    catch (...)                                                                            \
    {                                                                                      \
        xc_set_error(err);                                                                 \
        return failval;                                                                    \
    }

extern "C" void xc_error_free(xc_error *err)
{
    if (!err)
        return;
    std::free(err->message);
    std::free(err);
}

extern "C" const char *xc_code_name(xc_code code)
{
    switch (code) {
    case XC_OK: return "ok";
    case XC_ERR_NOT_FOUND: return "not_found";
    case XC_ERR_LOCKED: return "locked";
    case XC_ERR_MODIFIED: return "modified";
    case XC_ERR_QUERY: return "query_syntax";
    case XC_ERR_IO: return "io";
    case XC_ERR_NOMEM: return "out_of_memory";
    case XC_ERR_INVALID: return "invalid";
    case XC_ERR_NETWORK: return "network";
    case XC_ERR_INTERNAL: return "internal";
    case XC_ERR_UNSUPPORTED: return "unsupported";
    case XC_ERR_FIELD: return "bad_field";
    }
    return "unknown";
}

extern "C" const char *xc_version(void)
{
    return Xapian::version_string();
}

/* ---- read-only database ---------------------------------------------------------- */

extern "C" xc_db *xc_db_open(const char *path, xc_error **err)
{
    XC_TRY
    return new xc_db{Xapian::Database(path)};
    XC_CATCH(err, NULL)
}

extern "C" xc_db *xc_db_open_remote(const char *host, unsigned port, unsigned timeout_ms,
                                    xc_error **err)
{
    XC_TRY
    return new xc_db{Xapian::Remote::open(host, port, timeout_ms, timeout_ms)};
    XC_CATCH(err, NULL)
}

extern "C" xc_db *xc_db_combine(xc_db *const *dbs, size_t n, xc_error **err)
{
    XC_TRY
    std::unique_ptr<xc_db> all(new xc_db);
    for (size_t i = 0; i < n; i++)
        all->db.add_database(dbs[i]->db);
    return all.release();
    XC_CATCH(err, NULL)
}

extern "C" void xc_db_free(xc_db *db)
{
    try {
        delete db;
    } catch (...) {
    }
}

extern "C" int xc_db_reopen(xc_db *db, xc_error **err)
{
    XC_TRY
    return db->db.reopen() ? 1 : 0;
    XC_CATCH(err, -1)
}

extern "C" unsigned xc_db_doccount(xc_db *db, xc_error **err)
{
    XC_TRY
    return db->db.get_doccount();
    XC_CATCH(err, 0)
}

extern "C" unsigned long xc_db_revision(xc_db *db)
{
    try {
        return db->db.get_revision();
    } catch (...) {
        xc_swallow();
        return 0;
    }
}

extern "C" unsigned xc_db_docid_for_term(xc_db *db, const char *term, xc_error **err)
{
    XC_TRY
    Xapian::PostingIterator p = db->db.postlist_begin(term);
    if (p == db->db.postlist_end(term))
        return 0;
    return *p;
    XC_CATCH(err, 0)
}

extern "C" char *xc_db_doc_data(xc_db *db, unsigned docid, size_t *len, xc_error **err)
{
    XC_TRY
    std::string s = db->db.get_document(docid).get_data();
    if (len)
        *len = s.size();
    return xc_strdup(s);
    XC_CATCH(err, NULL)
}

extern "C" char *xc_db_doc_value(xc_db *db, unsigned docid, unsigned slot, size_t *len,
                                 xc_error **err)
{
    XC_TRY
    /* Hot path (a snippet per hit): the docid came from a match, so skip the existence
     * check; an unknown docid reads as an empty value. */
    std::string s = db->db.get_document(docid, Xapian::DOC_ASSUME_VALID).get_value(slot);
    if (len)
        *len = s.size();
    return xc_strdup(s);
    XC_CATCH(err, NULL)
}

extern "C" char *xc_db_metadata(xc_db *db, const char *key, xc_error **err)
{
    XC_TRY
    return xc_strdup(db->db.get_metadata(key));
    XC_CATCH(err, NULL)
}

extern "C" unsigned xc_db_termfreq(xc_db *db, const char *term, xc_error **err)
{
    XC_TRY
    return db->db.get_termfreq(term);
    XC_CATCH(err, 0)
}

extern "C" int xc_db_postlist(xc_db *db, const char *term, int (*cb)(unsigned docid, void *ctx),
                              void *ctx, xc_error **err)
{
    XC_TRY
    for (Xapian::PostingIterator p = db->db.postlist_begin(term); p != db->db.postlist_end(term);
         ++p) {
        if (cb(*p, ctx))
            break;
    }
    return 0;
    XC_CATCH(err, -1)
}

/* ---- documents ------------------------------------------------------------------- */

extern "C" xc_doc *xc_doc_new(xc_error **err)
{
    XC_TRY
    return new xc_doc;
    XC_CATCH(err, NULL)
}

extern "C" void xc_doc_free(xc_doc *doc)
{
    try {
        delete doc;
    } catch (...) {
    }
}

extern "C" int xc_doc_set_data(xc_doc *doc, const char *data, size_t len, xc_error **err)
{
    XC_TRY
    doc->doc.set_data(std::string(data, len));
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_doc_set_value(xc_doc *doc, unsigned slot, const char *data, size_t len,
                                xc_error **err)
{
    XC_TRY
    doc->doc.add_value(slot, std::string(data, len));
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_doc_add_boolean_term(xc_doc *doc, const char *term, xc_error **err)
{
    XC_TRY
    doc->doc.add_boolean_term(term);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" xc_termgen *xc_termgen_new(const char *lang, xc_error **err)
{
    XC_TRY
    xc_termgen *tg = new xc_termgen;
    try {
        tg->stem = Xapian::Stem(lang);
        tg->tg.set_stemmer(tg->stem);
        tg->tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
        tg->tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    } catch (...) {
        delete tg;
        throw;
    }
    return tg;
    XC_CATCH(err, NULL)
}

extern "C" void xc_termgen_free(xc_termgen *tg)
{
    try {
        delete tg;
    } catch (...) {
    }
}

extern "C" void xc_termgen_set_document(xc_termgen *tg, xc_doc *doc)
{
    try {
        tg->tg.set_document(doc->doc);
        tg->tg.set_termpos(0);
    } catch (...) {
    }
}

extern "C" int xc_termgen_index_text(xc_termgen *tg, const char *text, size_t len,
                                     unsigned wdf_inc, const char *prefix, xc_error **err)
{
    XC_TRY
    tg->tg.index_text(Xapian::Utf8Iterator(text, len), wdf_inc, prefix ? prefix : "");
    return 0;
    XC_CATCH(err, -1)
}

extern "C" void xc_termgen_increase_termpos(xc_termgen *tg, unsigned delta)
{
    try {
        tg->tg.increase_termpos(delta);
    } catch (...) {
    }
}

/* ---- writable database ----------------------------------------------------------- */

extern "C" xc_wdb *xc_wdb_open(const char *path, int create, xc_error **err)
{
    XC_TRY
    int action = create ? Xapian::DB_CREATE_OR_OPEN : Xapian::DB_OPEN;
    return new xc_wdb{Xapian::WritableDatabase(path, action | Xapian::DB_BACKEND_GLASS)};
    XC_CATCH(err, NULL)
}

extern "C" void xc_wdb_free(xc_wdb *wdb)
{
    if (!wdb)
        return;
    try {
        /* Xapian commits pending changes here unless a transaction is open. */
        wdb->db.close();
    } catch (...) {
    }
    try {
        delete wdb;
    } catch (...) {
    }
}

extern "C" int xc_wdb_commit(xc_wdb *wdb, xc_error **err)
{
    XC_TRY
    wdb->db.commit();
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_wdb_begin(xc_wdb *wdb, xc_error **err)
{
    XC_TRY
    wdb->db.begin_transaction(false);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_wdb_cancel(xc_wdb *wdb, xc_error **err)
{
    XC_TRY
    wdb->db.cancel_transaction();
    return 0;
    XC_CATCH(err, -1)
}

extern "C" unsigned xc_wdb_replace(xc_wdb *wdb, const char *idterm, xc_doc *doc,
                                   xc_error **err)
{
    XC_TRY
    return wdb->db.replace_document(idterm, doc->doc);
    XC_CATCH(err, 0)
}

extern "C" int xc_wdb_delete_term(xc_wdb *wdb, const char *term, xc_error **err)
{
    XC_TRY
    wdb->db.delete_document(std::string(term));
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_wdb_delete_docid(xc_wdb *wdb, unsigned docid, xc_error **err)
{
    XC_TRY
    wdb->db.delete_document(docid);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" unsigned xc_wdb_termfreq(xc_wdb *wdb, const char *term, xc_error **err)
{
    XC_TRY
    return wdb->db.get_termfreq(term);
    XC_CATCH(err, 0)
}

extern "C" unsigned xc_wdb_doccount(xc_wdb *wdb, xc_error **err)
{
    XC_TRY
    return wdb->db.get_doccount();
    XC_CATCH(err, 0)
}

extern "C" int xc_wdb_postlist(xc_wdb *wdb, const char *term,
                               int (*cb)(unsigned docid, void *ctx), void *ctx,
                               xc_error **err)
{
    XC_TRY
    for (Xapian::PostingIterator p = wdb->db.postlist_begin(term);
         p != wdb->db.postlist_end(term); ++p) {
        if (cb(*p, ctx))
            break;
    }
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_wdb_set_metadata(xc_wdb *wdb, const char *key, const char *value,
                                   size_t len, xc_error **err)
{
    XC_TRY
    wdb->db.set_metadata(key, std::string(value, len));
    return 0;
    XC_CATCH(err, -1)
}

extern "C" char *xc_wdb_metadata(xc_wdb *wdb, const char *key, xc_error **err)
{
    XC_TRY
    return xc_strdup(wdb->db.get_metadata(key));
    XC_CATCH(err, NULL)
}

extern "C" int xc_wdb_metadata_keys(xc_wdb *wdb, const char *prefix,
                                    int (*cb)(const char *key, void *ctx), void *ctx,
                                    xc_error **err)
{
    XC_TRY
    for (Xapian::TermIterator t = wdb->db.metadata_keys_begin(prefix);
         t != wdb->db.metadata_keys_end(prefix); ++t) {
        std::string key = *t;
        if (cb(key.c_str(), ctx))
            break;
    }
    return 0;
    XC_CATCH(err, -1)
}

extern "C" char *xc_wdb_doc_value(xc_wdb *wdb, unsigned docid, unsigned slot, size_t *len,
                                  xc_error **err)
{
    XC_TRY
    std::string s = wdb->db.get_document(docid).get_value(slot);
    if (len)
        *len = s.size();
    return xc_strdup(s);
    XC_CATCH(err, NULL)
}

extern "C" int xc_wdb_doc_edit(xc_wdb *wdb, unsigned docid, unsigned slot, const char *value,
                               size_t len, const char *const *add, size_t nadd,
                               const char *const *del, size_t ndel, xc_error **err)
{
    XC_TRY
    Xapian::Document doc = wdb->db.get_document(docid);
    doc.add_value(slot, std::string(value, len));
    for (size_t i = 0; i < ndel; i++) {
        /* remove_term throws when the document does not hold the term: look first. */
        Xapian::TermIterator t = doc.termlist_begin();
        t.skip_to(del[i]);
        if (t != doc.termlist_end() && *t == del[i])
            doc.remove_term(del[i]);
    }
    for (size_t i = 0; i < nadd; i++)
        doc.add_boolean_term(add[i]);
    wdb->db.replace_document(docid, doc);
    return 0;
    XC_CATCH(err, -1)
}

/* ---- stemming -------------------------------------------------------------------- */

extern "C" xc_stem *xc_stem_new(const char *lang, xc_error **err)
{
    XC_TRY
    return new xc_stem{Xapian::Stem(lang)};
    XC_CATCH(err, NULL)
}

extern "C" void xc_stem_free(xc_stem *st)
{
    try {
        delete st;
    } catch (...) {
    }
}

extern "C" long xc_stem_word(xc_stem *st, const char *word, size_t len, char *out, size_t outlen)
{
    if (outlen == 0)
        return 0;
    try {
        xc_fault_point();
        std::string s = st->stem(std::string(word, len));
        size_t n = s.size() < outlen - 1 ? s.size() : outlen - 1;
        std::memcpy(out, s.data(), n);
        out[n] = '\0';
        return static_cast<long>(n);
    } catch (...) {
        out[0] = '\0';
        return -1;
    }
}

/* ---- query parsing --------------------------------------------------------------- */

extern "C" xc_qp *xc_qp_new(const char *lang, xc_db *db, xc_error **err)
{
    XC_TRY
    xc_qp *qp = new xc_qp;
    try {
        qp->stem = Xapian::Stem(lang);
        qp->qp.set_stemmer(qp->stem);
        qp->qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        if (db)
            qp->qp.set_database(db->db);
    } catch (...) {
        delete qp;
        throw;
    }
    return qp;
    XC_CATCH(err, NULL)
}

extern "C" void xc_qp_free(xc_qp *qp)
{
    try {
        delete qp;
    } catch (...) {
    }
}

extern "C" int xc_qp_set_stopwords(xc_qp *qp, const char *const *words, size_t n,
                                   xc_error **err)
{
    XC_TRY
    xc_fault_point();
    std::unique_ptr<Xapian::SimpleStopper> st(new Xapian::SimpleStopper());
    for (size_t i = 0; i < n; i++)
        st->add(words[i]);
    qp->qp.set_stopper(nullptr);
    qp->stopper = std::move(st);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" void xc_qp_stopping(xc_qp *qp, int on)
{
    try {
        qp->qp.set_stopper(on ? qp->stopper.get() : nullptr);
    } catch (...) {
    }
}

extern "C" void xc_qp_set_default_and(xc_qp *qp, int default_and)
{
    qp->qp.set_default_op(default_and ? Xapian::Query::OP_AND : Xapian::Query::OP_OR);
}

extern "C" int xc_qp_add_prefix(xc_qp *qp, const char *field, const char *prefix,
                                xc_error **err)
{
    XC_TRY
    qp->qp.add_prefix(field, prefix);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_qp_add_boolean_prefix(xc_qp *qp, const char *field, const char *prefix,
                                        xc_error **err)
{
    XC_TRY
    qp->qp.add_boolean_prefix(field, prefix);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_qp_add_date_range(xc_qp *qp, const char *field, unsigned slot,
                                    xc_error **err)
{
    XC_TRY
    std::string pfx = std::string(field) + ":";
    /* Day-first guessing off: dates are ISO 2026-04-10; epoch 1930 for 2-digit years. */
    Xapian::RangeProcessor *rp = new Xapian::DateRangeProcessor(
        slot, pfx, Xapian::RP_DATE_PREFER_MDY, 1930);
    qp->qp.add_rangeprocessor(rp->release());
    return 0;
    XC_CATCH(err, -1)
}

extern "C" void xc_qp_set_max_wildcard(xc_qp *qp, unsigned max_terms)
{
    try {
        qp->qp.set_max_expansion(max_terms, Xapian::Query::WILDCARD_LIMIT_ERROR,
                                 Xapian::QueryParser::FLAG_WILDCARD |
                                     Xapian::QueryParser::FLAG_PARTIAL);
    } catch (...) {
    }
}

/* A filter field: hands each value to the C function, and turns a refusal into an
 * exception that xc_qp_parse reports as XC_ERR_FIELD (the sentence is kept in the xc_qp,
 * which owns the parser that owns this processor). */
class FilterField : public Xapian::FieldProcessor {
    xc_qp *owner;
    std::string field;
    xc_field_fn fn;

  public:
    FilterField(xc_qp *owner_, const char *field_, xc_field_fn fn_)
        : owner(owner_), field(field_), fn(fn_)
    {
    }
    Xapian::Query operator()(const std::string &value) override
    {
        char why[512] = "";
        xc_query *q = fn(field.c_str(), value.c_str(), why, sizeof why);
        if (!q) {
            if (!why[0])
                throw std::bad_alloc();
            owner->field_error = why;
            throw Xapian::QueryParserError(why);
        }
        Xapian::Query r = q->q;
        delete q;
        return r;
    }
};

extern "C" int xc_qp_add_filter_field(xc_qp *qp, const char *field, xc_field_fn fn,
                                      xc_error **err)
{
    XC_TRY
    qp->qp.add_boolean_prefix(field, (new FilterField(qp, field, fn))->release());
    return 0;
    XC_CATCH(err, -1)
}

extern "C" xc_query *xc_qp_parse(xc_qp *qp, const char *text, unsigned flags, xc_error **err)
{
    XC_TRY
    qp->corrected.clear();
    qp->field_error.clear();
    Xapian::Query q;
    try {
        q = qp->qp.parse_query(text, flags);
    } catch (const Xapian::QueryParserError &) {
        if (qp->field_error.empty())
            throw;
        xc_make_error(err, XC_ERR_FIELD, qp->field_error);
        return NULL;
    }
    if (flags & XC_QP_SPELLING)
        qp->corrected = qp->qp.get_corrected_query_string();
    return new xc_query{q};
    XC_CATCH(err, NULL)
}

extern "C" const char *xc_qp_corrected(xc_qp *qp)
{
    return qp->corrected.c_str();
}

extern "C" int xc_query_is_empty(const xc_query *q)
{
    return q->q.empty() ? 1 : 0;
}

extern "C" xc_query *xc_query_term(const char *term, xc_error **err)
{
    XC_TRY
    return new xc_query{Xapian::Query(term)};
    XC_CATCH(err, NULL)
}

extern "C" xc_query *xc_query_value_range(unsigned slot, const char *lo, const char *hi,
                                          xc_error **err)
{
    XC_TRY
    if (lo && hi)
        return new xc_query{Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, lo, hi)};
    if (lo)
        return new xc_query{Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, lo)};
    if (hi)
        return new xc_query{Xapian::Query(Xapian::Query::OP_VALUE_LE, slot, hi)};
    throw Xapian::InvalidArgumentError("a value range needs a bound");
    XC_CATCH(err, NULL)
}

extern "C" xc_query *xc_query_combine(int op, const xc_query *const *qs, size_t n,
                                      xc_error **err)
{
    XC_TRY
    std::vector<Xapian::Query> v;
    v.reserve(n);
    for (size_t i = 0; i < n; i++)
        v.push_back(qs[i]->q);
    Xapian::Query::op xop = op == XC_QOP_OR ? Xapian::Query::OP_OR : Xapian::Query::OP_AND;
    return new xc_query{Xapian::Query(xop, v.begin(), v.end())};
    XC_CATCH(err, NULL)
}

extern "C" xc_query *xc_query_scale(const xc_query *q, double factor, xc_error **err)
{
    XC_TRY
    return new xc_query{Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q->q, factor)};
    XC_CATCH(err, NULL)
}

extern "C" xc_query *xc_query_filter(const xc_query *q, const xc_query *filter, xc_error **err)
{
    XC_TRY
    if (!q)
        return new xc_query{Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, filter->q, 0.0)};
    return new xc_query{Xapian::Query(Xapian::Query::OP_FILTER, q->q, filter->q)};
    XC_CATCH(err, NULL)
}

extern "C" void xc_query_free(xc_query *q)
{
    try {
        delete q;
    } catch (...) {
    }
}

extern "C" char *xc_query_describe(const xc_query *q)
{
    try {
        xc_fault_point();
        return xc_strdup(q->q.get_description());
    } catch (...) {
        return NULL;
    }
}

extern "C" int xc_query_terms(const xc_query *q,
                              void (*cb)(const char *term, size_t len, void *ctx), void *ctx)
{
    try {
        xc_fault_point();
        for (Xapian::TermIterator t = q->q.get_unique_terms_begin();
             t != q->q.get_unique_terms_end(); ++t) {
            std::string s = *t;
            cb(s.data(), s.size(), ctx);
        }
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" unsigned xc_query_wildcards(const xc_query *q)
{
    unsigned n = 0;
    try {
        /* An explicit stack: a parsed query may nest as deep as its parentheses. */
        std::vector<Xapian::Query> todo{q->q};
        while (!todo.empty()) {
            Xapian::Query sub = todo.back();
            todo.pop_back();
            if (sub.get_type() == Xapian::Query::OP_WILDCARD)
                n++;
            for (size_t i = 0; i < sub.get_num_subqueries(); i++)
                todo.push_back(sub.get_subquery(i));
        }
    } catch (...) {
        /* Out of memory while walking: report a count no limit lets through. */
        return ~0u;
    }
    return n;
}

/* ---- matching -------------------------------------------------------------------- */

/* A match deadline, shared by a DeadlineSource and its clones (one per sub-database). */
struct xc_deadline {
    struct timespec at; /* CLOCK_MONOTONIC */
    bool hit = false;   /* a source ended because the clock passed `at` */
};

/* Every document of a sub-database, with weight 0, until a deadline passes; then at_end().
 *
 * Xapian's Enquire::set_time_limit() only stops the matcher from checking more candidates
 * for the *top* documents; it does not end a match. A posting source that ends does: as
 * the right side of OP_FILTER it is asked about each candidate, and once it is at its end
 * the AND is too, so the matcher stops there and ranks what it has seen, with sorting,
 * collapsing and match spies all inside that loop.
 *
 * The source claims every docid in 1..lastdocid, deleted ones included: it is only ever
 * ANDed with the real query, which yields existing documents. Its term frequencies are the
 * document count, so the AND's estimates equal the query's while the deadline holds.
 * Reading CLOCK_MONOTONIC costs ~20 ns (vDSO), a candidate a few hundred; it is read on
 * the first call (a deadline spent before the match shows at once) and every 64th after.
 *
 * It has no name() and so cannot be serialised: a remote backend refuses the query with
 * Xapian::UnimplementedError (XC_ERR_UNSUPPORTED). */
class DeadlineSource : public Xapian::PostingSource
{
    std::shared_ptr<xc_deadline> deadline;
    Xapian::doccount ndocs = 0;
    Xapian::docid last = 0, current = 0;
    unsigned countdown = 0;
    bool ended = false;

    static const unsigned CHECK_EVERY = 64;

    /* Called on every move; ends the source when the deadline has passed. */
    void tick()
    {
        if (countdown > 0) {
            countdown--;
            return;
        }
        countdown = CHECK_EVERY - 1;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        const struct timespec &at = deadline->at;
        if (now.tv_sec > at.tv_sec || (now.tv_sec == at.tv_sec && now.tv_nsec >= at.tv_nsec)) {
            deadline->hit = true;
            ended = true;
        }
    }

    /* Moves to did (or past the last docid: the natural end). */
    void move_to(Xapian::docid did)
    {
        tick();
        if (ended)
            return;
        if (did > last)
            ended = true;
        else if (did > current)
            current = did;
    }

  public:
    explicit DeadlineSource(std::shared_ptr<xc_deadline> d) : deadline(std::move(d))
    {
    }

    /* One per sub-database, all sharing the deadline and its flag. */
    Xapian::PostingSource *clone() const override
    {
        return new DeadlineSource(deadline);
    }

    void init(const Xapian::Database &db) override
    {
        ndocs = db.get_doccount();
        last = db.get_lastdocid();
        current = 0;
        countdown = 0;
        ended = false;
    }
    Xapian::doccount get_termfreq_min() const override
    {
        return ndocs;
    }
    Xapian::doccount get_termfreq_est() const override
    {
        return ndocs;
    }
    Xapian::doccount get_termfreq_max() const override
    {
        return ndocs;
    }
    Xapian::docid get_docid() const override
    {
        return current;
    }
    bool at_end() const override
    {
        return ended;
    }
    void next(double) override
    {
        move_to(current + 1);
    }
    void skip_to(Xapian::docid did, double) override
    {
        move_to(did);
    }
    bool check(Xapian::docid did, double) override
    {
        move_to(did);
        return true;
    }
    std::string get_description() const override
    {
        return "DeadlineSource()";
    }
};

/* The deadline ms milliseconds from now. */
static std::shared_ptr<xc_deadline> xc_deadline_in(unsigned ms)
{
    auto d = std::make_shared<xc_deadline>();
    clock_gettime(CLOCK_MONOTONIC, &d->at);
    d->at.tv_sec += static_cast<time_t>(ms / 1000);
    d->at.tv_nsec += static_cast<long>(ms % 1000) * 1000000L;
    if (d->at.tv_nsec >= 1000000000L) {
        d->at.tv_sec++;
        d->at.tv_nsec -= 1000000000L;
    }
    return d;
}

extern "C" void xc_match_opts_init(xc_match_opts *o)
{
    std::memset(o, 0, sizeof *o);
    o->limit = 10;
    o->collapse_slot = -1;
    o->sort_slot = -1;
    o->bm25_min_normlen = -1;
    o->exclude_slot = -1;
}

extern "C" xc_mset *xc_enquire(xc_db *db, const xc_query *q, const xc_match_opts *opts,
                               xc_error **err)
{
    XC_TRY
    /* The deadline runs from here: setting up the match is part of it. */
    std::shared_ptr<xc_deadline> deadline;
    if (opts->deadline_ms > 0)
        deadline = xc_deadline_in(opts->deadline_ms);
    Xapian::Enquire enq(db->db);
    Xapian::Query query = q->q;
    if (opts->exclude_term) {
        /* Leave one document out by its id term: unlike a match decider, a query also
         * works over the remote backend. */
        query = Xapian::Query(Xapian::Query::OP_AND_NOT, query, Xapian::Query(opts->exclude_term));
    }
    if (opts->exclude_slot >= 0 && opts->exclude_value) {
        /* Documents whose value equals exclude_value (a range of one value): a query, so
         * the remote backend runs it too. */
        std::string v(opts->exclude_value, opts->exclude_value_len);
        query = Xapian::Query(
            Xapian::Query::OP_AND_NOT, query,
            Xapian::Query(Xapian::Query::OP_VALUE_RANGE,
                          static_cast<Xapian::valueno>(opts->exclude_slot), v, v));
    }
    if (deadline) {
        /* OP_FILTER: the source adds no weight, so ranking is unchanged. */
        query = Xapian::Query(Xapian::Query::OP_FILTER, query,
                              Xapian::Query((new DeadlineSource(deadline))->release()));
    }
    enq.set_query(query);
    if (opts->bm25_k1 > 0 || opts->bm25_b > 0) {
        double k1 = opts->bm25_k1 > 0 ? opts->bm25_k1 : 1.2;
        double b = opts->bm25_b > 0 ? opts->bm25_b : 0.75;
        double mn = opts->bm25_min_normlen >= 0 ? opts->bm25_min_normlen : 0.5;
        enq.set_weighting_scheme(Xapian::BM25Weight(k1, 0, 1, b, mn));
    }
    if (opts->collapse_slot >= 0)
        enq.set_collapse_key(static_cast<Xapian::valueno>(opts->collapse_slot));
    if (opts->sort_slot >= 0)
        enq.set_sort_by_value_then_relevance(static_cast<Xapian::valueno>(opts->sort_slot),
                                             opts->sort_descending != 0);
    std::unique_ptr<xc_mset> ms(new xc_mset);
    unsigned check = opts->check_at_least;
    for (unsigned k = 0; k < opts->nfacets && k < XC_MAX_FACETS; k++) {
        ms->spies.emplace_back(new Xapian::ValueCountMatchSpy(
            static_cast<Xapian::valueno>(opts->facet_slots[k])));
        enq.add_matchspy(ms->spies.back().get());
        /* Exact counts need every match seen. */
        check = db->db.get_doccount();
    }
    if (opts->facets_apart && opts->nfacets > 0) {
        /* Counted in a match of their own that returns no hits (see xc.h). */
        enq.get_mset(0, 0, check);
        enq.clear_matchspies();
    }
    ms->ms = enq.get_mset(opts->offset, opts->limit, check);
    if (opts->fetch)
        ms->ms.fetch();
    ms->timed_out = deadline && deadline->hit;
    return ms.release();
    XC_CATCH(err, NULL)
}

extern "C" void xc_mset_free(xc_mset *ms)
{
    try {
        delete ms;
    } catch (...) {
    }
}

extern "C" int xc_mset_timed_out(const xc_mset *ms)
{
    return ms->timed_out ? 1 : 0;
}

extern "C" unsigned xc_mset_size(const xc_mset *ms)
{
    return ms->ms.size();
}

extern "C" void xc_mset_totals(const xc_mset *ms, unsigned *estimated, unsigned *lower,
                               unsigned *upper)
{
    if (estimated)
        *estimated = ms->ms.get_matches_estimated();
    if (lower)
        *lower = ms->ms.get_matches_lower_bound();
    if (upper)
        *upper = ms->ms.get_matches_upper_bound();
}

extern "C" int xc_mset_hit(const xc_mset *ms, unsigned i, xc_hit *hit)
{
    try {
        xc_fault_point();
        if (i >= ms->ms.size())
            return -1;
        Xapian::MSetIterator it = ms->ms[i];
        hit->docid = *it;
        hit->rank = it.get_rank();
        hit->weight = it.get_weight();
        hit->collapse_count = it.get_collapse_count();
        return 0;
    } catch (...) {
        xc_swallow();
        return -1;
    }
}

extern "C" int xc_mset_facet(const xc_mset *ms, unsigned k, unsigned max,
                             void (*cb)(const char *value, size_t len, unsigned count, void *ctx),
                             void *ctx)
{
    try {
        xc_fault_point();
        if (k >= ms->spies.size())
            return -1;
        const Xapian::ValueCountMatchSpy &spy = *ms->spies[k];
        if (max == 0) {
            /* Not top_values_begin(huge): it reserves room for max values first. */
            for (Xapian::TermIterator t = spy.values_begin(); t != spy.values_end(); ++t) {
                std::string v = *t;
                cb(v.data(), v.size(), t.get_termfreq(), ctx);
            }
            return 0;
        }
        for (Xapian::TermIterator t = spy.top_values_begin(max); t != spy.top_values_end(max);
             ++t) {
            std::string v = *t;
            cb(v.data(), v.size(), t.get_termfreq(), ctx);
        }
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" double xc_term_weight(xc_db *db, const char *term, const char *idterm,
                                 const xc_match_opts *opts, xc_error **err)
{
    XC_TRY
    Xapian::Enquire enq(db->db);
    if (opts && (opts->bm25_k1 > 0 || opts->bm25_b > 0)) {
        double k1 = opts->bm25_k1 > 0 ? opts->bm25_k1 : 1.2;
        double b = opts->bm25_b > 0 ? opts->bm25_b : 0.75;
        double mn = opts->bm25_min_normlen >= 0 ? opts->bm25_min_normlen : 0.5;
        enq.set_weighting_scheme(Xapian::BM25Weight(k1, 0, 1, b, mn));
    }
    /* OP_FILTER weighs by its left side only, with the whole database's statistics. */
    enq.set_query(Xapian::Query(Xapian::Query::OP_FILTER, Xapian::Query(term),
                                Xapian::Query(idterm)));
    Xapian::MSet ms = enq.get_mset(0, 1);
    return ms.empty() ? 0.0 : ms.begin().get_weight();
    XC_CATCH(err, 0.0)
}

extern "C" xc_query *xc_query_similar(xc_db *db, unsigned docid, unsigned nterms,
                                      int (*accept)(const char *term, size_t len),
                                      xc_error **err)
{
    XC_TRY
    Xapian::Enquire enq(db->db);
    Xapian::RSet rs;
    rs.add_document(docid);
    struct Decider : public Xapian::ExpandDecider {
        int (*accept)(const char *, size_t);
        bool operator()(const std::string &t) const override
        {
            return !accept || accept(t.data(), t.size());
        }
    } decider;
    decider.accept = accept;
    Xapian::ESet es = enq.get_eset(nterms, rs, &decider);
    std::vector<std::string> terms;
    for (Xapian::ESetIterator e = es.begin(); e != es.end(); ++e)
        terms.push_back(*e);
    return new xc_query{Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end())};
    XC_CATCH(err, NULL)
}

extern "C" char *xc_db_spelling(xc_db *db, const char *word, xc_error **err)
{
    XC_TRY
    return xc_strdup(db->db.get_spelling_suggestion(word, 2));
    XC_CATCH(err, NULL)
}

extern "C" long xc_spelling_merge(const char *const *srcs, size_t n, const char *dest,
                                  xc_error **err)
{
    XC_TRY
    Xapian::WritableDatabase out(dest, Xapian::DB_CREATE_OR_OVERWRITE);
    long words = 0;
    for (size_t i = 0; i < n; i++) {
        Xapian::Database in(srcs[i]);
        for (Xapian::TermIterator t = in.spellings_begin(); t != in.spellings_end(); ++t) {
            out.add_spelling(*t, t.get_termfreq());
            words++;
        }
    }
    out.commit();
    return words;
    XC_CATCH(err, -1)
}

extern "C" int xc_db_compact(const char *const *srcs, size_t n, const char *dest,
                             xc_error **err)
{
    XC_TRY
    Xapian::Database in;
    for (size_t i = 0; i < n; i++)
        in.add_database(Xapian::Database(srcs[i]));
    unsigned flags = Xapian::Compactor::FULL;
    if (n == 1)
        flags |= Xapian::DBCOMPACT_NO_RENUMBER;
    in.compact(dest, flags);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" void xc_termgen_set_spelling(xc_termgen *tg, xc_wdb *wdb)
{
    try {
        tg->tg.set_database(wdb->db);
        tg->spelling_db = true;
    } catch (...) {
    }
}

extern "C" void xc_termgen_spelling(xc_termgen *tg, int on)
{
    if (!tg->spelling_db)
        return;
    tg->tg.set_flags(on ? Xapian::TermGenerator::FLAG_CJK_NGRAM |
                              Xapian::TermGenerator::FLAG_SPELLING
                        : Xapian::TermGenerator::FLAG_CJK_NGRAM);
}

extern "C" char *xc_mset_value(xc_mset *ms, unsigned i, unsigned slot, size_t *len,
                               xc_error **err)
{
    XC_TRY
    if (i >= ms->ms.size())
        throw Xapian::InvalidArgumentError("hit index out of range");
    std::string s = ms->ms[i].get_document().get_value(slot);
    if (len)
        *len = s.size();
    return xc_strdup(s);
    XC_CATCH(err, NULL)
}

extern "C" char *xc_mset_data(xc_mset *ms, unsigned i, size_t *len, xc_error **err)
{
    XC_TRY
    if (i >= ms->ms.size())
        throw Xapian::InvalidArgumentError("hit index out of range");
    std::string s = ms->ms[i].get_document().get_data();
    if (len)
        *len = s.size();
    return xc_strdup(s);
    XC_CATCH(err, NULL)
}

/* ---- Unicode -------------------------------------------------------------------------- */

extern "C" unsigned xc_unicode_class(unsigned cp, unsigned *lower)
{
    /* Xapian::Unicode's functions are table lookups that cannot throw. */
    const unsigned STEM_MASK = (1u << Xapian::Unicode::LOWERCASE_LETTER) |
                               (1u << Xapian::Unicode::TITLECASE_LETTER) |
                               (1u << Xapian::Unicode::MODIFIER_LETTER) |
                               (1u << Xapian::Unicode::OTHER_LETTER);
    Xapian::Unicode::category cat = Xapian::Unicode::get_category(cp);
    unsigned c = 0;
    if (Xapian::Unicode::is_wordchar(cp))
        c |= XC_UC_WORD;
    if (cat == Xapian::Unicode::DECIMAL_DIGIT_NUMBER)
        c |= XC_UC_DIGIT;
    if ((STEM_MASK >> cat) & 1)
        c |= XC_UC_STEM;
    if (lower)
        *lower = Xapian::Unicode::tolower(cp);
    return c;
}

/* ---- query walk ----------------------------------------------------------------------- */

/* The number after " PHRASE " in a phrase's description: its window. Xapian 1.4 has no
 * accessor for it (nor for a wildcard's pattern, below), so both are read from
 * get_description(), whose format for these two is stable across 1.4. */
static unsigned xc_phrase_window(const Xapian::Query &q)
{
    std::string d = q.get_description();
    size_t at = d.find(" PHRASE ");
    if (at == std::string::npos)
        return 0;
    return static_cast<unsigned>(std::strtoul(d.c_str() + at + 8, NULL, 10));
}

/* A wildcard's pattern: "Query(WILDCARD SYNONYM petro)" -> "petro". Terms holding a
 * backslash or a control character are escaped in a description (\xNN): unescaped here. */
static std::string xc_wildcard_pattern(const Xapian::Query &q)
{
    std::string d = q.get_description();
    size_t at = d.find("WILDCARD ");
    if (at == std::string::npos)
        return std::string();
    at = d.find(' ', at + 9);
    if (at == std::string::npos)
        return std::string();
    std::string raw = d.substr(at + 1);
    if (!raw.empty() && raw.back() == ')')
        raw.pop_back();
    std::string out;
    for (size_t i = 0; i < raw.size(); i++) {
        if (raw[i] == '\\' && i + 3 < raw.size() && raw[i + 1] == 'x') {
            out += static_cast<char>(std::strtoul(raw.substr(i + 2, 2).c_str(), NULL, 16));
            i += 3;
        } else {
            out += raw[i];
        }
    }
    return out;
}

extern "C" int xc_query_walk(const xc_query *q, void (*cb)(const xc_qterm *t, void *ctx),
                             void *ctx)
{
    struct Item {
        Xapian::Query q;
        bool excluded;
        unsigned phrase, pos, len;
    };
    try {
        xc_fault_point();
        unsigned nphrases = 0;
        /* An explicit stack (a parsed query nests as deep as its parentheses); children are
         * pushed in reverse so that they come out left to right. */
        std::vector<Item> todo{{q->q, false, 0, 0, 0}};
        while (!todo.empty()) {
            Item it = todo.back();
            todo.pop_back();
            Xapian::Query::op op = it.q.get_type();
            if (op == Xapian::Query::LEAF_TERM) {
                Xapian::TermIterator t = it.q.get_terms_begin();
                if (t == it.q.get_terms_end())
                    continue;
                std::string term = *t;
                if (term.empty())
                    continue;
                xc_qterm qt = {term.data(), term.size(), 0, it.excluded ? 1 : 0,
                               it.phrase,   it.pos,      it.len};
                cb(&qt, ctx);
                continue;
            }
            if (op == Xapian::Query::OP_WILDCARD) {
                std::string pat = xc_wildcard_pattern(it.q);
                if (pat.empty())
                    continue;
                xc_qterm qt = {pat.data(), pat.size(), 1, it.excluded ? 1 : 0, 0, 0, 0};
                cb(&qt, ctx);
                continue;
            }
            size_t n = it.q.get_num_subqueries();
            unsigned phrase = 0;
            if (op == Xapian::Query::OP_PHRASE && n > 1) {
                unsigned window = xc_phrase_window(it.q);
                bool leaves = true;
                for (size_t i = 0; i < n; i++)
                    leaves = leaves && it.q.get_subquery(i).get_type() == Xapian::Query::LEAF_TERM;
                if (leaves && (window == 0 || window == n))
                    phrase = ++nphrases;
            }
            for (size_t i = n; i-- > 0;) {
                bool excl = it.excluded || (op == Xapian::Query::OP_AND_NOT && i > 0);
                if (phrase)
                    todo.push_back({it.q.get_subquery(i), excl, phrase, static_cast<unsigned>(i),
                                    static_cast<unsigned>(n)});
                else
                    todo.push_back({it.q.get_subquery(i), excl, 0, 0, 0});
            }
        }
        return 0;
    } catch (...) {
        xc_swallow();
        return -1;
    }
}

/* ---- oracle ----------------------------------------------------------------------------- */

extern "C" int xc_doc_terms(xc_doc *doc,
                            void (*cb)(const char *term, size_t len, unsigned wdf,
                                       const unsigned *pos, size_t npos, void *ctx),
                            void *ctx, xc_error **err)
{
    XC_TRY
    std::vector<unsigned> pos;
    for (Xapian::TermIterator t = doc->doc.termlist_begin(); t != doc->doc.termlist_end(); ++t) {
        std::string term = *t;
        pos.clear();
        for (Xapian::PositionIterator p = t.positionlist_begin(); p != t.positionlist_end(); ++p)
            pos.push_back(*p);
        cb(term.data(), term.size(), t.get_wdf(), pos.data(), pos.size(), ctx);
    }
    return 0;
    XC_CATCH(err, -1)
}

/* ---- spelling candidates ------------------------------------------------------------------ */

/* Words longer than this (in characters) are never spelling candidates. */
#define XC_SPELL_MAX_CHARS 64

/* Damerau-Levenshtein distance (optimal string alignment) between a[0..n) and b[0..m), in
 * characters; any value above max is reported as max + 1. */
static unsigned xc_edit_distance(const unsigned *a, size_t n, const unsigned *b, size_t m,
                                 unsigned max)
{
    assert(n <= XC_SPELL_MAX_CHARS && m <= XC_SPELL_MAX_CHARS);
    if ((n > m ? n - m : m - n) > max)
        return max + 1;
    unsigned rows[3][XC_SPELL_MAX_CHARS + 1];
    unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = static_cast<unsigned>(j);
    for (size_t i = 1; i <= n; i++) {
        cur[0] = static_cast<unsigned>(i);
        unsigned best = cur[0];
        for (size_t j = 1; j <= m; j++) {
            unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            unsigned v = std::min(std::min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                v = std::min(v, prev2[j - 2] + 1);
            cur[j] = v;
            best = std::min(best, v);
        }
        if (best > max)
            return max + 1;
        unsigned *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return std::min(prev[m], max + 1);
}

/* The characters of s in out (room for XC_SPELL_MAX_CHARS); their count, or
 * XC_SPELL_MAX_CHARS + 1 when s is longer. No allocation: the candidates' scan calls it
 * for every word under a prefix. */
static size_t xc_codepoints(const std::string &s, unsigned *out)
{
    size_t n = 0;
    for (Xapian::Utf8Iterator u(s); u != Xapian::Utf8Iterator(); ++u) {
        if (n == XC_SPELL_MAX_CHARS)
            return XC_SPELL_MAX_CHARS + 1;
        out[n++] = *u;
    }
    return n;
}

/* The number of characters of UTF-8 s (its bytes that do not continue a character). */
static size_t xc_utf8_chars(const std::string &s)
{
    size_t n = 0;
    for (unsigned char c : s)
        n += (c & 0xC0) != 0x80;
    return n;
}

/* The edit distance from the word (wc, n characters) to cand, max + 1 when farther or
 * when cand is too long to compare. Lengths are compared before any character is. */
static unsigned xc_distance_to(const unsigned *wc, size_t n, const std::string &cand,
                               unsigned max)
{
    size_t cn = xc_utf8_chars(cand);
    if ((cn > n ? cn - n : n - cn) > max || cn > XC_SPELL_MAX_CHARS)
        return max + 1;
    unsigned cc[XC_SPELL_MAX_CHARS];
    size_t m = xc_codepoints(cand, cc);
    return m > XC_SPELL_MAX_CHARS ? max + 1 : xc_edit_distance(wc, n, cc, m, max);
}

extern "C" int xc_db_spelling_candidates(xc_db *db, const char *word, unsigned max_edit,
                                         unsigned max_cands,
                                         void (*cb)(const char *cand, size_t len, unsigned dist,
                                                    void *ctx),
                                         void *ctx, xc_error **err)
{
    XC_TRY
    std::string w(word);
    unsigned wc[XC_SPELL_MAX_CHARS];
    size_t wn = xc_codepoints(w, wc);
    if (wn > XC_SPELL_MAX_CHARS)
        return 0;
    std::set<std::string> seen;
    std::string sug = db->db.get_spelling_suggestion(w, max_edit);
    if (!sug.empty() && sug != w) {
        seen.insert(sug);
        cb(sug.data(), sug.size(), xc_distance_to(wc, wn, sug, max_edit), ctx);
    }
    /* Xapian reports only its single best guess: the closest spelling, not the most common
     * one ("blare" -> "blame" with Blair everywhere), and its n-gram search misses some
     * transpositions ("truns" -> "true", not "turns"). So the table's words are scanned
     * too, under the two-character prefixes one edit near the start of the word can leave:
     * its own first two characters (an edit further on), those two swapped (a
     * transposition), the first and third (the second inserted, deleted or swapped with
     * the third) and the second and third (the first inserted). Each prefix holds few words,
     * cheap to compare; the caller ranks them all. */
    if (wn >= 2) {
        std::vector<std::vector<unsigned>> prefixes = {{wc[0], wc[1]}, {wc[1], wc[0]}};
        if (wn >= 3) {
            prefixes.push_back({wc[0], wc[2]});
            prefixes.push_back({wc[1], wc[2]});
        }
        unsigned reported = 0;
        for (const std::vector<unsigned> &pc : prefixes) {
            std::string prefix;
            for (unsigned c : pc)
                Xapian::Unicode::append_utf8(prefix, c);
            unsigned scanned = 0;
            Xapian::TermIterator t = db->db.spellings_begin();
            if (t != db->db.spellings_end())
                t.skip_to(prefix);
            for (; t != db->db.spellings_end() && reported < max_cands && scanned < 20000;
                 ++t, scanned++) {
                std::string cand = *t;
                if (cand.compare(0, prefix.size(), prefix) != 0)
                    break;
                if (cand == w || seen.count(cand))
                    continue;
                unsigned d = xc_distance_to(wc, wn, cand, max_edit);
                if (d <= max_edit) {
                    seen.insert(cand);
                    cb(cand.data(), cand.size(), d, ctx);
                    reported++;
                }
            }
        }
    }
    return 0;
    XC_CATCH(err, -1)
}

extern "C" char *xc_utf8_lower(const char *s, size_t len, size_t *outlen, xc_error **err)
{
    XC_TRY
    std::string low = Xapian::Unicode::tolower(std::string(s, len));
    if (outlen)
        *outlen = low.size();
    return xc_strdup(low);
    XC_CATCH(err, NULL)
}

/* Walks the terms of db starting with prefix (shared by the reader and the writer). */
template <class DB>
static int xc_allterms(DB &db, const char *prefix, xc_term_cb cb, void *ctx)
{
    for (Xapian::TermIterator t = db.allterms_begin(prefix); t != db.allterms_end(prefix);
         ++t) {
        std::string term = *t;
        if (cb(term.c_str(), term.size(), t.get_termfreq(), ctx))
            break;
    }
    return 0;
}

extern "C" int xc_db_allterms(xc_db *db, const char *prefix, xc_term_cb cb, void *ctx,
                              xc_error **err)
{
    XC_TRY
    return xc_allterms(db->db, prefix, cb, ctx);
    XC_CATCH(err, -1)
}

extern "C" int xc_wdb_allterms(xc_wdb *wdb, const char *prefix, xc_term_cb cb, void *ctx,
                               xc_error **err)
{
    XC_TRY
    return xc_allterms(wdb->db, prefix, cb, ctx);
    XC_CATCH(err, -1)
}
