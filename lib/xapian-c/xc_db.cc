/*
 * xc_db.cc -- databases (read-only and writable), documents and term lists (see xc_int.hh for how the binding is laid out).
 */
#include "xc_int.hh"

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
    XC_TRY_PURE
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

extern "C" int xc_db_same(xc_db *a, xc_db *b)
{
    try {
        if (a->db.size() != 1 || b->db.size() != 1)
            return 0;
        Xapian::rev r = a->db.get_revision();
        return r != 0 && r == b->db.get_revision() && a->db.get_uuid() == b->db.get_uuid();
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

extern "C" char *xc_db_hit_data(xc_db *db, unsigned docid, size_t *len, xc_error **err)
{
    XC_TRY
    std::string s = db->db.get_document(docid, Xapian::DOC_ASSUME_VALID).get_data();
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

extern "C" void *xc_db_doc_value_lend(xc_db *db, unsigned docid, unsigned slot,
                                      void *(*fn)(const char *value, size_t len, void *ctx),
                                      void *ctx, xc_error **err)
{
    XC_TRY
    std::string s = db->db.get_document(docid, Xapian::DOC_ASSUME_VALID).get_value(slot);
    return fn(s.data(), s.size(), ctx);
    XC_CATCH(err, NULL)
}

extern "C" char *xc_db_metadata(xc_db *db, const char *key, xc_error **err)
{
    XC_TRY
    return xc_strdup(db->db.get_metadata(key));
    XC_CATCH(err, NULL)
}

extern "C" long xc_db_value_repeats(xc_db *db, unsigned slot, xc_error **err)
{
    XC_TRY
    std::unordered_set<std::string> values;
    long docs = 0;
    for (Xapian::ValueIterator v = db->db.valuestream_begin(slot);
         v != db->db.valuestream_end(slot); ++v, ++docs)
        values.insert(*v);
    return docs - static_cast<long>(values.size());
    XC_CATCH(err, -1)
}

extern "C" unsigned xc_db_termfreq(xc_db *db, const char *term, xc_error **err)
{
    XC_TRY
    return db->db.get_termfreq(term);
    XC_CATCH(err, 0)
}

extern "C" int xc_db_cooccur(xc_db *db, const char *const *terms, size_t n, xc_error **err)
{
    XC_TRY
    if (n == 0)
        throw Xapian::InvalidArgumentError("no terms");
    std::vector<Xapian::PostingIterator> its;
    its.reserve(n);
    for (size_t k = 0; k < n; k++)
        its.push_back(db->db.postlist_begin(terms[k]));
    const Xapian::PostingIterator end; /* every posting list's end */
    if (its[0] == end)
        return 0;
    Xapian::docid did = *its[0];
    for (;;) {
        /* did is in the first list: is it in all the others? */
        size_t k = 1;
        for (; k < n; k++) {
            its[k].skip_to(did);
            if (its[k] == end)
                return 0;
            if (*its[k] != did)
                break;
        }
        if (k == n)
            return 1;
        its[0].skip_to(*its[k]);
        if (its[0] == end)
            return 0;
        did = *its[0];
    }
    XC_CATCH(err, -1)
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
    XC_TRY_PURE
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
    XC_TRY_PURE
    doc->doc.set_data(std::string(data, len));
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_doc_set_value(xc_doc *doc, unsigned slot, const char *data, size_t len,
                                xc_error **err)
{
    XC_TRY_PURE
    doc->doc.add_value(slot, std::string(data, len));
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_doc_add_boolean_term(xc_doc *doc, const char *term, xc_error **err)
{
    XC_TRY_PURE
    doc->doc.add_boolean_term(term);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" xc_termgen *xc_termgen_new(const char *lang, xc_error **err)
{
    XC_TRY_PURE
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

/* Repeated values: each document of db whose value in slot another document holds too,
 * with that value. One pass over the slot's value stream; values of one hash compared. */
typedef std::unordered_map<Xapian::docid, std::string> repeat_map;

static repeat_map find_repeats(const Xapian::Database &db, unsigned slot)
{
    std::vector<std::pair<size_t, Xapian::docid>> seen;
    seen.reserve(db.get_value_freq(slot));
    std::hash<std::string> hash;
    for (Xapian::ValueIterator v = db.valuestream_begin(slot); v != db.valuestream_end(slot);
         ++v)
        seen.emplace_back(hash(*v), v.get_docid());
    std::sort(seen.begin(), seen.end());
    repeat_map repeats;
    for (size_t i = 0; i < seen.size();) {
        size_t j = i + 1;
        while (j < seen.size() && seen[j].first == seen[i].first)
            j++;
        if (j - i > 1) {
            std::unordered_map<std::string, std::vector<Xapian::docid>> byvalue;
            for (size_t k = i; k < j; k++)
                byvalue[db.get_document(seen[k].second).get_value(slot)].push_back(
                    seen[k].second);
            for (auto &group : byvalue)
                if (group.second.size() > 1)
                    for (Xapian::docid did : group.second)
                        repeats.emplace(did, group.first);
        }
        i = j;
    }
    return repeats;
}

/* Makes mark_slot of db hold exactly repeats: marks that stay, go or change, then the new
 * ones. Only documents whose mark changes are rewritten. Consumes repeats. */
static void write_marks(Xapian::WritableDatabase &db, unsigned mark_slot, repeat_map &repeats)
{
    std::vector<Xapian::docid> stale;
    for (Xapian::ValueIterator v = db.valuestream_begin(mark_slot);
         v != db.valuestream_end(mark_slot); ++v) {
        auto it = repeats.find(v.get_docid());
        if (it != repeats.end() && it->second == *v)
            repeats.erase(it);
        else
            stale.push_back(v.get_docid());
    }
    for (Xapian::docid did : stale) {
        Xapian::Document doc = db.get_document(did);
        auto it = repeats.find(did);
        if (it != repeats.end()) {
            doc.add_value(mark_slot, it->second);
            repeats.erase(it);
        } else {
            doc.remove_value(mark_slot);
        }
        db.replace_document(did, doc);
    }
    for (auto &r : repeats) {
        Xapian::Document doc = db.get_document(r.first);
        doc.add_value(mark_slot, r.second);
        db.replace_document(r.first, doc);
    }
}

extern "C" int xc_wdb_mark_repeats(xc_wdb *wdb, unsigned slot, unsigned mark_slot,
                                   xc_error **err)
{
    XC_TRY
    repeat_map repeats = find_repeats(wdb->db, slot);
    int any = !repeats.empty();
    write_marks(wdb->db, mark_slot, repeats);
    return any;
    XC_CATCH(err, -1)
}

extern "C" int xc_mark_repeats_across(const char *const *paths, size_t n, unsigned slot,
                                      unsigned mark_slot, xc_error **err)
{
    XC_TRY
    assert(n >= 1);
    /* Read together, the databases number their documents in turn: document did of the
     * whole is document (did - 1) / n + 1 of database (did - 1) % n. */
    Xapian::Database all;
    for (size_t k = 0; k < n; k++)
        all.add_database(Xapian::Database(paths[k]));
    repeat_map repeats = find_repeats(all, slot);
    int any = !repeats.empty();
    std::vector<repeat_map> each(n);
    for (auto &r : repeats)
        each[(r.first - 1) % n].emplace((r.first - 1) / n + 1, std::move(r.second));
    repeats.clear();
    all.close();
    for (size_t k = 0; k < n; k++) {
        Xapian::WritableDatabase db(paths[k], Xapian::DB_OPEN);
        write_marks(db, mark_slot, each[k]);
        db.commit();
    }
    return any;
    XC_CATCH(err, -1)
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
