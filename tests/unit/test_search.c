/*
 * test_search.c -- unit tests of request decoding (the bounds every caller shares), the
 * schema's display data, the snippet maker and the index-directory helpers; and that the
 * daemon's written answer (search_run_json) is the library's (search_run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "article.h"
#include "dbdir.h"
#include "querytext.h"
#include "schema.h"
#include "search.h"
#include "snippet.h"
#include "xapian-c/xc.h"

static void test_request_defaults_and_limits(void **state)
{
    (void)state;
    struct search_request r;
    struct search_error e;
    search_request_init(&r);
    assert_int_equal(r.limit, SEARCH_DEFAULT_LIMIT);
    assert_int_equal(r.offset, 0);
    assert_int_equal(r.snippet, 1);
    assert_int_equal(search_request_validate(&r, &e), -1);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, "missing_parameter");

    assert_int_equal(search_request_set(&r, "q", "muse spark", &e), 0);
    assert_int_equal(search_request_validate(&r, &e), 0);
    assert_int_equal(search_request_set(&r, "limit", "1000", &e), 0);
    assert_int_equal(r.limit, 1000);
    assert_int_equal(search_request_set(&r, "limit", "1001", &e), -1);
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message, "1000"));
    assert_int_equal(search_request_set(&r, "limit", "-1", &e), -1);
    assert_int_equal(search_request_set(&r, "limit", "10x", &e), -1);
    assert_int_equal(search_request_set(&r, "limit", "", &e), -1);
    assert_int_equal(search_request_set(&r, "limit", "99999999999999999999", &e), -1);
    assert_int_equal(search_request_set(&r, "offset", "100001", &e), -1);
    assert_int_equal(search_request_set(&r, "snippet", "0", &e), 0);
    assert_int_equal(r.snippet, 0);
    assert_int_equal(search_request_set(&r, "snippet", "maybe", &e), -1);
    assert_int_equal(search_request_set(&r, "frobnicate", "1", &e), -1);
    assert_string_equal(e.code, "unknown_parameter");
    assert_int_equal(search_request_set(&r, "q", "\xff\xfe bad utf8", &e), -1);

    char *big = malloc(SEARCH_MAX_QUERY_BYTES + 2);
    memset(big, 'a', SEARCH_MAX_QUERY_BYTES + 1);
    big[SEARCH_MAX_QUERY_BYTES + 1] = '\0';
    assert_int_equal(search_request_set(&r, "q", big, &e), -1);
    assert_string_equal(e.code, "query_too_long");
    big[SEARCH_MAX_QUERY_BYTES] = '\0';
    assert_int_equal(search_request_set(&r, "q", big, &e), 0);
    free(big);
    search_request_clear(&r);
}

static void test_request_json(void **state)
{
    (void)state;
    struct search_request r;
    struct search_error e;
    search_request_init(&r);
    const char *ok = "{\"q\": \"tsmc revenue\", \"limit\": 5, \"offset\": 2, \"snippet\": false}";
    assert_int_equal(search_request_from_json(&r, ok, strlen(ok), &e), 0);
    assert_string_equal(r.q, "tsmc revenue");
    assert_int_equal(r.limit, 5);
    assert_int_equal(r.offset, 2);
    assert_int_equal(r.snippet, 0);
    search_request_clear(&r);

    const char *bad[] = {
        "{\"q\": ",                       /* truncated */
        "[1, 2]",                         /* not an object */
        "{\"q\": \"x\", \"limit\": -3}",  /* negative */
        "{\"q\": \"x\", \"limit\": 1.5}", /* a real */
        "{\"q\": [\"x\"]}",               /* wrong type */
        "{\"q\": \"a\\u0000b\"}",         /* NUL inside */
        "{\"q\": \"x\", \"q\": \"y\"}",   /* duplicate key */
        "{\"q\": \"x\", \"nope\": 1}",    /* unknown key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        search_request_init(&r);
        e.status = 0;
        assert_int_equal(search_request_from_json(&r, bad[i], strlen(bad[i]), &e), -1);
        assert_int_equal(e.status, 400);
        assert_true(strlen(e.message) > 0);
        search_request_clear(&r);
    }
    /* Nesting thousands deep is refused by the decoder, not a stack overflow. */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[depth * 2] = '\0';
    search_request_init(&r);
    assert_int_equal(search_request_from_json(&r, deep, depth * 2, &e), -1);
    search_request_clear(&r);
    free(deep);
}

