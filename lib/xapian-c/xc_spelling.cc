/*
 * xc_spelling.cc -- spelling candidates: close spellings from the spelling table, by edit distance (see xc_int.hh for how the binding is laid out).
 */
#include "xc_int.hh"

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
