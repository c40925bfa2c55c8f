/*
 * test_snippet.c -- complete highlighting, one regression test per defect once seen: only
 * the first occurrence marked ("muse spark"), inflected and capitalised forms left plain
 * (Banks, Bank), wildcards (petro*), capitalised Cyrillic (Москве), CJK and phrases never
 * marked, excluded terms marked; plus the window length, the window's place (the lead
 * first), the marked title, and the property that a snippet needs no more of a long text
 * than snippet_text_bytes says (nor, read as a search reads it, than snippet_lead_bytes
 * when the lead holds a match).
 *
 * Queries go through the real query parser (the binding, configured as the search path
 * configures it) and snippet_terms_from_query, as a search does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <time.h>

#include "schema.h"
#include "snippet.h"
#include "xapian-c/xc.h"

struct fixture {
    xc_stem *stem;
    xc_qp *qp;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->stem = xc_stem_new(SCHEMA_LANG, NULL);
    f->qp = xc_qp_new(SCHEMA_LANG, NULL, NULL);
    if (!f->stem || !f->qp || schema_configure_parser(f->qp, NULL) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    xc_qp_free(f->qp);
    xc_stem_free(f->stem);
    free(f);
    return 0;
}

static struct snippet_terms *terms_for(struct fixture *f, const char *q)
{
    unsigned flags = XC_QP_DEFAULT | XC_QP_WILDCARD | XC_QP_PURE_NOT | XC_QP_CJK_NGRAM;
    xc_query *query = xc_qp_parse(f->qp, q, flags, NULL);
    assert_non_null(query);
    struct snippet_terms *t = snippet_terms_new(f->stem);
    assert_non_null(t);
    assert_int_equal(snippet_terms_from_query(t, query), 0);
    xc_query_free(query);
    return t;
}

static char *snip(struct fixture *f, const char *q, const char *text, size_t target)
{
    struct snippet_terms *t = terms_for(f, q);
    char *s = snippet_make(t, text, strlen(text), target, "[", "]");
    assert_non_null(s);
    snippet_terms_free(t);
    return s;
}

static unsigned count(const char *s, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_every_occurrence(void **state)
{
    char *s = snip(*state, "muse spark",
                   "The new model: Muse Spark. Unlike its predecessors, Muse Spark is fast; "
                   "muse sparks interest.",
                   200);
    assert_string_equal(s, "The new model: [Muse] [Spark]. Unlike its predecessors, [Muse] "
                           "[Spark] is fast; [muse] [sparks] interest.");
    free(s);
}

static void test_inflections_and_case(void **state)
{
    char *s = snip(*state, "bank",
                   "Banks said the Bank of England and other banking groups met a bank.", 200);
    assert_string_equal(s, "[Banks] said the [Bank] of England and other [banking] groups "
                           "met a [bank].");
    free(s);
    /* A capitalised query word (the parser leaves it unstemmed) marks the same words. */
    s = snip(*state, "Banks", "Banks said the Bank of England met a bank.", 200);
    assert_string_equal(s, "[Banks] said the [Bank] of England met a [bank].");
    free(s);
}

static void test_wildcard(void **state)
{
    char *s = snip(*state, "petro*", "Petrobras sold petroleum; a petrol station, not Peter.",
                   200);
    assert_string_equal(s, "[Petrobras] sold [petroleum]; a [petrol] station, not Peter.");
    free(s);
}

static void test_cyrillic(void **state)
{
    char *s = snip(*state, "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb5",
                   "\xd0\x92 \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb5 \xd0\xb8 "
                   "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb5.",
                   200);
    assert_string_equal(s, "\xd0\x92 [\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb5] "
                           "\xd0\xb8 [\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb5].");
    free(s);
}

static void test_cjk(void **state)
{
    /* 中文报道 in 这是中文报道。 and again after other text. */
    char *s = snip(*state, "\xe4\xb8\xad\xe6\x96\x87\xe6\x8a\xa5\xe9\x81\x93",
                   "\xe8\xbf\x99\xe6\x98\xaf\xe4\xb8\xad\xe6\x96\x87\xe6\x8a\xa5\xe9\x81\x93"
                   "\xe3\x80\x82 news \xe4\xb8\xad\xe6\x96\x87\xe6\x8a\xa5\xe9\x81\x93",
                   200);
    assert_string_equal(s, "\xe8\xbf\x99\xe6\x98\xaf[\xe4\xb8\xad\xe6\x96\x87\xe6\x8a\xa5"
                           "\xe9\x81\x93]\xe3\x80\x82 news [\xe4\xb8\xad\xe6\x96\x87\xe6\x8a"
                           "\xa5\xe9\x81\x93]");
    free(s);
}