static void test_request_filters(void **state)
{
    (void)state;
    struct search_request r;
    struct search_error e;
    search_request_init(&r);
    /* A filter alone makes a request complete. */
    assert_int_equal(search_request_set(&r, "filter", "category:sport", &e), 0);
    assert_int_equal(search_request_validate(&r, &e), 0);
    assert_int_equal(search_request_set(&r, "filter", "source:\"BBC News\"", &e), 0);
    assert_int_equal(search_request_set(&r, "filter", "date:2004..2005", &e), 0);
    assert_int_equal(r.nfilters, 3);
    assert_string_equal(r.filters[0].field, "category");
    assert_string_equal(r.filters[0].value, "sport");
    assert_string_equal(r.filters[1].value, "BBC News"); /* quotes gone */
    assert_string_equal(r.filters[2].value, "2004..2005");
    const char *bad[] = {"sport", ":sport", "colour:red", "date:yesterday", "date:2004-02-30",
                         "month:2026", "year:87", "source:", "source:  ", "date:..",
                         "date:2005..2004", "category:\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.status = 0;
        assert_int_equal(search_request_set(&r, "filter", bad[i], &e), -1);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "bad_filter");
    }
    assert_int_equal(r.nfilters, 3);
    assert_non_null(strstr((search_request_set(&r, "filter", "date:yesterday", &e), e.message),
                           "field 'date' takes a day (2004-03-05)"));
    while (r.nfilters < SEARCH_MAX_FILTERS)
        assert_int_equal(search_request_set(&r, "filter", "year:2004", &e), 0);
    assert_int_equal(search_request_set(&r, "filter", "year:2004", &e), -1);
    search_request_clear(&r);
    assert_int_equal(r.nfilters, 0);

    const char *ok = "{\"filter\": {\"category\": [\"sport\", \"tech\"], \"source\": \"BBC News\", "
                     "\"year\": 2004, \"date\": {\"from\": \"2004-01-01\", \"to\": \"2004-12-31\"}}}";
    assert_int_equal(search_request_from_json(&r, ok, strlen(ok), &e), 0);
    assert_int_equal(search_request_validate(&r, &e), 0);
    assert_int_equal(r.nfilters, 5);
    assert_string_equal(r.filters[1].value, "tech");
    assert_string_equal(r.filters[3].value, "2004");
    assert_string_equal(r.filters[4].value, "2004-01-01..2004-12-31");
    search_request_clear(&r);
    const char *strings = "{\"q\": \"oil\", \"filter\": [\"category:crude\", \"date:2004..\"]}";
    assert_int_equal(search_request_from_json(&r, strings, strlen(strings), &e), 0);
    assert_int_equal(r.nfilters, 2);
    search_request_clear(&r);
    const char *jbad[] = {
        "{\"filter\": 3}",
        "{\"filter\": {\"colour\": \"red\"}}",
        "{\"filter\": {\"source\": {\"from\": \"a\"}}}",
        "{\"filter\": {\"date\": {\"from\": \"2004\", \"until\": \"2005\"}}}",
        "{\"filter\": {\"date\": {}}}",
        "{\"filter\": {\"category\": [true]}}",
        "{\"filter\": [\"category:crude\", 3]}",
        "{\"filter\": {\"category\": \"a\\u0000b\"}}",
    };
    for (size_t i = 0; i < sizeof jbad / sizeof jbad[0]; i++) {
        search_request_init(&r);
        e.status = 0;
        assert_int_equal(search_request_from_json(&r, jbad[i], strlen(jbad[i]), &e), -1);
        assert_int_equal(e.status, 400);
        search_request_clear(&r);
    }
}

/* Property: a date filter value is accepted exactly when it names a real day, month or year
 * (the oracle is the C library's calendar: timegm normalises a day that does not exist into
 * another one), and a range exactly when both ends are accepted and the start's first day
 * is not after the end's last day. Seeded random values, the seed printed. */
static int real_day(int y, int m, int d)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    return back.tm_year == y - 1900 && back.tm_mon == m - 1 && back.tm_mday == d;
}

static void test_filter_dates_property(void **state)
{
    (void)state;
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    printf("# date filter property: seed %u\n", seed);
    srand(seed);
    char why[512], v[96], a[40], b[40];
    unsigned checked = 0;
    for (int i = 0; i < 20000; i++) {
        int y1 = 1890 + rand() % 220, m1 = rand() % 14, d1 = rand() % 33;
        int y2 = 1890 + rand() % 220, m2 = rand() % 14, d2 = rand() % 33;
        int form1 = rand() % 3, form2 = rand() % 3; /* year, month, day */
        /* The first and last day each end stands for, as numbers YYYYMMDD (0: invalid). */
        long lo = 0, hi = 0;
        if (form1 == 0) {
            snprintf(a, sizeof a, "%04d", y1);
            lo = y1 * 10000L + 101;
        } else if (form1 == 1) {
            snprintf(a, sizeof a, "%04d-%02d", y1, m1);
            lo = m1 >= 1 && m1 <= 12 ? y1 * 10000L + m1 * 100 + 1 : 0;
        } else {
            snprintf(a, sizeof a, "%04d-%02d-%02d", y1, m1, d1);
            lo = m1 >= 1 && m1 <= 12 && real_day(y1, m1, d1) ? y1 * 10000L + m1 * 100 + d1 : 0;
        }
        if (form2 == 0) {
            snprintf(b, sizeof b, "%04d", y2);
            hi = y2 * 10000L + 1231;
        } else if (form2 == 1) {
            snprintf(b, sizeof b, "%04d-%02d", y2, m2);
            int last = 31;
            while (last > 27 && !(m2 >= 1 && m2 <= 12 && real_day(y2, m2, last)))
                last--;
            hi = m2 >= 1 && m2 <= 12 ? y2 * 10000L + m2 * 100 + last : 0;
        } else {
            snprintf(b, sizeof b, "%04d-%02d-%02d", y2, m2, d2);
            hi = m2 >= 1 && m2 <= 12 && real_day(y2, m2, d2) ? y2 * 10000L + m2 * 100 + d2 : 0;
        }
        int single = (lo != 0) == (schema_filter_check("date", a, why, sizeof why) == 0);
        if (!single)
            fprintf(stderr, "date:%s: expected %s\n", a, lo ? "accepted" : "refused");
        assert_true(single);
        snprintf(v, sizeof v, "%s..%s", a, b);
        int want = lo != 0 && hi != 0 && lo <= hi;
        int got = schema_filter_check("date", v, why, sizeof why) == 0;
        if (want != got)
            fprintf(stderr, "date:%s: expected %s\n", v, want ? "accepted" : "refused");
        assert_int_equal(want, got);
        /* month: takes only months, year: only years. */
        assert_int_equal(schema_filter_check("month", a, why, sizeof why) == 0,
                         form1 == 1 && lo != 0);
        assert_int_equal(schema_filter_check("year", a, why, sizeof why) == 0, form1 == 0);
        checked += 4;
    }
    printf("# date filter property: %u values checked\n", checked);
    /* The queries: a single value is its term, a range a range of the date slot. */
    xc_query *q = schema_filter_query("date", "2004-03", why, sizeof why);
    assert_non_null(q);
    char *d = xc_query_describe(q);
    assert_non_null(strstr(d, "M200403"));
    free(d);
    xc_query_free(q);
    q = schema_filter_query("date", "2004-02..2004", why, sizeof why);
    d = xc_query_describe(q);
    assert_non_null(strstr(d, "20040201"));
    assert_non_null(strstr(d, "20041231"));
    free(d);
    xc_query_free(q);
    q = schema_filter_query("month", "2004-02..2004-02", why, sizeof why);
    d = xc_query_describe(q);
    assert_non_null(strstr(d, "20040229")); /* a leap year */
    free(d);
    xc_query_free(q);
}

