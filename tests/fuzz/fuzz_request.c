/*
 * fuzz_request.c -- libFuzzer target: a search request from the wire to a result.
 *
 * The input is what quired receives for /search: a query string, then (after the first
 * NUL or newline, when there is one) a JSON body, as in a POST. It is decoded the way
 * daemon/routes.c decodes it (search_request_from_query, which calls search_request_set
 * for each pair; search_request_from_json for the body) and, when the request is valid, run
 * with search_run against a small index built once at start-up. So arbitrary query syntax
 * (wildcards, phrases, NEAR, fields, date ranges, CJK) goes all the way through Xapian's
 * parser, accent folding, the matcher, duplicate collapsing, facets, "did you mean", the
 * snippet maker (with caller-chosen markers) and the JSON encoder. The query text is also
 * tried as a document id for /doc/{id} and /similar/{id} (search_doc, search_similar).
 *
 * Besides the sanitizers, the target checks what a client relies on and abort()s when it
 * does not hold: the result has the documented shape (facets and explanations when asked),
 * never more hits than the limit, and every hit carries a snippet when snippets are on
 * (jansson refuses invalid UTF-8, so a snippet with a bad byte would silently vanish).
 *
 * The index lives in a private directory under $QUIRE_FUZZ_TMP (run.sh sets it) or
 * $TMPDIR, removed at exit.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "article.h"
#include "schema.h"
#include "search.h"
#include "xapian-c/xc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct search_index *fuzz_ix;
static char fuzz_dir[PATH_MAX];

/* Dies with a message: the fuzzer records the input as a crash. */
static void fuzz_fail(const char *what, const char *detail)
{
    /* What broke on one line (run.sh groups crashes by it), the particulars on the next. */
    fprintf(stderr, "fuzz_request: contract broken: %s\n", what);
    if (detail)
        fprintf(stderr, "fuzz_request: detail: %.300s\n", detail);
    abort();
}

/* ---- the index ------------------------------------------------------------------------ */

/* Articles chosen to give every query feature something to match: fields (source,
 * category, dates), words that stem, phrases, several scripts (multi-byte UTF-8 next to
 * every snippet boundary), duplicate bodies (collapsing), an id too long to be a term
 * (hashed), and one body longer than the snippet scan bound. */
struct seed_article {
    const char *id, *title, *date, *source, *url, *category, *body;
};

static const struct seed_article seed_articles[] = {
    {"news/001", "Meta launches Muse Spark", "2026-04-10", "The Median",
     "https://example.com/median/1", "tech",
     "Meta has introduced Muse Spark, a closed-source reasoning model, replacing its "
     "open-source Llama suite. Analysts said the launch marks a strategic shift. TSMC "
     "reported record Q1 revenue of $25.5 billion, up 41% year over year."},
    {"news/002", "TSMC reports record revenue", "2026-04-09", "Reuters", NULL, "business",
     "Taiwan Semiconductor Manufacturing Co. reported record first-quarter revenue on "
     "Thursday, driven by demand for artificial-intelligence chips. Revenue rose 41%."},
    {"news/003", "Anthropic warns of cyber risks", "2025-12-31", "Reuters",
     "https://example.com/r/3", "security",
     "Anthropic warned of cyber risks with the unreleased Claude Mythos model and rolled "
     "out Managed Agents for enterprise workflows. \"Security first,\" the company said."},
    {"news/004", "Duplicate of TSMC story", "2026-04-09", "Wire", NULL, "business",
     "Taiwan Semiconductor Manufacturing Co. reported record first-quarter revenue on "
     "Thursday, driven by demand for artificial-intelligence chips. Revenue rose 41%."},
    {"intl/été", "Économie : la croissance ralentit — naïve café", "2024-02-29",
     "Le Monde", "https://example.fr/é", "économie",
     "La croissance de l’économie française a ralenti au premier trimestre, selon "
     "l’Insee. Les dépenses des ménages — café, crème brûlée, façades — ont reculé."},
    {"intl/日本", "東京の株価が上昇", "2026-01-05", "日経", NULL, "市場",
     "東京株式市場で日経平均株価が上昇した。半導体関連株が買われ、"
     "取引時間中の最高値を更新した。投資家はAI需要に注目している。"},
    {"intl/emoji", "Emoji 🚀 launch day 🎉", "2023-07-01", "Blog", NULL, "fun",
     "Rockets 🚀🚀 and parties 🎉 everywhere; ünïcödé wörds, Ελληνικά λέξεις, русские "
     "слова, עברית, العربية, हिन्दी शब्द. The end 👋"},
    {"misc/no-date", "Untitled notes", NULL, NULL, NULL, NULL,
     "Notes without a date or source: running runners ran; connection connected "
     "connecting. NEAR and ADJ are words here too: near adjacent phrase search."},
    {"misc/a-very-long-id-"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
     "An id longer than a term", "1999-12-31", "Archive", NULL, "history",
     "Y2K preparations were completed before the millennium; systems kept running."},
    {"misc/empty-title", "", "2000-01-01", "", "", "", "x"},
};

