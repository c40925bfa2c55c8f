// xapian-baseline: the raw in-process Xapian ceiling that Quire is measured against.
//
//   xapian-baseline index DB CORPUS.jsonl[.gz]...
//   xapian-baseline query DB QUERIES [--threads T] [--seconds S] [--data] [--or]
//   xapian-baseline each DB QUERIES [--runs N] [--or] [--list FILE]
//
// "index" builds DB (overwriting it) the plain way: one thread, one WritableDatabase with
// Xapian's default flush threshold, a TermGenerator with the English stemmer and
// positions, the title indexed with prefix S and unprefixed, then the body; the document
// data is the article id and a boolean Q term names it. It is what a first Xapian program
// does, so its MB/s (of body text) is the indexing bar an indexer built on Xapian starts from.
//
// "query" first runs every query once (warm-up; counts queries without a hit), then runs
// the query file for S seconds on T threads, each with its own Database, Enquire and
// QueryParser (English stemmer, STEM_SOME, default operator AND, or OR with --or), asking
// for the top 10 and
// reading only the docids (--data also reads each hit's document data). It prints queries/s
// and per-query latency percentiles in µs.
//
// "each" times every query alone, one after the other on one thread (no queueing behind
// other queries): one warm-up pass, then N passes (default 3); a query's time is its median
// over the passes. It prints the percentiles of those times in µs, and with --list writes
// one "µs<TAB>hits<TAB>query" line per query to FILE, slowest first: which queries make the
// tail, whatever serves them (tests/bench/scaling.sh puts it beside quired's own times).
//
// Every mode prints one line of key=value pairs on stdout for tests/bench/run.sh to read.
// This is the one program outside lib/xapian-c that includes a Xapian header: a baseline
// must not go through the code it is measuring.

#include <xapian.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- reading JSON Lines (plain or gzip) ------------------------------------------------

// Appends the UTF-8 encoding of code point cp to out.
void appendUtf8(std::string &out, unsigned long cp)
{
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

bool readHex4(const char *p, const char *end, unsigned long &v)
{
    if (end - p < 4)
        return false;
    v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= unsigned(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= unsigned(c - 'A' + 10);
        else
            return false;
    }
    return true;
}

// Parses the JSON string starting at *pp (which points at the opening quote) into out and
// advances *pp past the closing quote. Returns false on malformed input.
bool parseString(const char **pp, const char *end, std::string *out)
{
    const char *p = *pp + 1;
    while (p < end && *p != '"') {
        if (*p != '\\') {
            const char *q = p;
            while (q < end && *q != '"' && *q != '\\')
                q++;
            if (out)
                out->append(p, size_t(q - p));
            p = q;
            continue;
        }
        if (++p >= end)
            return false;
        char c = *p++;
        unsigned long cp;
        switch (c) {
        case 'n': if (out) *out += '\n'; break;
        case 't': if (out) *out += '\t'; break;
        case 'r': if (out) *out += '\r'; break;
        case 'b': if (out) *out += '\b'; break;
        case 'f': if (out) *out += '\f'; break;
        case 'u':
            if (!readHex4(p, end, cp))
                return false;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned long lo;
                if (readHex4(p + 2, end, lo) && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            if (out)
                appendUtf8(*out, cp);
            break;
        default: if (out) *out += c; break; // \" \\ \/
        }
    }
    if (p >= end)
        return false;
    *pp = p + 1;
    return true;
}

// Skips one JSON value of any type (the corpora hold strings, numbers and string lists).
bool skipValue(const char **pp, const char *end)
{
    const char *p = *pp;
    if (p < end && *p == '"')
        return parseString(pp, end, nullptr);
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            if (!parseString(&p, end, nullptr))
                return false;
            continue;
        }
        if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (depth == 0)
                break;
            depth--;
        } else if (c == ',' && depth == 0) {
            break;
        }
        p++;
    }
    *pp = p;
    return true;
}

struct Record {
    std::string id, title, body;
};

// Reads the string fields id, title and body of one flat JSON object line.
bool parseRecord(const char *p, const char *end, Record &r)
{
    r.id.clear();
    r.title.clear();
    r.body.clear();
    auto ws = [&] {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
    };
    ws();
    if (p >= end || *p != '{')
        return false;
    p++;
    std::string key;
    for (;;) {
        ws();
        if (p < end && *p == '}')
            return true;
        if (p >= end || *p != '"')
            return false;
        key.clear();
        if (!parseString(&p, end, &key))
            return false;
        ws();
        if (p >= end || *p != ':')
            return false;
        p++;
        ws();
        std::string *dst = key == "id" ? &r.id : key == "title" ? &r.title : key == "body" ? &r.body : nullptr;
        if (dst && p < end && *p == '"') {
            if (!parseString(&p, end, dst))
                return false;
        } else if (!skipValue(&p, end)) {
            return false;
        }
        ws();
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return p < end && *p == '}';
    }
}