/* The key of a source or category: the same for every case, spacing and accent folding of
 * one value, and a key is its own key. */
static void test_value_key(void **state)
{
    (void)state;
    const char *same[][2] = {{"BBC News", "bbc news"},
                             {"  BBC\t News ", "BBC NEWS"},
                             {"Новости Москвы", "НОВОСТИ МОСКВЫ"},
                             {"Société", "SOCIETE"},
                             {"money-fx", "MONEY-FX"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char *a = schema_value_key(same[i][0], strlen(same[i][0]), NULL);
        char *b = schema_value_key(same[i][1], strlen(same[i][1]), NULL);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        char *c = schema_value_key(a, strlen(a), NULL);
        assert_string_equal(a, c);
        free(a);
        free(b);
        free(c);
    }
    char *k = schema_value_key("BBC News", 8, NULL);
    assert_string_equal(k, "bbc news");
    free(k);
}

/* exact, fields, facet_limit and the parameters similar articles take. */
static void test_request_shaping(void **state)
{
    (void)state;
    struct search_request r;
    struct search_error e;
    search_request_init(&r);
    assert_int_equal(r.exact, 0);
    assert_int_equal(r.fields, SEARCH_FIELDS_ALL);
    assert_int_equal(r.facet_limit, SEARCH_DEFAULT_FACET_LIMIT);
    assert_int_equal(search_request_set(&r, "exact", "1", &e), 0);
    assert_int_equal(r.exact, 1);
    assert_int_equal(search_request_set(&r, "fields", "title,date,url", &e), 0);
    assert_int_equal(r.fields, SEARCH_FIELD_TITLE | SEARCH_FIELD_DATE | SEARCH_FIELD_URL);
    assert_int_equal(search_request_set(&r, "fields", "id,score", &e), 0);
    assert_int_equal(r.fields, 0);
    assert_int_equal(search_request_set(&r, "fields", "title,colour", &e), -1);
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message, "colour"));
    assert_int_equal(search_request_set(&r, "facet_limit", "1000", &e), 0);
    assert_int_equal(r.facet_limit, 1000);
    assert_int_equal(search_request_set(&r, "facet_limit", "1001", &e), -1);
    assert_int_equal(search_request_set(&r, "facet_limit", "0", &e), -1);
    search_request_clear(&r);

    assert_int_equal(
        search_request_from_similar_query(&r, "limit=5&offset=5&snippet=0&dedup=0&fields=title", &e),
        0);
    assert_int_equal(r.limit, 5);
    assert_int_equal(r.offset, 5);
    assert_int_equal(r.snippet, 0);
    assert_int_equal(r.dedup, 0);
    assert_int_equal(r.fields, SEARCH_FIELD_TITLE);
    search_request_clear(&r);
    static const char *const refused[] = {"q=x", "sort=date", "facets=year", "exact=1", "op=and"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(search_request_from_similar_query(&r, refused[i], &e), -1);
        assert_int_equal(e.status, 400);
        search_request_clear(&r);
    }
}

/* The query text rewriting (querytext.c): every case of its rules, one pair each. */
static void test_querytext(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        /* words lower-cased, any script */
        {"Elections", "elections"},
        {"TONY Blair", "tony blair"},
        {"\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90", /* МОСКВА */
         "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0"},
        {"Petro*", "petro*"},
        /* operators kept; lower-case operator words are words */
        {"Blair AND Brown", "blair AND brown"},
        {"Blair OR NOT Brown", "blair OR NOT brown"},
        {"Blair NEAR/3 Brown ADJ Iraq", "blair NEAR/3 brown ADJ iraq"},
        {"Blair NEARBY", "blair nearby"},
        /* quotes kept as written */
        {"\"Tony Blair\" Speech", "\"Tony Blair\" speech"},
        {"(Blair OR Brown) Labour", "(blair OR brown) labour"},
        /* field names lower-cased; filter values kept, title: words lower-cased */
        {"Title:Blair", "title:blair"},
        {"source:\"BBC News\" Blair", "source:\"BBC News\" blair"},
        {"id:Sport/101", "id:Sport/101"},
        {"+Category:Sport -Title:Brown", "+category:Sport -title:brown"},
        /* excluded-only queries become NOT forms; mixed ones are left alone */
        {"-Blair", "NOT blair"},
        {"-blair -brown", "NOT blair NOT brown"},
        {"-\"Gordon Brown\"  -(iraq OR war)", "NOT \"Gordon Brown\" NOT (iraq OR war)"},
        {"blair -brown", "blair -brown"},
        {"NOT blair", "NOT blair"},
        {"- blair", "- blair"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        assert_int_equal(querytext_normalise(cases[i][0], &out), 0);
        assert_non_null(out);
        assert_string_equal(out, cases[i][1]);
        free(out);
    }
}

/* Which queries have a word to search for besides stop words (querytext_has_content_word):
 * exclusions, NOT's operand, filter values and punctuation do not count; phrases, groups
 * and title: words do. */