/* Builds the long article's body: more than SNIPPET_SCAN_BYTES, its rarest words past the
 * scan bound, so the snippet maker's bound is exercised. Its words appear in no other
 * article: a query for a common word must not pay for scanning it (about 10 ms under
 * ASan), or the fuzzer would spend most of its time there. Caller frees. */
static char *long_body(size_t *len)
{
    static const char chunk[] = "zebra quagga okapi, zebras quaggas okapis. ";
    static const char tail[] = " aardvark xylophone 🦓 zebra.";
    size_t n = (300u << 10) / (sizeof chunk - 1);
    size_t total = n * (sizeof chunk - 1) + sizeof tail - 1;
    char *b = malloc(total + 1);
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(b + i * (sizeof chunk - 1), chunk, sizeof chunk - 1);
    memcpy(b + n * (sizeof chunk - 1), tail, sizeof tail);
    *len = total;
    return b;
}

/* Adds one article to the database, as the indexer does (schema_build, replace by id). */
static void index_article(xc_wdb *wdb, xc_termgen *tg, const struct article *a)
{
    xc_error *xe = NULL;
    char idterm[SCHEMA_MAX_TERM + 1];
    schema_key_term(SCHEMA_PREFIX_ID, a->id, idterm, sizeof idterm);
    xc_doc *doc = schema_build(a, a->id, tg, &xe);
    if (!doc || xc_wdb_replace(wdb, idterm, doc, &xe) == 0) {
        fprintf(stderr, "fuzz_request: cannot index %s: %s\n", a->id,
                xe && xe->message ? xe->message : "unknown error");
        exit(1);
    }
    xc_doc_free(doc);
}

/* Removes the index directory (a plain glass database: files only, no subdirectories). */
static void remove_index(void)
{
    search_index_close(fuzz_ix);
    fuzz_ix = NULL;
    if (!fuzz_dir[0])
        return;
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_request: could not remove %s\n", fuzz_dir);
    fuzz_dir[0] = '\0';
}

