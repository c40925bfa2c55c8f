/*
 * xc_match.cc -- matching: enquire with deadlines, facets and collapsing, and reading msets (see xc_int.hh for how the binding is laid out).
 */
#include "xc_int.hh"

/* ---- matching -------------------------------------------------------------------- */

/* A match deadline, shared by the sources of one match (a clone per sub-database, and the
 * two halves of a split match, which run in two threads). */
struct xc_deadline {
    struct timespec at;            /* CLOCK_MONOTONIC */
    std::atomic<bool> hit{false};  /* a source ended because the clock passed `at` */
};

/* The documents of one part of the docid range, with weight 0, until a deadline passes;
 * then at_end(). Part `part` of `nparts` of a sub-database whose last docid is L holds the
 * docids L*part/nparts+1 .. L*(part+1)/nparts; one part (nparts 1) holds them all.
 *
 * Xapian's Enquire::set_time_limit() only stops the matcher from checking more candidates
 * for the *top* documents; it does not end a match. A posting source that ends does: as
 * the right side of OP_FILTER it is asked about each candidate, and once it is at its end
 * the AND is too, so the matcher stops there and ranks what it has seen, with sorting,
 * collapsing and match spies all inside that loop. The same AND makes the left side skip
 * to the part's first docid and end after its last: that is how a split match
 * (xc_split.cc) gives each half its own documents.
 *
 * The source claims every docid of its part, deleted ones included: it is only ever ANDed
 * with the real query, which yields existing documents. Whole (nparts 1), its term
 * frequencies are the document count, so the AND's estimates equal the query's while the
 * deadline holds; a part claims its share of them. Reading CLOCK_MONOTONIC costs ~20 ns
 * (vDSO), a candidate a few hundred; it is read on the first call (a deadline spent before
 * the match shows at once) and every 64th after.
 *
 * It has no name() and so cannot be serialised: a remote backend refuses the query with
 * Xapian::UnimplementedError (XC_ERR_UNSUPPORTED). */
class PartSource : public Xapian::PostingSource
{
    std::shared_ptr<xc_deadline> deadline; /* NULL: none */
    unsigned part, nparts;
    Xapian::doccount ndocs = 0;
    Xapian::docid first = 1, last = 0, current = 0;
    unsigned countdown = 0;
    bool ended = false;

    static const unsigned CHECK_EVERY = 64;