static void test_querytext_content(void **state)
{
    (void)state;
    static const struct {
        const char *q;
        int content;
    } cases[] = {
        {"the -microsoft", 0},     {"the of -microsoft", 0}, {"not category:tech", 0},
        {"the NOT microsoft", 0},  {"-microsoft", 0},        {"", 0},
        {"the, -microsoft", 0},    {"title:the -x", 0},      {"the microsoft", 1},
        {"+microsoft", 1},         {"\"the who\"", 1},      {"(the OR of)", 1},
        {"title:microsoft", 1},    {"the -x microsoft", 1},  {"microsoft's", 1},
        {"category:tech bank", 1}, {"NOT the bank", 1},      {"--bank", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = querytext_has_content_word(cases[i].q, schema_is_stopword);
        if (got != cases[i].content)
            fail_msg("'%s': %d, want %d", cases[i].q, got, cases[i].content);
    }
}

static void test_display_round_trip(void **state)
{
    (void)state;
    struct schema_display d;
    const char data[] = "a/b.txt\x1fTitle here\x1f" "2026-04-10\x1f\x1fhttp://x\x1f" "tech";
    assert_int_equal(schema_display_decode(data, sizeof data - 1, &d), 0);
    assert_string_equal(d.id, "a/b.txt");
    assert_string_equal(d.title, "Title here");
    assert_string_equal(d.date, "2026-04-10");
    assert_string_equal(d.source, "");
    assert_string_equal(d.url, "http://x");
    assert_string_equal(d.category, "tech");
    schema_display_free(&d);
    /* Short data: missing trailing fields are empty, never garbage. */
    assert_int_equal(schema_display_decode("only-id", 7, &d), 0);
    assert_string_equal(d.id, "only-id");
    assert_string_equal(d.category, "");
    schema_display_free(&d);

    char term[SCHEMA_MAX_TERM + 1];
    schema_key_term("Q", "short", term, sizeof term);
    assert_string_equal(term, "Qshort");
    char longid[600];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    schema_key_term("Q", longid, term, sizeof term);
    assert_true(strlen(term) <= SCHEMA_MAX_TERM);
    assert_int_equal(strncmp(term, "Q#", 2), 0);
}

static void test_snippet(void **state)
{
    (void)state;
    xc_stem *st = xc_stem_new("english", NULL);
    assert_non_null(st);
    struct snippet_terms *t = snippet_terms_new(st);
    snippet_terms_add(t, "Zrevenu", 7);
    snippet_terms_add(t, "tsmc", 4);
    snippet_terms_add(t, "XCsport", 7); /* a filter: ignored */
    assert_int_equal(snippet_terms_count(t), 2);
    const char *text =
        "Many words come first and have nothing to do with it at all, filler filler filler "
        "filler filler filler filler filler filler filler filler filler filler filler. "
        "TSMC reported record revenues <driven> by AI & chips. More filler follows here.";
    char *s = snippet_make(t, text, strlen(text), 80, "<b>", "</b>");
    assert_non_null(s);
    assert_non_null(strstr(s, "<b>TSMC</b>"));
    assert_non_null(strstr(s, "<b>revenues</b>"));
    assert_non_null(strstr(s, "&lt;driven&gt;"));
    assert_null(strstr(s, "<driven>"));
    assert_true(strlen(s) < 200);
    free(s);
    /* No match: the start of the text. */
    snippet_terms_free(t);
    t = snippet_terms_new(st);
    snippet_terms_add(t, "Zzebra", 6);
    s = snippet_make(t, text, strlen(text), 40, "<b>", "</b>");
    assert_int_equal(strncmp(s, "Many words", 10), 0);
    free(s);
    /* Empty text. */
    s = snippet_make(t, "", 0, 40, "<b>", "</b>");
    assert_string_equal(s, "");
    free(s);
    snippet_terms_free(t);
    xc_stem_free(st);
}

static void test_dbdir(void **state)
{
    (void)state;
    char dir[] = "/tmp/quire-test-dbdir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512], why[256], gen[64];
    dbdir_reader_path(dir, path, sizeof path);
    assert_string_equal(path, dir);
    assert_int_equal(dbdir_writer_path(dir, 0, path, sizeof path, why, sizeof why), 0);
    assert_string_equal(path, ""); /* no index yet, and none made */
    assert_int_equal(dbdir_writer_path(dir, 1, path, sizeof path, why, sizeof why), 0);
    assert_non_null(strstr(path, "gen-000001"));
    assert_int_equal(dbdir_generation(dir, gen, sizeof gen), 0);
    assert_string_equal(gen, "gen-000001");
    dbdir_reader_path(dir, path, sizeof path);
    assert_non_null(strstr(path, "/current"));
    /* The lock: a second taker fails at once. */
    int a = dbdir_lock(dir, -1, why, sizeof why);
    assert_true(a >= 0);
    int b = dbdir_lock(dir, -1, why, sizeof why);
    assert_int_equal(b, -1);
    assert_non_null(strstr(why, "locked"));
    dbdir_unlock(a);
    b = dbdir_lock(dir, -1, why, sizeof why);
    assert_true(b >= 0);
    dbdir_unlock(b);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Articles in the deadline tests' corpus: enough that the expensive query below takes tens
 * of milliseconds unbudgeted, so a 1 ms budget surely cuts it, even on a fast machine. */
#define CORPUS_DOCS 10000
#define CORPUS_VOCAB 300

/* Builds a plain Xapian database at path through the indexer's own schema: n articles of
 * 40 pseudo-random words "wNNN" plus "common" (in every article), with dates over 30
 * years, 20 sources and 10 categories. */
static void build_corpus(const char *path, unsigned n)
{
    xc_error *xe = NULL;
    xc_wdb *w = xc_wdb_open(path, 1, &xe);
    assert_non_null(w);
    xc_termgen *tg = xc_termgen_new(SCHEMA_LANG, &xe);
    assert_non_null(tg);
    unsigned long seed = 12345;
    for (unsigned i = 0; i < n; i++) {
        char id[32], title[64], body[512], date[16], source[16], category[16];
        size_t len = (size_t)snprintf(body, sizeof body, "common");
        for (int k = 0; k < 40; k++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            len += (size_t)snprintf(body + len, sizeof body - len, " w%03lu",
                                    (seed >> 33) % CORPUS_VOCAB);
        }
        snprintf(id, sizeof id, "a%u", i);
        snprintf(title, sizeof title, "article %u", i);
        snprintf(date, sizeof date, "%04u-%02u-%02u", 1990 + i % 30, 1 + i % 12, 1 + i % 28);
        snprintf(source, sizeof source, "src%u", i % 20);
        snprintf(category, sizeof category, "cat%u", i % 10);
        struct article a = {id, title, body, len, date, source, NULL, category};
        xc_doc *d = schema_build(&a, "generated", tg, &xe);
        assert_non_null(d);
        char idterm[SCHEMA_MAX_TERM + 1];
        schema_key_term(SCHEMA_PREFIX_ID, id, idterm, sizeof idterm);
        assert_true(xc_wdb_replace(w, idterm, d, &xe) > 0);
        xc_doc_free(d);
    }
    assert_int_equal(xc_wdb_commit(w, &xe), 0);
    xc_termgen_free(tg);
    xc_wdb_free(w);
}

/* Sum of the counts of one facet: the documents the match examined. */
static json_int_t facet_total(json_t *res, const char *facet)
{
    json_t *values = json_object_get(json_object_get(res, "facets"), facet);
    assert_true(json_is_array(values));
    json_int_t sum = 0;
    size_t i;
    json_t *v;
    json_array_foreach (values, i, v) {
        sum += json_integer_value(json_object_get(v, "count"));
    }
    return sum;
}

/* Checks the shape every result has, cut or not: hits ranked 1, 2, ... with ids and
 * titles, totals, and a boolean timed_out. Returns timed_out. */
static int assert_well_formed(json_t *res, unsigned limit)
{
    assert_non_null(res);
    assert_true(json_is_boolean(json_object_get(res, "timed_out")));
    json_t *total = json_object_get(res, "total");
    assert_true(json_is_integer(json_object_get(total, "estimated")));
    assert_true(json_is_integer(json_object_get(total, "lower")));
    json_t *hits = json_object_get(res, "hits");
    assert_true(json_is_array(hits));
    assert_true(json_array_size(hits) <= limit);
    size_t i;
    json_t *h;
    json_array_foreach (hits, i, h) {
        assert_int_equal(json_integer_value(json_object_get(h, "rank")), (json_int_t)i + 1);
        assert_non_null(json_string_value(json_object_get(h, "id")));
        assert_non_null(json_string_value(json_object_get(h, "title")));
    }
    return json_is_true(json_object_get(res, "timed_out"));
}

/* Runs q sorted by date with three facets, 100 hits with snippets, on ix. */
static json_t *expensive_search(struct search_index *ix, const char *q)
{
    struct search_request r;
    struct search_error e;
    search_request_init(&r);
    assert_int_equal(search_request_set(&r, "q", q, &e), 0);
    assert_int_equal(search_request_set(&r, "sort", "date", &e), 0);
    assert_int_equal(search_request_set(&r, "facets", "source,category,year", &e), 0);
    assert_int_equal(search_request_set(&r, "limit", "100", &e), 0);
    json_t *res = search_run(ix, &r, &e);
    if (!res)
        fail_msg("search failed: %s", e.message);
    search_request_clear(&r);
    return res;
}

/* The time budget: an expensive query with 1 ms is cut short and says so, with a
 * well-formed partial result; without a budget (or a generous one) it is complete. */
static void test_search_deadline(void **state)
{
    (void)state;
    char dir[] = "/tmp/quire-test-deadline-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/db", dir);
    build_corpus(path, CORPUS_DOCS);
    struct search_error e;
    struct search_index *ix = search_index_open(path, &e);
    assert_non_null(ix);
    assert_int_equal(search_index_doccount(ix), CORPUS_DOCS);

    /* "common" is in every article, the w-words in most: every article matches, and
     * sorting and facets make the match visit each one. */
    char q[2048];
    size_t len = (size_t)snprintf(q, sizeof q, "common");
    for (int k = 0; k < 120; k++)
        len += (size_t)snprintf(q + len, sizeof q - len, " w%03d", k);

    /* No budget (the default after open): complete. */
    json_t *full = expensive_search(ix, q);
    assert_false(assert_well_formed(full, 100));
    assert_int_equal(json_array_size(json_object_get(full, "hits")), 100);
    assert_int_equal(facet_total(full, "source"), CORPUS_DOCS);
    assert_int_equal(facet_total(full, "category"), CORPUS_DOCS);

    /* 1 ms: cut. What was examined is a part, and the result still has its shape. */
    search_index_set_timeout(ix, 1);
    json_t *cut = expensive_search(ix, q);
    assert_true(assert_well_formed(cut, 100));
    assert_true(facet_total(cut, "source") < CORPUS_DOCS);
    assert_true(facet_total(cut, "source") == facet_total(cut, "category"));
    assert_true(json_array_size(json_object_get(cut, "hits")) <=
                (size_t)facet_total(cut, "source"));

    /* A cheap query within the same 1 ms budget would be timing, not behaviour: give a
     * generous budget instead and check nothing is cut. */
    search_index_set_timeout(ix, 600000);
    json_t *generous = expensive_search(ix, q);
    assert_false(assert_well_formed(generous, 100));
    assert_int_equal(facet_total(generous, "source"), CORPUS_DOCS);
    /* A budget that does not run out changes nothing in the ranking. */
    json_t *fh = json_object_get(full, "hits"), *gh = json_object_get(generous, "hits");
    for (size_t i = 0; i < json_array_size(fh); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(fh, i), "id")),
                            json_string_value(json_object_get(json_array_get(gh, i), "id")));

    /* Similar articles carry the flag too. */
    struct search_request sr;
    search_request_init(&sr);
    sr.limit = 5;
    json_t *sim = search_similar(ix, "a1", &sr, &e);
    assert_non_null(sim);
    assert_false(assert_well_formed(sim, 5));

    json_decref(full);
    json_decref(cut);
    json_decref(generous);
    json_decref(sim);
    search_index_close(ix);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* test_long_text's body of len bytes (NUL-terminated): words of 7 bytes; "zebra" near
 * the head's end (past the lead, where the window reaches into the rest: "yak"), an "é"
 * across the cut; "older" first for the copies stored as an older index stores them (so
 * that they are not duplicates of the others). */