// Calls fn(line) for every line of a .jsonl or .jsonl.gz file (zlib reads both).
template <class Fn> bool forEachLine(const char *path, Fn fn)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        std::fprintf(stderr, "xapian-baseline: cannot open %s\n", path);
        return false;
    }
    gzbuffer(f, 1 << 20);
    std::vector<char> buf(1 << 20);
    std::string line;
    int n;
    while ((n = gzread(f, buf.data(), unsigned(buf.size()))) > 0) {
        const char *p = buf.data(), *end = p + n;
        while (p < end) {
            const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
            if (!nl) {
                line.append(p, size_t(end - p));
                break;
            }
            if (line.empty()) {
                fn(p, nl);
            } else {
                line.append(p, size_t(nl - p));
                fn(line.data(), line.data() + line.size());
                line.clear();
            }
            p = nl + 1;
        }
    }
    if (!line.empty())
        fn(line.data(), line.data() + line.size());
    bool ok = n == 0;
    gzclose(f);
    if (!ok)
        std::fprintf(stderr, "xapian-baseline: read error in %s\n", path);
    return ok;
}

// ---- index ----------------------------------------------------------------------------

int runIndex(const char *dbPath, int ncorpora, char **corpora)
{
    auto t0 = Clock::now();
    Xapian::WritableDatabase db(dbPath, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_stemmer(Xapian::Stem("english"));
    Record r;
    unsigned long docs = 0, bad = 0;
    unsigned long long bodyBytes = 0;
    for (int i = 0; i < ncorpora; i++) {
        bool ok = forEachLine(corpora[i], [&](const char *p, const char *end) {
            if (p == end)
                return;
            if (!parseRecord(p, end, r) || r.id.empty()) {
                bad++;
                return;
            }
            Xapian::Document doc;
            tg.set_document(doc);
            tg.index_text(r.title, 1, "S");
            tg.index_text(r.title);
            tg.increase_termpos();
            tg.index_text(r.body);
            doc.add_boolean_term("Q" + r.id);
            doc.set_data(r.id);
            db.add_document(doc);
            docs++;
            bodyBytes += r.body.size();
        });
        if (!ok)
            return 1;
    }
    db.commit();
    db.close();
    double secs = secondsSince(t0);
    std::printf("docs=%lu bad=%lu body_bytes=%llu seconds=%.3f mb_per_s=%.3f\n", docs, bad, bodyBytes,
                secs, double(bodyBytes) / 1e6 / secs);
    return 0;
}

// ---- query ----------------------------------------------------------------------------

struct Searcher {
    Xapian::Database db;
    Xapian::Enquire enquire;
    Xapian::QueryParser qp;
    bool data;

    Searcher(const char *path, bool wantData, bool orMode) : db(path), enquire(db), data(wantData)
    {
        qp.set_stemmer(Xapian::Stem("english"));
        qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        qp.set_default_op(orMode ? Xapian::Query::OP_OR : Xapian::Query::OP_AND);
        qp.set_database(db);
    }

    // Runs one query for the top 10; returns the number of hits read.
    unsigned run(const std::string &text)
    {
        enquire.set_query(qp.parse_query(text));
        Xapian::MSet m = enquire.get_mset(0, 10);
        unsigned n = 0;
        volatile size_t sink = 0;
        for (auto it = m.begin(); it != m.end(); ++it) {
            sink = sink + *it;
            if (data)
                sink = sink + it.get_document().get_data().size();
            n++;
        }
        return n;
    }
};

// The percentile p of sorted values: the value below which p% of them lie (the same rule
// for every table of the benchmarks).
template <typename T> T percentile(const std::vector<T> &sorted, double p)
{
    if (sorted.empty())
        return T();
    size_t k = size_t(p / 100.0 * double(sorted.size()));
    return sorted[std::min(k, sorted.size() - 1)];
}

// The non-empty lines of the query file; -1 (said on stderr) when there are none.
int readQueries(const char *queryPath, std::vector<std::string> &queries)
{
    std::ifstream in(queryPath);
    if (!in) {
        std::fprintf(stderr, "xapian-baseline: cannot open %s\n", queryPath);
        return -1;
    }
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            queries.push_back(line);
    if (queries.empty()) {
        std::fprintf(stderr, "xapian-baseline: no queries in %s\n", queryPath);
        return -1;
    }
    return 0;
}

int runQuery(const char *dbPath, const char *queryPath, int threads, double seconds, bool data,
             bool orMode)
{
    std::vector<std::string> queries;
    if (readQueries(queryPath, queries) < 0)
        return 1;

    unsigned zeroHit = 0;
    {
        Searcher warm(dbPath, data, orMode);
        for (const auto &q : queries)
            if (warm.run(q) == 0)
                zeroHit++;
    }

    std::vector<std::vector<uint32_t>> lat(static_cast<size_t>(threads));
    std::atomic<int> failed{0};
    auto t0 = Clock::now();
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            try {
                Searcher s(dbPath, data, orMode);
                size_t i = size_t(t) * queries.size() / size_t(threads);
                auto &mine = lat[size_t(t)];
                mine.reserve(1 << 20);
                for (;;) {
                    auto q0 = Clock::now();
                    if (q0 >= deadline)
                        break;
                    s.run(queries[i]);
                    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - q0).count();
                    mine.push_back(uint32_t(us));
                    if (++i == queries.size())
                        i = 0;
                }
            } catch (const Xapian::Error &e) {
                std::fprintf(stderr, "xapian-baseline: %s\n", e.get_description().c_str());
                failed++;
            }
        });
    }
    for (auto &th : pool)
        th.join();
    double secs = secondsSince(t0);
    if (failed)
        return 1;

    std::vector<uint32_t> all;
    for (auto &v : lat)
        all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    std::printf("queries=%zu seconds=%.3f qps=%.1f p50_us=%u p99_us=%u zero_hit=%u threads=%d\n", all.size(), secs,
                double(all.size()) / secs, percentile(all, 50), percentile(all, 99), zeroHit, threads);
    return 0;
}

