/*
 * test_analytics.c -- the query analytics tables (daemon/analytics.c) against a model that
 * counts every query exactly.
 *
 * Random streams of queries (Zipf-like, seeded; the seed is printed and QUIRE_SEED
 * replays one) are counted by the table and by the model. Properties:
 *   - while the distinct queries fit the table, every count equals the model's and the
 *     report says "exact": true;
 *   - past that, "exact" is false and for every reported query count_min <= true count <=
 *     count, and every query seen more than (searches / capacity) times is reported;
 *   - the lists are ordered by count, at most `limit` long, and zero_hits counts only
 *     searches that found nothing;
 *   - normalising is Unicode case and white space, nothing else, and never cuts a character.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "analytics.h"
#include "number.h"
#include "util.h"

static unsigned long long rng_state;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

/* The model: exact counts of query number k (queries are "query k"). */
struct model {
    unsigned n;
    unsigned long *all;
    unsigned long *zero;
};

/* Query k's text; k even found nothing in these streams when k % 7 == 0. */
static void query_text(unsigned k, char *out, size_t outlen)
{
    snprintf(out, outlen, "query %u", k);
}

static int is_zero(unsigned k)
{
    return k % 7 == 0;
}

/* Looks q up in a report list: its count and count_min (count when exact). 0 when not
 * there. */
static int find(json_t *list, const char *q, unsigned long *count, unsigned long *min)
{
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        if (!strcmp(json_string_value(json_object_get(o, "q")), q)) {
            *count = (unsigned long)json_integer_value(json_object_get(o, "count"));
            json_t *m = json_object_get(o, "count_min");
            *min = m ? (unsigned long)json_integer_value(m) : *count;
            return 1;
        }
    }
    return 0;
}

/* Runs one stream of `searches` queries over `distinct` query texts and checks the
 * properties above. */
static void check_stream(unsigned distinct, unsigned searches)
{
    struct analytics *a = analytics_new();
    assert_non_null(a);
    struct model m = {distinct, calloc(distinct, sizeof(unsigned long)),
                      calloc(distinct, sizeof(unsigned long))};
    assert_non_null(m.all);
    assert_non_null(m.zero);
    char q[64];
    for (unsigned s = 0; s < searches; s++) {
        /* Zipf-like: small numbers far more often. */
        unsigned k = rnd(1 + rnd(distinct));
        query_text(k, q, sizeof q);
        assert_int_equal(analytics_record(a, q, strlen(q), is_zero(k)), 0);
        m.all[k]++;
        if (is_zero(k))
            m.zero[k]++;
    }
    json_t *rep = analytics_report(a, ANALYTICS_CAPACITY);
    assert_non_null(rep);
    unsigned seen = 0, seen_zero = 0;
    for (unsigned k = 0; k < distinct; k++) {
        seen += m.all[k] > 0;
        seen_zero += m.zero[k] > 0;
    }
    int fits = seen <= ANALYTICS_CAPACITY && seen_zero <= ANALYTICS_CAPACITY;
    assert_int_equal(json_is_true(json_object_get(rep, "exact")), fits);
    assert_int_equal(json_integer_value(json_object_get(rep, "searches")), searches);
    const char *lists[2] = {"top", "zero_hits"};
    for (int l = 0; l < 2; l++) {
        json_t *list = json_object_get(rep, lists[l]);
        unsigned long *truth = l ? m.zero : m.all;
        unsigned long total = 0;
        for (unsigned k = 0; k < distinct; k++)
            total += truth[k];
        /* Ordered by count. */
        unsigned long prev = (unsigned long)-1;
        size_t i;
        json_t *o;
        json_array_foreach(list, i, o)
        {
            unsigned long c = (unsigned long)json_integer_value(json_object_get(o, "count"));
            assert_true(c <= prev);
            prev = c;
        }
        for (unsigned k = 0; k < distinct; k++) {
            query_text(k, q, sizeof q);
            unsigned long count = 0, min = 0;
            int there = find(list, q, &count, &min);
            if (fits) {
                /* Exact: every query seen is there with its count, no other. */
                assert_int_equal(there, truth[k] > 0);
                if (there)
                    assert_int_equal(count, truth[k]);
            } else {
                if (there) {
                    assert_true(min <= truth[k]);
                    assert_true(truth[k] <= count);
                }
                if (truth[k] > total / ANALYTICS_CAPACITY)
                    assert_true(there);
            }
        }
    }
    json_t *small = analytics_report(a, 3);
    assert_true(json_array_size(json_object_get(small, "top")) <= 3);
    json_decref(small);
    json_decref(rep);

    analytics_reset(a);
    rep = analytics_report(a, 10);
    assert_int_equal(json_array_size(json_object_get(rep, "top")), 0);
    assert_int_equal(json_array_size(json_object_get(rep, "zero_hits")), 0);
    assert_true(json_is_true(json_object_get(rep, "exact")));
    json_decref(rep);
    free(m.all);
    free(m.zero);
    analytics_free(a);
}

static void test_exact_while_it_fits(void **state)
{
    (void)state;
    check_stream(ANALYTICS_CAPACITY / 2, 20000);
    check_stream(ANALYTICS_CAPACITY, 50000);
}