static void long_body(char *body, size_t len, int older)
{
    const size_t head = SCHEMA_TEXT_HEAD_BYTES;
    for (size_t i = 0; i < len; i++)
        body[i] = "filler "[i % 7];
    if (len > head - 100)
        memcpy(body + head - 98, " zebra ", 7);
    if (len > head) {
        body[head - 1] = (char)0xC3;
        body[head] = (char)0xA9;
    }
    if (len > head + 20)
        memcpy(body + head + 14, " yak ", 5);
    if (older)
        memcpy(body, "older", 5);
    body[len] = '\0';
}

/* A long body is stored as a head and the rest (SCHEMA_TEXT_HEAD_BYTES): /doc gives it
 * whole, at every length about the cut and with a UTF-8 character across it; a snippet
 * whose window crosses the cut has the rest's words; an index written before (the whole
 * body in SCHEMA_SLOT_TEXT) reads the same. */
static void test_long_text(void **state)
{
    (void)state;
    char dir[] = "/tmp/quire-test-longtext-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/db", dir);
    const size_t head = SCHEMA_TEXT_HEAD_BYTES;
    const size_t lens[] = {100, head - 1, head, head + 1, head + 2, 3 * head + 123};
    const size_t nd = sizeof lens / sizeof lens[0];
    static char body[3 * SCHEMA_TEXT_HEAD_BYTES + 200];
    xc_error *xe = NULL;
    xc_wdb *w = xc_wdb_open(path, 1, &xe);
    assert_non_null(w);
    xc_termgen *tg = xc_termgen_new(SCHEMA_LANG, &xe);
    assert_non_null(tg);
    /* Doc k + nd holds the whole body in SCHEMA_SLOT_TEXT, as an older index does. */
    for (size_t k = 0; k < 2 * nd; k++) {
        size_t len = lens[k % nd];
        long_body(body, len, k >= nd);
        char id[32];
        snprintf(id, sizeof id, "t%zu", k);
        struct article a = {id, "long", body, len, NULL, NULL, NULL, NULL};
        xc_doc *d = schema_build(&a, "generated", tg, &xe);
        assert_non_null(d);
        if (k >= nd) {
            size_t vlen;
            char *v = schema_text_pack(body, len, &vlen);
            assert_int_equal(xc_doc_set_value(d, SCHEMA_SLOT_TEXT, v, vlen, &xe), 0);
            assert_int_equal(xc_doc_set_value(d, SCHEMA_SLOT_TEXT_REST, "", 0, &xe), 0);
            free(v);
        }
        char idterm[SCHEMA_MAX_TERM + 1];
        schema_key_term(SCHEMA_PREFIX_ID, id, idterm, sizeof idterm);
        assert_true(xc_wdb_replace(w, idterm, d, &xe) > 0);
        xc_doc_free(d);
    }
    assert_int_equal(xc_wdb_commit(w, &xe), 0);
    xc_termgen_free(tg);
    xc_wdb_free(w);

    struct search_error e;
    struct search_index *ix = search_index_open(path, &e);
    assert_non_null(ix);
    xc_db *db = xc_db_open(path, &xe);
    assert_non_null(db);
    for (size_t k = 0; k < 2 * nd; k++) {
        size_t len = lens[k % nd];
        char id[32];
        snprintf(id, sizeof id, "t%zu", k);
        json_t *doc = search_doc(ix, id, &e);
        assert_non_null(doc);
        json_t *text = json_object_get(doc, "text");
        long_body(body, len, k >= nd); /* the body again, as it was built */
        assert_int_equal(json_string_length(text), len);
        assert_memory_equal(json_string_value(text), body, len);
        json_decref(doc);
        char idterm[SCHEMA_MAX_TERM + 1];
        schema_key_term(SCHEMA_PREFIX_ID, id, idterm, sizeof idterm);
        unsigned docid = xc_db_docid_for_term(db, idterm, &xe);
        size_t tlen = 0;
        char *whole = schema_text_read(db, docid, &tlen, &xe);
        assert_non_null(whole);
        assert_int_equal(tlen, len);
        assert_memory_equal(whole, body, len);
        free(whole);
        /* A new index's head holds no more than the head's bytes. */
        char *v = xc_db_doc_value(db, docid, SCHEMA_SLOT_TEXT, &tlen, &xe);
        assert_non_null(v);
        v = schema_text_unpack(v, &tlen);
        assert_non_null(v);
        assert_int_equal(tlen, k < nd && len > head ? head : len);
        free(v);
    }
    xc_db_free(db);
    struct search_request r;
    search_request_init(&r);
    assert_int_equal(search_request_set(&r, "q", "zebra", &e), 0);
    assert_int_equal(search_request_set(&r, "limit", "20", &e), 0);
    json_t *res = search_run(ix, &r, &e);
    assert_non_null(res);
    json_t *hits = json_object_get(res, "hits");
    size_t with_yak = 0;
    for (size_t i = 0; i < json_array_size(hits); i++) {
        const char *sn = json_string_value(json_object_get(json_array_get(hits, i), "snippet"));
        assert_non_null(sn);
        assert_non_null(strstr(sn, "<b>zebra</b>"));
        with_yak += strstr(sn, " yak ") != NULL;
    }
    assert_int_equal(json_array_size(hits), 2 * (nd - 1));
    assert_int_equal(with_yak, 2); /* the longest, new and old */
    json_decref(res);
    search_request_clear(&r);
    search_index_close(ix);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Over a remote database the match deadline cannot run: the search falls back to matching
 * without it and answers in full. Uses xapian-progsrv (a pipe, no network). */