int runEach(const char *dbPath, const char *queryPath, int runs, bool orMode, const char *listPath)
{
    std::vector<std::string> queries;
    if (readQueries(queryPath, queries) < 0)
        return 1;
    Searcher s(dbPath, false, orMode);
    std::vector<unsigned> hits(queries.size());
    for (size_t i = 0; i < queries.size(); i++)
        hits[i] = s.run(queries[i]);
    std::vector<std::vector<uint32_t>> times(queries.size());
    for (int r = 0; r < runs; r++) {
        for (size_t i = 0; i < queries.size(); i++) {
            auto q0 = Clock::now();
            s.run(queries[i]);
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - q0).count();
            times[i].push_back(uint32_t(us));
        }
    }
    std::vector<std::pair<uint32_t, size_t>> med; // (median µs, query index)
    for (size_t i = 0; i < queries.size(); i++) {
        std::sort(times[i].begin(), times[i].end());
        med.emplace_back(times[i][times[i].size() / 2], i);
    }
    std::sort(med.begin(), med.end());
    std::vector<uint32_t> sorted;
    for (const auto &m : med)
        sorted.push_back(m.first);
    if (listPath) {
        FILE *f = std::fopen(listPath, "w");
        if (!f) {
            std::fprintf(stderr, "xapian-baseline: cannot write %s\n", listPath);
            return 1;
        }
        for (auto it = med.rbegin(); it != med.rend(); ++it)
            std::fprintf(f, "%u\t%u\t%s\n", it->first, hits[it->second], queries[it->second].c_str());
        std::fclose(f);
    }
    unsigned zeroHit = unsigned(std::count(hits.begin(), hits.end(), 0u));
    std::printf("queries=%zu runs=%d p50_us=%u p90_us=%u p99_us=%u max_us=%u zero_hit=%u\n", queries.size(), runs,
                percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), sorted.back(), zeroHit);
    return 0;
}

void usage()
{
    std::fprintf(stderr, "usage: xapian-baseline index DB CORPUS.jsonl[.gz]...\n"
                         "       xapian-baseline query DB QUERIES [--threads T] [--seconds S] [--data] [--or]\n"
                         "       xapian-baseline each DB QUERIES [--runs N] [--or] [--list FILE]\n");
}

} // namespace

int main(int argc, char **argv)
{
    try {
        if (argc >= 4 && std::strcmp(argv[1], "index") == 0)
            return runIndex(argv[2], argc - 3, argv + 3);
        if (argc >= 4 && std::strcmp(argv[1], "query") == 0) {
            int threads = 2;
            double seconds = 10;
            bool data = false, orMode = false;
            for (int i = 4; i < argc; i++) {
                if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
                    threads = std::atoi(argv[++i]);
                else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
                    seconds = std::atof(argv[++i]);
                else if (std::strcmp(argv[i], "--data") == 0)
                    data = true;
                else if (std::strcmp(argv[i], "--or") == 0)
                    orMode = true;
                else {
                    usage();
                    return 2;
                }
            }
            if (threads < 1 || threads > 256 || !(seconds > 0)) {
                usage();
                return 2;
            }
            return runQuery(argv[2], argv[3], threads, seconds, data, orMode);
        }
        if (argc >= 4 && std::strcmp(argv[1], "each") == 0) {
            int runs = 3;
            bool orMode = false;
            const char *list = nullptr;
            for (int i = 4; i < argc; i++) {
                if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
                    runs = std::atoi(argv[++i]);
                else if (std::strcmp(argv[i], "--or") == 0)
                    orMode = true;
                else if (std::strcmp(argv[i], "--list") == 0 && i + 1 < argc)
                    list = argv[++i];
                else {
                    usage();
                    return 2;
                }
            }
            if (runs < 1 || runs > 1000) {
                usage();
                return 2;
            }
            return runEach(argv[2], argv[3], runs, orMode, list);
        }
        usage();
        return 2;
    } catch (const Xapian::Error &e) {
        std::fprintf(stderr, "xapian-baseline: %s\n", e.get_description().c_str());
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "xapian-baseline: %s\n", e.what());
        return 1;
    }
}
