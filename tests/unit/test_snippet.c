/*
 * test_snippet.c -- complete highlighting, one regression test per defect once seen: only
 * the first occurrence marked ("muse spark"), inflected and capitalised forms left plain
 * (Banks, Bank), wildcards (petro*), capitalised Cyrillic (Москве), CJK and phrases never
 * marked, excluded terms marked; plus the window length and the marked title.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_occurrence), cmocka_unit_test(test_inflections_and_case),
        cmocka_unit_test(test_wildcard),         cmocka_unit_test(test_cyrillic),
        cmocka_unit_test(test_cjk),              cmocka_unit_test(test_phrase),
        cmocka_unit_test(test_near_adj),         cmocka_unit_test(test_excluded),
        cmocka_unit_test(test_window_length),
        cmocka_unit_test(test_title),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