static void test_phrase(void **state)
{
    char *s = snip(*state, "\"muse spark\"",
                   "A muse here. Muse Spark is new, and Muse  Spark again; a spark alone.", 200);
    assert_string_equal(s, "A muse here. [Muse] [Spark] is new, and [Muse] [Spark] again; a "
                           "spark alone.");
    free(s);
    /* A word of the phrase that the query also asks for alone is marked everywhere. */
    s = snip(*state, "\"muse spark\" spark", "A muse here. Muse Spark is new; a spark alone.",
             200);
    assert_string_equal(s, "A muse here. [Muse] [Spark] is new; a [spark] alone.");
    free(s);
}

static void test_near_adj(void **state)
{
    /* NEAR/2: within 2 positions apart, any order; a lone word elsewhere stays plain. */
    char *s = snip(*state, "muse NEAR/2 spark",
                   "A muse here, then more words. Spark and muse; spark a b c d muse.", 200);
    assert_string_equal(s, "A muse here, then more words. [Spark] and [muse]; [spark] a b c d "
                           "muse.");
    free(s);
    /* ADJ/2: in order only. */
    s = snip(*state, "muse ADJ/2 spark",
             "Spark the muse. Muse the spark. Muse spark. Then spark and muse.", 200);
    assert_string_equal(s, "Spark the muse. [Muse] the [spark]. [Muse] [spark]. Then spark and "
                           "muse.");
    free(s);
    /* Words are exact (not stemmed), as Xapian searches them; three words need all three
     * within 4 positions of each other (window 5): "rates" at 2 with "bank" at 5 and "cut"
     * at 6, "cut" at 9 with 5 and 7, but not "bank" at 1 nor "rates" at 10. */
    s = snip(*state, "bank NEAR/3 rates NEAR/3 cut",
             "The bank rates fell. The bank cut rates. Banks cut rates, a rate cut by the bank.",
             200);
    assert_string_equal(s, "The bank [rates] fell. The [bank] [cut] [rates]. Banks [cut] rates, "
                           "a rate cut by the bank.");
    free(s);
    /* A match whose last word lies past the window marks the words inside it. */
    char text[4000];
    size_t len = (size_t)snprintf(text, sizeof text, "muse");
    for (int i = 0; i < 30; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, " filler%02d", i);
    len += (size_t)snprintf(text + len, sizeof text - len, " spark.");
    s = snip(*state, "muse NEAR/40 spark", text, 60);
    assert_int_equal(strncmp(s, "[muse] filler00", 15), 0);
    free(s);
    s = snip(*state, "muse NEAR/20 spark", text, 60);
    assert_int_equal(count(s, "["), 0);
    free(s);
}

static void test_excluded(void **state)
{
    const char *text = "Blair went to the bank; the banks and Blair's aides.";
    const char *queries[] = {"bank -blair", "bank NOT blair", "bank AND NOT blair"};
    for (size_t i = 0; i < 3; i++) {
        char *s = snip(*state, queries[i], text, 200);
        assert_string_equal(s, "Blair went to the [bank]; the [banks] and Blair&#39;s aides.");
        free(s);
    }
    char *s = snip(*state, "NOT blair", text, 200);
    assert_int_equal(count(s, "["), 0);
    free(s);
}

/* The window comes from the lead (the first SNIPPET_LEAD_BYTES) when the lead holds a
 * query word, even when a later window holds more of them; from further on (up to
 * SNIPPET_SCAN_BYTES) only when the lead holds none; and never from past that. */