static void build_index(void)
{
    const char *tmp = getenv("QUIRE_FUZZ_TMP");
    if (!tmp || !*tmp)
        tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/fuzz_request.XXXXXX", tmp);
    if (!mkdtemp(fuzz_dir)) {
        fprintf(stderr, "fuzz_request: mkdtemp %s: %s\n", fuzz_dir, strerror(errno));
        exit(1);
    }
    atexit(remove_index);

    xc_error *xe = NULL;
    xc_wdb *wdb = xc_wdb_open(fuzz_dir, 1, &xe);
    xc_termgen *tg = wdb ? xc_termgen_new(SCHEMA_LANG, &xe) : NULL;
    if (!tg) {
        fprintf(stderr, "fuzz_request: cannot create index in %s: %s\n", fuzz_dir,
                xe && xe->message ? xe->message : "unknown error");
        exit(1);
    }
    /* Spelling data, as the indexer keeps by default: "did you mean" runs on every query. */
    xc_termgen_set_spelling(tg, wdb);
    for (size_t i = 0; i < sizeof seed_articles / sizeof seed_articles[0]; i++) {
        const struct seed_article *s = &seed_articles[i];
        struct article a = {
            .id = (char *)s->id,
            .title = (char *)s->title,
            .body = (char *)s->body,
            .body_len = strlen(s->body),
            .date = (char *)s->date,
            .source = (char *)s->source,
            .url = (char *)s->url,
            .category = (char *)s->category,
        };
        index_article(wdb, tg, &a);
    }
    struct article big = {.id = "misc/long", .title = "Zebra quagga okapi"};
    big.body = long_body(&big.body_len);
    if (!big.body)
        exit(1);
    index_article(wdb, tg, &big);
    free(big.body);
    if (xc_wdb_commit(wdb, &xe) < 0) {
        fprintf(stderr, "fuzz_request: commit: %s\n", xe && xe->message ? xe->message : "?");
        exit(1);
    }
    xc_termgen_free(tg);
    xc_wdb_free(wdb);

    struct search_error err;
    fuzz_ix = search_index_open(fuzz_dir, &err);
    if (!fuzz_ix) {
        fprintf(stderr, "fuzz_request: cannot open the index: %s\n", err.message);
        exit(1);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    build_index();
    /* A search that must find something: the harness is broken otherwise, and a fuzzer
     * that only ever sees empty results would test little. */
    struct search_request req;
    struct search_error err;
    search_request_init(&req);
    if (search_request_set(&req, "q", "revenue", &err) < 0)
        fuzz_fail("setting q", err.message);
    json_t *res = search_run(fuzz_ix, &req, &err);
    if (!res || json_array_size(json_object_get(res, "hits")) < 2)
        fuzz_fail("the start-up search found nothing", res ? NULL : err.message);
    json_decref(res);
    search_request_clear(&req);
    return 0;
}

/* ---- one input ------------------------------------------------------------------------ */

/* Checks a search result against what search.h and the HTTP API promise. */
static void check_result(const json_t *res, const struct search_request *req)
{
    if (!json_is_object(res))
        fuzz_fail("result is not an object", NULL);
    const char *q = json_string_value(json_object_get(res, "query"));
    if (!q || strcmp(q, req->q) != 0)
        fuzz_fail("result 'query' is not the query", req->q);
    if (!json_is_object(json_object_get(res, "total")))
        fuzz_fail("result has no 'total'", NULL);
    const json_t *hits = json_object_get(res, "hits");
    if (!json_is_array(hits))
        fuzz_fail("result has no 'hits' array", NULL);
    if (json_array_size(hits) > req->limit)
        fuzz_fail("more hits than the limit", req->q);
    if (req->explain && !json_is_string(json_object_get(res, "parsed_query")))
        fuzz_fail("explain=1 but no 'parsed_query'", req->q);
    static const struct {
        unsigned bit;
        const char *name;
    } facets[] = {{SEARCH_FACET_SOURCE, "source"},
                  {SEARCH_FACET_CATEGORY, "category"},
                  {SEARCH_FACET_YEAR, "year"}};
    for (size_t k = 0; k < sizeof facets / sizeof facets[0]; k++) {
        const json_t *values = json_object_get(json_object_get(res, "facets"), facets[k].name);
        if (!(req->facets & facets[k].bit))
            continue;
        if (!json_is_array(values))
            fuzz_fail("a facet asked for is missing", facets[k].name);
        size_t j;
        const json_t *v;
        json_array_foreach(values, j, v) {
            if (!json_is_string(json_object_get(v, "value")) ||
                !json_is_integer(json_object_get(v, "count")))
                fuzz_fail("a facet value without value and count", facets[k].name);
        }
        if (json_array_size(values) > SEARCH_MAX_FACET_LIMIT)
            fuzz_fail("more facet values than SEARCH_MAX_FACET_LIMIT", facets[k].name);
    }
    const json_t *sug = json_object_get(res, "suggestion");
    if (sug && !json_is_string(sug))
        fuzz_fail("'suggestion' is not a string", req->q);
    size_t i;
    const json_t *h;
    json_array_foreach(hits, i, h) {
        if (!json_is_string(json_object_get(h, "id")) ||
            !json_is_string(json_object_get(h, "title")) ||
            !json_is_integer(json_object_get(h, "rank")))
            fuzz_fail("a hit lacks id, title or rank", req->q);
        if (req->snippet && !json_is_string(json_object_get(h, "snippet")))
            fuzz_fail("snippets are on but a hit has none (invalid UTF-8 in the snippet?)",
                      req->q);
        if (req->explain && !json_is_object(json_object_get(h, "explain")))
            fuzz_fail("explain=1 but a hit has no 'explain'", req->q);
    }
    /* The encoder must accept what search_run built. */
    char *text = json_dumps(res, JSON_COMPACT);
    if (!text)
        fuzz_fail("json_dumps failed on the result", req->q);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Split into the query string and (when there is a separator) the JSON body. */
    size_t qlen = 0;
    while (qlen < size && data[qlen] != '\0' && data[qlen] != '\n')
        qlen++;
    char *qs = malloc(qlen + 1);
    if (!qs)
        return 0;
    memcpy(qs, data, qlen);
    qs[qlen] = '\0';
    int has_body = qlen < size;
    const char *body = has_body ? (const char *)data + qlen + 1 : "";
    size_t body_len = has_body ? size - qlen - 1 : 0;

    struct search_request req;
    struct search_error err;
    search_request_init(&req);
    int rc = search_request_from_query(&req, qs, &err);
    if (rc == 0 && has_body)
        rc = search_request_from_json(&req, body, body_len, &err);
    free(qs);
    if (rc < 0) {
        if (err.status != 400 || !err.code || !err.message[0])
            fuzz_fail("a refused request without a 400 and a message", err.message);
        search_request_clear(&req);
        return 0;
    }
    if (req.limit > SEARCH_MAX_LIMIT || req.offset > SEARCH_MAX_OFFSET ||
        (req.q && strlen(req.q) > SEARCH_MAX_QUERY_BYTES))
        fuzz_fail("an accepted request is outside the bounds", NULL);

    json_t *res = search_run(fuzz_ix, &req, &err);
    if (res) {
        check_result(res, &req);
        json_decref(res);
    } else if (!err.code || !err.message[0]) {
        fuzz_fail("search_run failed without an error", NULL);
    } else if (req.q && err.status != 400) {
        /* A well-formed request must not make the index unavailable or fail internally. */
        fuzz_fail("search_run failed with a non-400 status", err.message);
    }

    /* The same text as a document id: /doc/{id} and /similar/{id} share the id bounds and
     * the term hash. */
    if (req.q) {
        json_t *doc = search_doc(fuzz_ix, req.q, &err);
        if (doc && !json_is_string(json_object_get(doc, "text")))
            fuzz_fail("a document without text", req.q);
        json_decref(doc);
        struct search_request sr;
        search_request_init(&sr);
        sr.limit = req.limit;
        sr.offset = req.offset;
        sr.snippet = req.snippet;
        json_t *sim = search_similar(fuzz_ix, req.q, &sr, &err);
        if (sim) {
            const json_t *hits = json_object_get(sim, "hits");
            if (!json_is_array(hits) || json_array_size(hits) > req.limit)
                fuzz_fail("search_similar: no hits array, or more hits than the limit", req.q);
            json_decref(sim);
        } else if (err.status != 400 && err.status != 404) {
            fuzz_fail("search_similar failed with a status other than 400 or 404", err.message);
        }
    }
    search_request_clear(&req);
    return 0;
}
