/*
 * xc_query.cc -- stemming, query parsing, and walking a parsed query's terms with their roles (see xc_int.hh for how the binding is laid out).
 */
#include "xc_int.hh"

/* ---- stemming -------------------------------------------------------------------- */

extern "C" xc_stem *xc_stem_new(const char *lang, xc_error **err)
{
    XC_TRY_PURE
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
        xc_fault_point(false);
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
    XC_TRY_PURE
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
    XC_TRY_PURE
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
    XC_TRY_PURE
    qp->qp.add_prefix(field, prefix);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_qp_add_boolean_prefix(xc_qp *qp, const char *field, const char *prefix,
                                        xc_error **err)
{
    XC_TRY_PURE
    qp->qp.add_boolean_prefix(field, prefix);
    return 0;
    XC_CATCH(err, -1)
}

extern "C" int xc_qp_add_date_range(xc_qp *qp, const char *field, unsigned slot,
                                    xc_error **err)
{
    XC_TRY_PURE
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

/* A filter field: hands each value to the C function. A refusal is kept in the xc_qp
 * (which owns the parser that owns this processor) and the value matches nothing;
 * xc_qp_parse then reports it as XC_ERR_FIELD. Nothing is thrown: libxapian 1.4.22's
 * parser frees memory it does not own while an exception from a field processor unwinds
 * it after a negated field ('-date:x "a"': a bad free under AddressSanitizer, found by
 * fuzz_request). */
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
                owner->field_nomem = true;
            else if (owner->field_error.empty())
                owner->field_error = why;
            return Xapian::Query(Xapian::Query::MatchNothing);
        }
        Xapian::Query r = q->q;
        delete q;
        return r;
    }
};

extern "C" int xc_qp_add_filter_field(xc_qp *qp, const char *field, xc_field_fn fn,
                                      xc_error **err)
{
    XC_TRY_PURE
    qp->qp.add_boolean_prefix(field, (new FilterField(qp, field, fn))->release());
    return 0;
    XC_CATCH(err, -1)
}

extern "C" xc_query *xc_qp_parse(xc_qp *qp, const char *text, unsigned flags, xc_error **err)
{
    XC_TRY
    qp->corrected.clear();
    qp->field_error.clear();
    qp->field_nomem = false;
    Xapian::Query q;
    try {
        q = qp->qp.parse_query(text, flags);
    } catch (const Xapian::QueryParserError &) {
        if (qp->field_error.empty() && !qp->field_nomem)
            throw;
    }
    if (qp->field_nomem)
        throw std::bad_alloc();
    if (!qp->field_error.empty()) {
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
    XC_TRY_PURE
    return new xc_query{Xapian::Query(term)};
    XC_CATCH(err, NULL)
}

extern "C" xc_query *xc_query_value_range(unsigned slot, const char *lo, const char *hi,
                                          xc_error **err)
{
    XC_TRY_PURE
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
    XC_TRY_PURE
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
    XC_TRY_PURE
    return new xc_query{Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q->q, factor)};
    XC_CATCH(err, NULL)
}

extern "C" xc_query *xc_query_filter(const xc_query *q, const xc_query *filter, xc_error **err)
{
    XC_TRY_PURE
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
        xc_fault_point(false);
        return xc_strdup(q->q.get_description());
    } catch (...) {
        return NULL;
    }
}

extern "C" int xc_query_terms(const xc_query *q,
                              void (*cb)(const char *term, size_t len, void *ctx), void *ctx)
{
    try {
        xc_fault_point(false);
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

/* ---- query walk ----------------------------------------------------------------------- */

/* The number after " PHRASE " or " NEAR " in the description of a phrase or NEAR of terms:
 * its window ("(muse@1 NEAR 4 spark@2)"). Xapian 1.4 has no accessor for it (nor for a
 * wildcard's pattern, below), so both are read from get_description(), whose format for
 * these is stable across 1.4. */
static unsigned xc_phrase_window(const Xapian::Query &q, const char *opname)
{
    std::string d = q.get_description();
    size_t at = d.find(opname);
    if (at == std::string::npos)
        return 0;
    return static_cast<unsigned>(std::strtoul(d.c_str() + at + std::strlen(opname), NULL, 10));
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
        unsigned phrase, pos, len, window;
        bool near;
    };
    try {
        xc_fault_point(false);
        unsigned nphrases = 0;
        /* An explicit stack (a parsed query nests as deep as its parentheses); children are
         * pushed in reverse so that they come out left to right. */
        std::vector<Item> todo{{q->q, false, 0, 0, 0, 0, false}};
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
                xc_qterm qt = {term.data(), term.size(), 0,         it.excluded ? 1 : 0,
                               it.phrase,   it.pos,      it.len,    it.window,
                               it.near ? 1 : 0};
                cb(&qt, ctx);
                continue;
            }
            if (op == Xapian::Query::OP_WILDCARD) {
                std::string pat = xc_wildcard_pattern(it.q);
                if (pat.empty())
                    continue;
                xc_qterm qt = {pat.data(), pat.size(), 1, it.excluded ? 1 : 0, 0, 0, 0, 0, 0};
                cb(&qt, ctx);
                continue;
            }
            size_t n = it.q.get_num_subqueries();
            unsigned phrase = 0, window = 0;
            bool near = op == Xapian::Query::OP_NEAR;
            if ((op == Xapian::Query::OP_PHRASE || near) && n > 1) {
                bool leaves = true;
                for (size_t i = 0; i < n; i++)
                    leaves = leaves && it.q.get_subquery(i).get_type() == Xapian::Query::LEAF_TERM;
                if (leaves) {
                    phrase = ++nphrases;
                    window = xc_phrase_window(it.q, near ? " NEAR " : " PHRASE ");
                    /* A window of 0 (or less than the words) is the words' number. */
                    if (window < n)
                        window = static_cast<unsigned>(n);
                }
            }
            for (size_t i = n; i-- > 0;) {
                bool excl = it.excluded || (op == Xapian::Query::OP_AND_NOT && i > 0);
                if (phrase)
                    todo.push_back({it.q.get_subquery(i), excl, phrase, static_cast<unsigned>(i),
                                    static_cast<unsigned>(n), window, near});
                else
                    todo.push_back({it.q.get_subquery(i), excl, 0, 0, 0, 0, false});
            }
        }
        return 0;
    } catch (...) {
        xc_swallow();
        return -1;
    }
}