static void test_lead_first(void **state)
{
    static char text[3 * SNIPPET_SCAN_BYTES];
    const size_t at[3] = {100, SNIPPET_LEAD_BYTES + 2000, 2 * SNIPPET_SCAN_BYTES};
    const char *words[3] = {"alpha ", "alpha beta ", "gamma "};
    size_t len = 0;
    int k = 0;
    /* "alpha" early, "alpha beta" together past the lead, "gamma" past the scan bound. */
    while (len < sizeof text - 64) {
        const char *w = k < 3 && len >= at[k] ? words[k++] : "filler ";
        len += (size_t)snprintf(text + len, sizeof text - len, "%s", w);
    }
    char *s = snip(*state, "alpha beta", text, 0);
    assert_int_equal(count(s, "[alpha]"), 1);
    assert_int_equal(count(s, "[beta]"), 0);
    free(s);
    s = snip(*state, "beta", text, 0); /* not in the lead: from further on */
    assert_int_equal(count(s, "[beta]"), 1);
    free(s);
    s = snip(*state, "gamma", text, 0); /* past the scan bound: the start, unmarked */
    assert_int_equal(count(s, "["), 0);
    assert_true(strncmp(s, "filler", 6) == 0);
    free(s);

    /* A phrase across the lead's end, read as a search reads it (the lead, then more): its
     * first word is in the lead, which holds no match, and is marked all the same. */
    len = 0;
    while (len < SNIPPET_LEAD_BYTES - 20)
        len += (size_t)snprintf(text + len, sizeof text - len, "filler ");
    while (len < SNIPPET_LEAD_BYTES - 4)
        text[len++] = ' ';
    len += (size_t)snprintf(text + len, sizeof text - len, "new york");
    while (len < sizeof text - 64)
        len += (size_t)snprintf(text + len, sizeof text - len, " filler");
    struct snippet_terms *t = terms_for(*state, "\"new york\"");
    size_t lead = snippet_lead_bytes(t, 0), from = 0;
    int more = 0;
    assert_null(snippet_make_lead(t, text, lead, 1, 0, "[", "]", &more, &from));
    assert_int_equal(more, 1);
    s = snippet_make_from(t, text, snippet_text_bytes(t, 0), from, 0, "[", "]");
    assert_non_null(s);
    assert_int_equal(count(s, "[new]"), 1);
    assert_int_equal(count(s, "[york]"), 1);
    free(s);
    snippet_terms_free(t);
}

static void test_window_length(void **state)
{
    char text[8000];
    size_t len = 0;
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s ",
                                i == 150 ? "target" : i % 7 ? "filler" : "words");
    for (size_t target = SNIPPET_MIN_BYTES; target <= SNIPPET_MAX_BYTES; target += 50) {
        char *s = snip(*state, "target", text, target);
        assert_int_equal(count(s, "[target]"), 1);
        size_t n = strlen(s);
        /* The window plus the ellipses and markers, give or take a word at each end. */
        assert_true(n >= target - 20 && n <= target + 60);
        free(s);
    }
}

static void test_title(void **state)
{
    struct fixture *f = *state;
    struct snippet_terms *t = terms_for(f, "banks title:england -blair");
    char *out = NULL;
    const char *title = "Bank of England & the banks, not Blair";
    assert_int_equal(snippet_mark_title(t, title, strlen(title), "<b>", "</b>", &out), 0);
    assert_string_equal(out, "<b>Bank</b> of <b>England</b> &amp; the <b>banks</b>, not Blair");
    free(out);
    /* A title-only term does not mark the body. */
    char *s = snippet_make(t, title, strlen(title), 200, "<b>", "</b>");
    assert_string_equal(s, "<b>Bank</b> of England &amp; the <b>banks</b>, not Blair");
    free(s);
    assert_int_equal(snippet_mark_title(t, "Nothing here", 12, "<b>", "</b>", &out), 0);
    assert_null(out);
    snippet_terms_free(t);
}

/* Property: a snippet made from the first snippet_text_bytes(t, target) bytes of a text is
 * the snippet made from the whole text (what the search path relies on when it decodes
 * only that much of a long article). Texts: bbc-news bodies joined into texts of 24 to 64
 * KB ($QUIRE_SHARED/corpora); queries: one to three of a text's words drawn anywhere in
 * it, sometimes as a phrase or with a wildcard; window lengths drawn from 50 to 1000.
 * Seeded (printed; QUIRE_TEST_SEED replays). */
