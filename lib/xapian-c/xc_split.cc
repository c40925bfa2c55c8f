/*
 * xc_split.cc -- a heavy match split in two halves of the docid range, run side by side on
 * two handles of one database (xc_match_opts.split_twin; see xc_int.hh for how the binding
 * is laid out).
 *
 * A match's time goes into walking posting lists, and one match runs on one core: at 10^6
 * documents an AND of common words ("role of the single") takes 10 to 20 ms, while the
 * machine's other core waits. Split in two, each half walks the postings of its own docids
 * (PartSource, xc_match.cc: the AND with it skips to the half's first docid and ends after
 * its last), each on its own Database handle, since a handle is not for two threads.
 *
 * The merge is exact. A document's weight depends on the whole database's statistics
 * (document count, term frequencies, lengths), which both halves read from the same
 * revision, and on the document itself: the half that weighs it computes the very double
 * one match would. Each half returns its best offset+limit hits in Xapian's order (weight
 * descending, then docid ascending); the merge keeps that order and cuts the same window.
 * Counting needs no merge either: each match is in one half, so exact counts add up.
 */
#include "xc_int.hh"

#include <pthread.h>
#include <sched.h>

#include <exception>

extern "C" int xc_match_can_split(const xc_match_opts *opts)
{
    /* Exact totals of a collapsed match count distinct keys, which two halves cannot add
     * up: a key may have documents in both. */
    bool exact_collapsed = opts->collapse_slot >= 0 && opts->check_at_least > 0;
    return opts->limit > 0 && opts->nfacets == 0 && !exact_collapsed && opts->sort_slot < 0 &&
           !opts->count_only && !opts->fetch && !opts->facets_apart;
}

/* The best want hits of half `part` of query on db. */
static Xapian::MSet match_half(const Xapian::Database &db, const Xapian::Query &query,
                               const xc_match_opts *opts,
                               const std::shared_ptr<xc_deadline> &deadline, unsigned part,
                               unsigned want)
{
    Xapian::Enquire enq(db);
    enq.set_query(xc_match_part_query(query, deadline, part, 2));
    xc_enquire_configure(enq, opts);
    return enq.get_mset(0, want, opts->check_at_least);
}

/* A hit of one half, with its collapse key (empty: none, or not collapsing). */
struct half_hit {
    xc_hit hit;
    std::string key;
};

/* Xapian's order of hits: weight descending, then docid ascending. */
static bool ranks_before(const half_hit &a, const half_hit &b)
{
    return a.hit.weight > b.hit.weight || (a.hit.weight == b.hit.weight && a.hit.docid < b.hit.docid);
}

static std::vector<half_hit> hits_of(const Xapian::MSet &ms, bool collapsing)
{
    std::vector<half_hit> out;
    out.reserve(ms.size());
    for (Xapian::MSetIterator it = ms.begin(); it != ms.end(); ++it) {
        half_hit h;
        h.hit.docid = *it;
        h.hit.rank = 0;
        h.hit.weight = it.get_weight();
        h.hit.collapse_count = it.get_collapse_count();
        if (collapsing)
            h.key = it.get_collapse_key();
        out.push_back(std::move(h));
    }
    return out;
}

/* The halves' hits in one ranking; collapsing, a key held by both halves keeps its better
 * document, which counts the other and what that one had collapsed. Returns how many keys
 * were held by both. */
static size_t merge_hits(const std::vector<half_hit> &a, const std::vector<half_hit> &b,
                         std::vector<half_hit> &out)
{
    std::vector<half_hit> all(a.size() + b.size());
    std::merge(a.begin(), a.end(), b.begin(), b.end(), all.begin(), ranks_before);
    std::unordered_map<std::string, size_t> kept; /* key -> index in out */
    size_t both = 0;
    for (half_hit &h : all) {
        if (!h.key.empty()) {
            auto at = kept.find(h.key);
            if (at != kept.end()) {
                out[at->second].hit.collapse_count += h.hit.collapse_count + 1;
                both++;
                continue;
            }
            kept.emplace(h.key, out.size());
        }
        out.push_back(std::move(h));
    }
    return both;
}

/* The second half's work, run by helper_main in a thread of its own. */
struct helper_job {
    const std::string *wire; /* the query, serialised */
    xc_db *twin;
    const xc_match_opts *opts;
    const std::shared_ptr<xc_deadline> *deadline;
    unsigned want;
    Xapian::MSet result;
    std::exception_ptr failed;
};

static void *helper_main(void *arg)
{
    helper_job *job = static_cast<helper_job *>(arg);
    try {
        Xapian::Query own = Xapian::Query::unserialise(*job->wire);
        job->result = match_half(job->twin->db, own, job->opts, *job->deadline, 1, job->want);
    } catch (...) {
        job->failed = std::current_exception();
    }
    return nullptr;
}