static void test_search_deadline_remote(void **state)
{
    (void)state;
    if (system("command -v xapian-progsrv >/dev/null 2>&1") != 0)
        skip();
    char dir[] = "/tmp/quire-test-remote-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300], stub[320];
    snprintf(path, sizeof path, "%s/db", dir);
    build_corpus(path, 200);
    snprintf(stub, sizeof stub, "%s/remote.stub", dir);
    FILE *f = fopen(stub, "w");
    assert_non_null(f);
    fprintf(f, "remote :xapian-progsrv %s\n", path);
    fclose(f);
    struct search_error e;
    struct search_index *ix = search_index_open(stub, &e);
    assert_non_null(ix);
    search_index_set_timeout(ix, 600000);
    for (int round = 0; round < 2; round++) { /* the first falls back, the second knows */
        json_t *res = expensive_search(ix, "common");
        assert_false(assert_well_formed(res, 100));
        assert_int_equal(json_array_size(json_object_get(res, "hits")), 100);
        assert_int_equal(facet_total(res, "source"), 200);
        json_decref(res);
    }
    search_index_close(ix);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* More wildcards than SEARCH_MAX_WILDCARDS are refused with a clear 400. */
static void test_search_wildcard_count(void **state)
{
    (void)state;
    char dir[] = "/tmp/quire-test-wild-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/db", dir);
    build_corpus(path, 50);
    struct search_error e;
    struct search_index *ix = search_index_open(path, &e);
    assert_non_null(ix);
    struct search_request r;
    search_request_init(&r);
    char q[256];
    size_t len = 0;
    for (int k = 0; k < SEARCH_MAX_WILDCARDS; k++)
        len += (size_t)snprintf(q + len, sizeof q - len, "w%02d* ", k);
    assert_int_equal(search_request_set(&r, "q", q, &e), 0);
    json_t *res = search_run(ix, &r, &e);
    assert_non_null(res);
    json_decref(res);
    snprintf(q + len, sizeof q - len, "w99*");
    assert_int_equal(search_request_set(&r, "q", q, &e), 0);
    assert_null(search_run(ix, &r, &e));
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, "query_too_complex");
    assert_non_null(strstr(e.message, "wildcards"));
    search_request_clear(&r);
    search_index_close(ix);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* took_ms blanked: the one field two runs of a search may write differently. */