static void test_prefix_is_enough(void **state)
{
    struct fixture *f = *state;
    const char *env = getenv("QUIRE_TEST_SEED");
    uint64_t x = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    printf("# prefix: seed %llu (QUIRE_TEST_SEED=%llu replays)\n", (unsigned long long)x,
           (unsigned long long)x);
    x = x * 2685821657736338717ULL + 1;
    const char *shared = getenv("QUIRE_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/corpora/bbc-news/docs.jsonl", shared ? shared : "../shared");
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s (set QUIRE_SHARED)", path);
    size_t cap = 70000, len = 0, want = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    unsigned texts = 0, queries = 0, leads_more = 0;
    while ((n = getline(&line, &lcap, fp)) > 0 && texts < 300) {
        json_error_t je;
        json_t *doc = json_loadb(line, (size_t)n, 0, &je);
        assert_non_null(doc);
        json_t *body = json_object_get(doc, "body");
        size_t bl = json_is_string(body) ? json_string_length(body) : 0;
        if (want == 0) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            want = (24 + x % 41) << 10;
        }
        if (bl > 0 && len + bl + 2 < cap) {
            memcpy(text + len, json_string_value(body), bl);
            len += bl;
            text[len++] = '\n';
        }
        json_decref(doc);
        if (len < want)
            continue;
        text[len] = '\0';
        texts++;
        for (int k = 0; k < 3; k++) {
            /* Words at random offsets: the run of letters there. */
            char q[256];
            size_t ql = 0;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int words = 1 + (int)(x % 3), form = (int)((x >> 8) % 4);
            if (form == 1)
                q[ql++] = '"';
            for (int w = 0; w < words; w++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                size_t at = (size_t)(x % len);
                while (at > 0 && ((text[at - 1] >= 'a' && text[at - 1] <= 'z') ||
                                  (text[at - 1] >= 'A' && text[at - 1] <= 'Z')))
                    at--;
                size_t e = at;
                while (e < len && e - at < 20 && ((text[e] >= 'a' && text[e] <= 'z') ||
                                                  (text[e] >= 'A' && text[e] <= 'Z')))
                    e++;
                if (e == at)
                    continue;
                if (ql > 0 && q[ql - 1] != '"')
                    q[ql++] = ' ';
                memcpy(q + ql, text + at, e - at);
                ql += e - at;
                if (form == 2 && e - at > 3) {
                    ql -= (e - at) / 2;
                    q[ql++] = '*';
                }
            }
            if (form == 1)
                q[ql++] = '"';
            q[ql] = '\0';
            if (ql < 3)
                continue;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t target = SNIPPET_MIN_BYTES + (size_t)(x % (SNIPPET_MAX_BYTES - SNIPPET_MIN_BYTES + 1));
            struct snippet_terms *t = terms_for(f, q);
            size_t cut = snippet_text_bytes(t, target);
            assert_true(cut <= SNIPPET_TEXT_BYTES && cut < len);
            char *whole = snippet_make(t, text, len, target, "[", "]");
            char *prefix = snippet_make(t, text, cut, target, "[", "]");
            assert_non_null(whole);
            assert_non_null(prefix);
            if (strcmp(whole, prefix) != 0)
                fail_msg("query '%s', window %zu: the first %zu bytes give\n%s\nthe whole text "
                         "(%zu bytes) gives\n%s", q, target, cut, prefix, len, whole);
            /* As a search reads it: the lead, then (when the lead holds no match) the first
             * cut bytes, the scan going on where the lead's stopped. */
            size_t lead = snippet_lead_bytes(t, target), from = 0;
            assert_true(lead <= cut);
            int more = 0;
            char *led = snippet_make_lead(t, text, lead, 1, target, "[", "]", &more, &from);
            if (more) {
                assert_null(led);
                assert_true(from < lead);
                leads_more++;
                led = snippet_make_from(t, text, cut, from, target, "[", "]");
            }
            assert_non_null(led);
            if (strcmp(whole, led) != 0)
                fail_msg("query '%s', window %zu: the lead (%zu bytes, more %d from %zu) gives\n"
                         "%s\nthe whole text (%zu bytes) gives\n%s", q, target, lead, more, from,
                         led, len, whole);
            free(led);
            free(whole);
            free(prefix);
            snippet_terms_free(t);
            queries++;
        }
        len = 0;
        want = 0;
    }
    free(line);
    fclose(fp);
    free(text);
    printf("# prefix: %u texts, %u queries: the prefix's snippet is the whole text's, and so is "
           "the lead's (%u read on past it)\n",
           texts, queries, leads_more);
    assert_true(texts >= 100);
    assert_true(leads_more > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_occurrence), cmocka_unit_test(test_inflections_and_case),
        cmocka_unit_test(test_wildcard),         cmocka_unit_test(test_cyrillic),
        cmocka_unit_test(test_cjk),              cmocka_unit_test(test_phrase),
        cmocka_unit_test(test_near_adj),         cmocka_unit_test(test_excluded),
        cmocka_unit_test(test_lead_first),       cmocka_unit_test(test_window_length),
        cmocka_unit_test(test_title),            cmocka_unit_test(test_prefix_is_enough),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