/* Starts the helper on a core other than this thread's. Left to itself the scheduler
 * queues a new thread beside its parent and lets an idle core (halted, on a virtual
 * machine) take it over only later: measured here, a thread started after 2 ms of idleness
 * began 1.0 ms late on average, about when its parent's own half was done, and 60 to 80 us
 * late with the parent's core left out of its affinity. Returns 0, or an errno. */
static int helper_start(pthread_t *thread, helper_job *job)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return EAGAIN;
    cpu_set_t cpus;
    int here = sched_getcpu();
    if (here >= 0 && sched_getaffinity(0, sizeof cpus, &cpus) == 0 && here < CPU_SETSIZE &&
        CPU_ISSET(here, &cpus) && CPU_COUNT(&cpus) > 1) {
        CPU_CLR(here, &cpus);
        pthread_attr_setaffinity_np(&attr, sizeof cpus, &cpus);
    }
    int rc = pthread_create(thread, &attr, helper_main, job);
    pthread_attr_destroy(&attr);
    return rc;
}

xc_mset *xc_enquire_split(xc_db *db, xc_db *twin, const Xapian::Query &query,
                          const xc_match_opts *opts,
                          const std::shared_ptr<xc_deadline> &deadline)
{
    assert(xc_match_can_split(opts));
    unsigned want = opts->offset + opts->limit;
    if (want < opts->offset)
        want = ~0u; /* offset + limit overflowed: every hit */
    /* A Query's internals are reference-counted without locks: the helper gets a copy of
     * its own, rebuilt from the serialised form, not a handle on this one. */
    const std::string wire = query.serialise();
    helper_job job{&wire, twin, opts, &deadline, want, Xapian::MSet(), nullptr};
    pthread_t helper;
    if (helper_start(&helper, &job) != 0)
        throw std::bad_alloc(); /* no thread to be had: as out of memory */
    Xapian::MSet lower;
    try {
        lower = match_half(db->db, query, opts, deadline, 0, want);
    } catch (...) {
        pthread_join(helper, nullptr);
        throw;
    }
    pthread_join(helper, nullptr);
    if (job.failed)
        std::rethrow_exception(job.failed);
    const Xapian::MSet &upper = job.result;

    /* Each half holds its best `want` hits (after collapsing, its best `want` keys). A hit
     * of the whole's first `want` ranks among the first `want` of its own half too: what
     * ranks above it in its half ranks above it in the whole. So the merge of the two
     * lists starts with the whole's first `want`. */
    bool collapsing = opts->collapse_slot >= 0;
    std::vector<half_hit> merged;
    size_t both = merge_hits(hits_of(lower, collapsing), hits_of(upper, collapsing), merged);
    std::unique_ptr<xc_mset> ms(new xc_mset);
    ms->merged = true;
    for (size_t i = opts->offset; i < merged.size() && ms->hits.size() < opts->limit; i++) {
        merged[i].hit.rank = static_cast<unsigned>(i);
        ms->hits.push_back(merged[i].hit);
    }
    unsigned long est = static_cast<unsigned long>(lower.get_matches_estimated()) +
                        upper.get_matches_estimated();
    unsigned long lo = static_cast<unsigned long>(lower.get_matches_lower_bound()) +
                       upper.get_matches_lower_bound();
    unsigned long hi = static_cast<unsigned long>(lower.get_matches_upper_bound()) +
                       upper.get_matches_upper_bound();
    if (collapsing) {
        /* Keys held by both halves are counted in each: the larger half's lower bound is
         * still one, and the estimate drops the keys seen twice. */
        lo = std::max(lower.get_matches_lower_bound(), upper.get_matches_lower_bound());
        lo = std::max<unsigned long>(lo, std::min<size_t>(merged.size(), ~0u));
        est = est > both ? est - both : 0;
    }
    est = std::min(std::max(est, lo), hi);
    const unsigned long cap = ~0u;
    /* Before collapsing, the halves' documents are apart: their counts add up. */
    auto sum = [cap](Xapian::doccount a, Xapian::doccount b) {
        return static_cast<unsigned>(std::min<unsigned long>(static_cast<unsigned long>(a) + b, cap));
    };
    ms->u_estimated = sum(lower.get_uncollapsed_matches_estimated(),
                          upper.get_uncollapsed_matches_estimated());
    ms->u_lower = sum(lower.get_uncollapsed_matches_lower_bound(),
                      upper.get_uncollapsed_matches_lower_bound());
    ms->u_upper = sum(lower.get_uncollapsed_matches_upper_bound(),
                      upper.get_uncollapsed_matches_upper_bound());
    ms->estimated = static_cast<unsigned>(std::min(est, cap));
    ms->lower = static_cast<unsigned>(std::min(lo, cap));
    ms->upper = static_cast<unsigned>(std::min(hi, cap));
    ms->timed_out = xc_deadline_hit(deadline);
    return ms.release();
}