static void blank_took(char *json)
{
    char *t = strstr(json, "\"took_ms\":");
    assert_non_null(t);
    t += 10;
    size_t n = strcspn(t, ",}");
    memmove(t + 1, t + n, strlen(t + n) + 1);
    *t = '0';
}

/* The daemon's answer (search_run_json, written without a tree) is the library's
 * (search_run's tree, written by json_write), byte for byte but took_ms, for requests
 * that use every part of the result; one over max is refused with the totals known. */
static void test_search_run_json(void **state)
{
    (void)state;
    char dir[] = "/tmp/quire-test-json-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/db", dir);
    build_corpus(path, 60);
    struct search_error e;
    struct search_index *ix = search_index_open(path, &e);
    assert_non_null(ix);
    static const char *const params[] = {
        "q=common",
        "q=w001+w002&op=and",
        "q=w003+w004&facets=source,category,year&explain=1&limit=3",
        "q=w00*&fields=title,date&exact=1&offset=2",
        "q=commn+w005&limit=0",
        "q=title:article+w006&sort=date&dedup=0&mark_open=%5B&mark_close=%5D",
        "q=source:src3",
        "q=nothingatall",
    };
    for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
        struct search_request r;
        search_request_init(&r);
        assert_int_equal(search_request_from_query(&r, params[i], &e), 0);
        json_t *res = search_run(ix, &r, &e);
        assert_non_null(res);
        struct strbuf want, got;
        sb_init(&want);
        sb_init(&got);
        assert_int_equal(json_write(res, &want, SIZE_MAX, SEARCH_JSON_PRECISION), JSON_WRITE_OK);
        struct search_summary sum;
        sb_puts(&got, "x");
        assert_int_equal(search_run_json(ix, &r, &got, SIZE_MAX, &sum, &e), 0);
        blank_took(want.buf);
        blank_took(got.buf);
        assert_string_equal(got.buf + 1, want.buf);
        assert_int_equal(sum.timed_out, json_is_true(json_object_get(res, "timed_out")));
        assert_int_equal(sum.estimated, json_integer_value(json_object_get(
                                            json_object_get(res, "total"), "estimated")));
        /* Over max (short of even the totals): refused, nothing written, the totals still
         * reported. */
        got.len = 0;
        struct search_summary small;
        assert_int_equal(search_run_json(ix, &r, &got, 20, &small, &e),
                         SEARCH_JSON_TOO_LARGE);
        assert_int_equal(got.len, 0);
        assert_int_equal(small.estimated, sum.estimated);
        sb_free(&want);
        sb_free(&got);
        json_decref(res);
        search_request_clear(&r);
    }
    search_index_close(ix);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The stored body: a prefix unpacked is the text's prefix, for every length around the
 * text's own, packed (long) and plain (short); a damaged stream is refused. */