static void test_bounds_past_capacity(void **state)
{
    (void)state;
    check_stream(ANALYTICS_CAPACITY * 4, 100000);
    check_stream(ANALYTICS_CAPACITY * 50, 200000);
}

/* A search answer is counted from its first page only, as found-nothing when its total is
 * 0; report_reset answers the counts as they were and empties the tables. */
static void test_record_search_and_reset(void **state)
{
    (void)state;
    struct analytics *a = analytics_new();
    unsigned long none = 0, some = 12; /* the answers' estimated totals */
    assert_int_equal(analytics_record_search(a, "Muse", 0, some), 0);
    assert_int_equal(analytics_record_search(a, "muse", 10, some), 0); /* a later page */
    assert_int_equal(analytics_record_search(a, "zzq", 0, none), 0);
    assert_int_equal(analytics_record_search(a, NULL, 0, none), 0);
    json_t *rep = analytics_report_reset(a, 10);
    assert_int_equal(json_integer_value(json_object_get(rep, "searches")), 2);
    json_t *top = json_object_get(rep, "top");
    assert_int_equal(json_array_size(top), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(top, 0), "q")), "muse");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(top, 0), "count")), 1);
    json_t *zero = json_object_get(rep, "zero_hits");
    assert_int_equal(json_array_size(zero), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(zero, 0), "q")), "zzq");
    json_decref(rep);
    rep = analytics_report(a, 10);
    assert_int_equal(json_integer_value(json_object_get(rep, "searches")), 0);
    assert_int_equal(json_array_size(json_object_get(rep, "top")), 0);
    json_decref(rep);
    analytics_free(a);
}

/* A flood of distinct queries: each table stays at its capacity. */
static void test_flood(void **state)
{
    (void)state;
    struct analytics *a = analytics_new();
    char q[64];
    for (unsigned i = 0; i < 300000; i++) {
        snprintf(q, sizeof q, "flood %u %u", i, rnd(1000000));
        assert_int_equal(analytics_record(a, q, strlen(q), 1), 0);
    }
    json_t *rep = analytics_report(a, 100000);
    assert_int_equal(json_array_size(json_object_get(rep, "top")), ANALYTICS_CAPACITY);
    assert_int_equal(json_array_size(json_object_get(rep, "zero_hits")), ANALYTICS_CAPACITY);
    assert_false(json_is_true(json_object_get(rep, "exact")));
    json_decref(rep);
    analytics_free(a);
}

static void test_normalise(void **state)
{
    (void)state;
    char out[ANALYTICS_MAX_QUERY + 1];
    struct {
        const char *in, *want;
    } cases[] = {
        {"  Muse   SPARK ", "muse spark"},
        {"muse\tspark\n", "muse spark"},
        {"МОСКВА", "москва"},
        {"Éléphant", "éléphant"},
        {"   ", ""},
        {"title:\"Budget Cuts\"", "title:\"budget cuts\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long n = analytics_normalise(cases[i].in, strlen(cases[i].in), out, sizeof out);
        assert_int_equal(n, (long)strlen(cases[i].want));
        assert_string_equal(out, cases[i].want);
    }
    /* Case and spaces are one query; different words are not. */
    struct analytics *a = analytics_new();
    assert_int_equal(analytics_record(a, "Muse  Spark", 11, 0), 0);
    assert_int_equal(analytics_record(a, " muse spark", 11, 0), 0);
    assert_int_equal(analytics_record(a, "muse sparks", 11, 0), 0);
    assert_int_equal(analytics_record(a, "   ", 3, 1), 0); /* empty: not counted */
    json_t *rep = analytics_report(a, 10);
    json_t *top = json_object_get(rep, "top");
    assert_int_equal(json_array_size(top), 2);
    unsigned long c, min;
    assert_true(find(top, "muse spark", &c, &min));
    assert_int_equal(c, 2);
    assert_int_equal(json_array_size(json_object_get(rep, "zero_hits")), 0);
    json_decref(rep);
    analytics_free(a);
    /* Long queries of 2-, 3- and 4-byte characters are cut on a character boundary. */
    const char *chars[] = {"é", "語", "😀"};
    for (int c2 = 0; c2 < 3; c2++) {
        struct strbuf sb;
        sb_init(&sb);
        for (int i = 0; i < 300; i++)
            sb_puts(&sb, chars[c2]);
        long n = analytics_normalise(sb.buf, sb.len, out, sizeof out);
        assert_true(n > 0 && n <= ANALYTICS_MAX_QUERY);
        assert_true(util_utf8_valid(out, (size_t)n));
        assert_int_equal(n % (long)strlen(chars[c2]), 0);
        sb_free(&sb);
    }
}

int main(void)
{
    const char *env = getenv("QUIRE_SEED");
    long given;
    rng_state = env && num_parse_long(env, 0, LONG_MAX, &given) == NUM_OK
                    ? (unsigned long long)given
                    : (unsigned long long)time(NULL);
    printf("# test_analytics seed %llu (QUIRE_SEED=%llu replays it)\n", rng_state, rng_state);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_while_it_fits),
        cmocka_unit_test(test_bounds_past_capacity),
        cmocka_unit_test(test_flood),
        cmocka_unit_test(test_record_search_and_reset),
        cmocka_unit_test(test_normalise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