    /* Called on every move; ends the source when the deadline has passed. */
    void tick()
    {
        if (!deadline)
            return;
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

    /* Moves to did, or to the part's first docid, or past its last (the natural end). */
    void move_to(Xapian::docid did)
    {
        tick();
        if (ended)
            return;
        if (did < first)
            did = first;
        if (did > last)
            ended = true;
        else if (did > current)
            current = did;
    }

    /* The part's share of n: n * (docids in the part) / (all docids). */
    Xapian::doccount share(Xapian::doccount n, Xapian::docid lastdocid) const
    {
        if (nparts == 1 || lastdocid == 0)
            return n;
        return static_cast<Xapian::doccount>(static_cast<unsigned long long>(n) *
                                             (last - first + 1) / lastdocid);
    }

  public:
    PartSource(std::shared_ptr<xc_deadline> d, unsigned part_, unsigned nparts_)
        : deadline(std::move(d)), part(part_), nparts(nparts_)
    {
        assert(nparts >= 1 && part < nparts);
    }

    /* One per sub-database, all sharing the deadline and its flag. */
    Xapian::PostingSource *clone() const override
    {
        return new PartSource(deadline, part, nparts);
    }

    void init(const Xapian::Database &db) override
    {
        Xapian::docid lastdocid = db.get_lastdocid();
        first = static_cast<Xapian::docid>(static_cast<unsigned long long>(lastdocid) * part /
                                           nparts) + 1;
        last = static_cast<Xapian::docid>(static_cast<unsigned long long>(lastdocid) *
                                          (part + 1) / nparts);
        ndocs = share(db.get_doccount(), lastdocid);
        current = first - 1;
        countdown = 0;
        ended = last < first;
    }
    /* Whole, every document is claimed; a part may hold only deleted ones. */
    Xapian::doccount get_termfreq_min() const override
    {
        return nparts == 1 ? ndocs : 0;
    }
    Xapian::doccount get_termfreq_est() const override
    {
        return ndocs;
    }
    Xapian::doccount get_termfreq_max() const override
    {
        return nparts == 1 ? ndocs : last - first + 1;
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
    /* Acts as skip_to, as a source may: the caller then reads where it stopped. */
    bool check(Xapian::docid did, double) override
    {
        move_to(did);
        return true;
    }
    std::string get_description() const override
    {
        return "PartSource()";
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

Xapian::Query xc_match_part_query(const Xapian::Query &query,
                                  const std::shared_ptr<xc_deadline> &deadline, unsigned part,
                                  unsigned nparts)
{
    if (!deadline && nparts == 1)
        return query;
    /* OP_FILTER: the source adds no weight, so ranking is unchanged. */
    return Xapian::Query(Xapian::Query::OP_FILTER, query,
                         Xapian::Query((new PartSource(deadline, part, nparts))->release()));
}

bool xc_deadline_hit(const std::shared_ptr<xc_deadline> &deadline)
{
    return deadline && deadline->hit;
}

/* The BM25 parameters opts asks for (Xapian's defaults where it gives none). */
static void set_bm25(Xapian::Enquire &enq, const xc_match_opts *opts)
{
    if (opts->bm25_k1 > 0 || opts->bm25_b > 0) {
        double k1 = opts->bm25_k1 > 0 ? opts->bm25_k1 : 1.2;
        double b = opts->bm25_b > 0 ? opts->bm25_b : 0.75;
        double mn = opts->bm25_min_normlen >= 0 ? opts->bm25_min_normlen : 0.5;
        enq.set_weighting_scheme(Xapian::BM25Weight(k1, 0, 1, b, mn));
    }
}

void xc_enquire_configure(Xapian::Enquire &enq, const xc_match_opts *opts)
{
    if (opts->count_only && opts->limit == 0)
        enq.set_weighting_scheme(Xapian::BoolWeight());
    else
        set_bm25(enq, opts);
    if (opts->collapse_slot >= 0)
        enq.set_collapse_key(static_cast<Xapian::valueno>(opts->collapse_slot));
    if (opts->sort_slot >= 0)
        enq.set_sort_by_value_then_relevance(static_cast<Xapian::valueno>(opts->sort_slot),
                                             opts->sort_descending != 0);
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
    if (opts->split_twin && xc_match_can_split(opts))
        return xc_enquire_split(db, opts->split_twin, query, opts, deadline);
    Xapian::Enquire enq(db->db);
    enq.set_query(xc_match_part_query(query, deadline, 0, 1));
    xc_enquire_configure(enq, opts);
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
    ms->timed_out = xc_deadline_hit(deadline);
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
    return ms->merged ? static_cast<unsigned>(ms->hits.size()) : ms->ms.size();
}

extern "C" void xc_mset_totals(const xc_mset *ms, unsigned *estimated, unsigned *lower,
                               unsigned *upper)
{
    if (ms->merged) {
        if (estimated)
            *estimated = ms->estimated;
        if (lower)
            *lower = ms->lower;
        if (upper)
            *upper = ms->upper;
        return;
    }
    if (estimated)
        *estimated = ms->ms.get_matches_estimated();
    if (lower)
        *lower = ms->ms.get_matches_lower_bound();
    if (upper)
        *upper = ms->ms.get_matches_upper_bound();
}

extern "C" void xc_mset_uncollapsed_totals(const xc_mset *ms, unsigned *estimated,
                                           unsigned *lower, unsigned *upper)
{
    if (ms->merged) {
        *estimated = ms->u_estimated;
        *lower = ms->u_lower;
        *upper = ms->u_upper;
        return;
    }
    *estimated = ms->ms.get_uncollapsed_matches_estimated();
    *lower = ms->ms.get_uncollapsed_matches_lower_bound();
    *upper = ms->ms.get_uncollapsed_matches_upper_bound();
}

extern "C" int xc_mset_hit(const xc_mset *ms, unsigned i, xc_hit *hit)
{
    try {
        xc_fault_point(false);
        if (ms->merged) {
            if (i >= ms->hits.size())
                return -1;
            *hit = ms->hits[i];
            return 0;
        }
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
        xc_fault_point(false);
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
    if (opts)
        set_bm25(enq, opts);
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
    /* A term no other document holds matches nothing but the document itself, yet ranks
     * first (the rarer, the higher): on a small collection every one of the best nterms
     * can be such a term. So more are ranked and only shared ones kept. */
    Xapian::ESet es = enq.get_eset(nterms * 3, rs, &decider);
    std::vector<std::string> terms;
    for (Xapian::ESetIterator e = es.begin(); e != es.end() && terms.size() < nterms; ++e) {
        if (db->db.get_termfreq(*e) > 1)
            terms.push_back(*e);
    }
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