static void test_text_prefix(void **state)
{
    (void)state;
    static char text[30000];
    uint64_t x = 88172645463325252ULL; /* xorshift64, fixed seed */
    static const char *const words[] = {"bank ", "rates ", "café ", "fell\n", "3.5% ", "the "};
    size_t n = 0;
    while (n + 8 < sizeof text) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *w = words[x % 6];
        memcpy(text + n, w, strlen(w));
        n += strlen(w);
    }
    size_t sizes[] = {n, 100}; /* 100: below the packing threshold, stored plain */
    size_t maxes[] = {0, 1, 99, 100, 101, 4096, 21000, n - 1, n, n + 1, (size_t)-1};
    for (size_t si = 0; si < 2; si++) {
        for (size_t mi = 0; mi < sizeof maxes / sizeof maxes[0]; mi++) {
            size_t vlen;
            char *v = schema_text_pack(text, sizes[si], &vlen);
            assert_non_null(v);
            char *copy = malloc(vlen + 1); /* values come NUL-terminated from the binding */
            memcpy(copy, v, vlen);
            copy[vlen] = '\0';
            free(v);
            size_t want = sizes[si] < maxes[mi] ? sizes[si] : maxes[mi];
            /* From a borrowed value (as the snippet path reads it): the same, value intact. */
            size_t len = 0;
            char *got = schema_text_prefix(copy, vlen, maxes[mi], &len);
            assert_non_null(got);
            assert_int_equal(len, want);
            assert_memory_equal(got, text, want);
            assert_int_equal(got[want], '\0');
            free(got);
            len = vlen;
            got = schema_text_unpack_prefix(copy, &len, maxes[mi]);
            assert_non_null(got);
            assert_int_equal(len, want);
            assert_memory_equal(got, text, want);
            assert_int_equal(got[want], '\0');
            free(got);
        }
    }
    /* An older index's value: a zlib stream after 0xFF and the length. Every prefix of it
     * still reads, and so does the whole text (schema_text_unpack checks its checksum). */
    uLongf zcap = compressBound((uLong)n);
    char *zv = malloc(5 + zcap + 1);
    assert_non_null(zv);
    assert_int_equal(compress2((Bytef *)zv + 5, &zcap, (const Bytef *)text, (uLong)n, 6), Z_OK);
    zv[0] = (char)0xFF;
    for (int k = 0; k < 4; k++)
        zv[1 + k] = (char)((n >> (8 * k)) & 0xFF);
    for (size_t mi = 0; mi <= sizeof maxes / sizeof maxes[0]; mi++) {
        char *copy = malloc(5 + zcap + 1);
        memcpy(copy, zv, 5 + zcap);
        copy[5 + zcap] = '\0';
        size_t len = 5 + zcap;
        size_t want = mi < sizeof maxes / sizeof maxes[0] && maxes[mi] < n ? maxes[mi] : n;
        char *got = mi < sizeof maxes / sizeof maxes[0]
                        ? schema_text_unpack_prefix(copy, &len, maxes[mi])
                        : schema_text_unpack(copy, &len);
        assert_non_null(got);
        assert_int_equal(len, want);
        assert_memory_equal(got, text, want);
        assert_int_equal(got[want], '\0');
        free(got);
    }
    free(zv);
    /* A damaged block: a byte of the packed data changed, or the block cut short. */
    size_t vlen;
    char *v = schema_text_pack(text, n, &vlen);
    assert_true(vlen < n && (unsigned char)v[0] == 0xFE);
    for (int cut = 0; cut < 2; cut++) {
        char *copy = malloc(vlen + 1);
        memcpy(copy, v, vlen);
        size_t len = cut ? vlen / 2 : vlen;
        if (!cut)
            copy[7] = (char)(copy[7] ^ 0x55);
        size_t plen = 0;
        char *got = schema_text_prefix(copy, len, (size_t)-1, &plen);
        if (cut)
            assert_null(got);
        else if (got)
            assert_true(plen != n || memcmp(got, text, n) != 0);
        free(got);
        got = schema_text_unpack_prefix(copy, &len, (size_t)-1);
        if (cut)
            assert_null(got);
        else if (got) /* changed data may still decode, but never to the text */
            assert_true(len != n || memcmp(got, text, n) != 0);
        free(got);
        /* The whole text through schema_text_unpack: the same. */
        copy = malloc(vlen + 1);
        memcpy(copy, v, vlen);
        len = cut ? vlen / 2 : vlen;
        if (!cut)
            copy[7] = (char)(copy[7] ^ 0x55);
        got = schema_text_unpack(copy, &len);
        if (cut)
            assert_null(got);
        else if (got) /* changed data may still inflate, but never to the text */
            assert_true(len != n || memcmp(got, text, n) != 0);
        free(got);
    }
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_prefix),
        cmocka_unit_test(test_request_defaults_and_limits),
        cmocka_unit_test(test_request_json),
        cmocka_unit_test(test_request_shaping),
        cmocka_unit_test(test_querytext),
        cmocka_unit_test(test_querytext_content),
        cmocka_unit_test(test_request_filters),
        cmocka_unit_test(test_filter_dates_property),
        cmocka_unit_test(test_value_key),
        cmocka_unit_test(test_display_round_trip),
        cmocka_unit_test(test_snippet),
        cmocka_unit_test(test_dbdir),
        cmocka_unit_test(test_search_deadline),
        cmocka_unit_test(test_long_text),
        cmocka_unit_test(test_search_deadline_remote),
        cmocka_unit_test(test_search_wildcard_count),
        cmocka_unit_test(test_search_run_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
