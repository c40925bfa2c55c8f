/*
 * test_search.c -- unit tests of request decoding (the bounds every caller shares), the
 * schema's display data, the snippet maker and the index-directory helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dbdir.h"
#include "schema.h"
#include "search.h"
#include "snippet.h"

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
    assert_int_equal(dbdir_writer_path(dir, 0, path, sizeof path, why, sizeof why), -1);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_defaults_and_limits),
        cmocka_unit_test(test_request_json),
        cmocka_unit_test(test_display_round_trip),
        cmocka_unit_test(test_snippet),
        cmocka_unit_test(test_dbdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
