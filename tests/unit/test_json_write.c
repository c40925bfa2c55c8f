/*
 * test_json_write.c -- json_write (lib/json_write.h) against jansson as the oracle: for
 * seeded random trees (the seed is printed; QUIRE_TEST_SEED replays it) its bytes equal
 * json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(p)) for every precision quired or a
 * test uses, and a tree jansson refuses to write (a string that is not UTF-8) is refused.
 * The trees hold what answers hold and what breaks encoders: every control character,
 * quotes and backslashes, UTF-8 of every length, NUL inside strings, the
 * extremes of integers, reals of every magnitude and sign (-0.0, whole numbers, tiny and
 * huge exponents, short decimals and the bounds of plain notation), nesting, empty containers and replaced keys. Then the limit: an output
 * over max is refused with the buffer as it was, one of exactly max bytes is written.
 * The writer that builds no tree (struct json_writer) is held to json_write the same way:
 * each random tree written piece by piece gives json_write's bytes, or its refusal.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_write.h"
#include "seeded.h"
#include "util.h"

#define TREES 20000

static unsigned pick(unsigned n)
{
    return (unsigned)(seeded_next() % n);
}

/* Random string bytes; *valid is cleared when they are not UTF-8 (a stray byte). Keys
 * take no NUL and no stray byte: allow_invalid 0 leaves both out. */
static size_t random_text(char *buf, size_t cap, int allow_invalid, int *valid)
{
    static const char *pieces[] = {
        "a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x01", "\x1f", "\x7f",
        "\xc3\xa9", "\xd0\x9c", "\xe2\x80\x94", "\xe4\xb8\xad", "\xef\xbf\xbd",
        "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "<b>", "&amp;", "word", "0", "-1.5e3",
    };
    static const char *bad[] = {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf5\x80\x80\x80",
                                "\xe2\x80", "\xff", "\xc3"};
    size_t n = 0, parts = pick(12);
    *valid = 1;
    for (size_t i = 0; i < parts; i++) {
        const char *p;
        size_t len;
        if (allow_invalid && pick(40) == 0) { /* NUL inside */
            p = "\0";
            len = 1;
        } else if (allow_invalid && pick(60) == 0) {
            p = bad[pick(sizeof bad / sizeof *bad)];
            len = strlen(p);
            *valid = 0;
        } else {
            p = pieces[pick(sizeof pieces / sizeof *pieces)];
            len = strlen(p);
        }
        if (n + len > cap)
            break;
        memcpy(buf + n, p, len);
        n += len;
    }
    return n;
}

static double random_real(void)
{
    static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e12, 1e15, 1e18};
    switch (pick(12)) {
    case 8: /* a rounded score or time: a short decimal */
    case 9: return (double)((int64_t)(seeded_next() % 2000000001) - 1000000000) /
                   p10[pick(sizeof p10 / sizeof *p10)];
    case 10: /* about the bounds of plain notation */
        return (pick(2) ? 1e15 : 1e-4) * (1.0 + ((double)pick(2001) - 1000.0) * 1e-15);
    case 11: return (double)(seeded_next() >> 14) * (pick(2) ? 1.0 : 0.1);
    case 0: return (double)(int64_t)(seeded_next() % 2000001) - 1000000.0; /* whole */
    case 1: return pick(2) ? -0.0 : 0.0;
    case 2: return ldexp((double)(seeded_next() >> 11), (int)pick(2000) - 1100);
    case 3: return pick(2) ? DBL_MAX : DBL_MIN;
    case 4: return 1e21 * (pick(2) ? 1 : -1);
    case 5: return (double)(seeded_next() >> 11) / 9007199254740992.0; /* [0, 1) */
    default: return ((double)(int64_t)seeded_next()) / 1e9;
    }
}

static json_int_t random_integer(void)
{
    switch (pick(5)) {
    case 0: return INT64_MAX;
    case 1: return INT64_MIN;
    case 2: return (json_int_t)pick(10) - 5;
    default: return (json_int_t)seeded_next();
    }
}

/* A random tree; *valid is cleared when some string in it is not UTF-8. */
static json_t *random_value(int depth, int *valid)
{
    char buf[96];
    int ok;
    unsigned kind = depth > 5 ? pick(6) : pick(8);
    switch (kind) {
    case 0: return json_null();
    case 1: return pick(2) ? json_true() : json_false();
    case 2: return json_integer(random_integer());
    case 3: return json_real(random_real());
    case 4:
    case 5: {
        size_t n = random_text(buf, sizeof buf, 1, &ok);
        if (!ok)
            *valid = 0;
        return json_stringn_nocheck(buf, n);
    }
    case 6: {
        json_t *a = json_array();
        for (unsigned i = pick(6); i > 0; i--)
            json_array_append_new(a, random_value(depth + 1, valid));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (unsigned i = pick(6); i > 0; i--) {
            size_t n = random_text(buf, sizeof buf - 1, 0, &ok);
            /* Keys are always UTF-8 (jansson checks them); some repeat, replacing. */
            if (pick(5) == 0)
                n = 1, buf[0] = 'k';
            buf[n] = '\0';
            json_object_set_new_nocheck(o, buf, random_value(depth + 1, valid));
        }
        return o;
    }
    }
}

/* A random answer-like tree: an object or an array of up to 7 random values; *valid set to
 * 0 when one of its strings is not UTF-8. */
static json_t *random_tree(int *valid)
{
    json_t *v = pick(4) ? json_object() : json_array();
    for (unsigned i = pick(8); i > 0; i--) {
        json_t *c = random_value(1, valid);
        if (json_is_object(v))
            json_object_set_new(v, pick(3) ? "hits" : "score", c);
        else
            json_array_append_new(v, c);
    }
    return v;
}

static void test_against_jansson(void **state)
{
    (void)state;
    seeded_start("json_write trees");
    static const int precisions[] = {0, 15, 17, 1, 6};
    unsigned long trees = 0, refused = 0, bytes = 0;
    struct strbuf sb;
    sb_init(&sb);
    for (int t = 0; t < TREES; t++) {
        int valid = 1;
        json_t *v = random_tree(&valid);
        int p = precisions[pick(sizeof precisions / sizeof *precisions)];
        size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(p);
        char *want = json_dumps(v, flags);
        /* Written after some earlier text, as quired appends to a buffer it reuses. */
        sb.len = 0;
        sb_puts(&sb, "prefix");
        int rc = json_write(v, &sb, SIZE_MAX, p);
        if (!want) {
            assert_int_equal(valid, 0);
            assert_int_equal(rc, JSON_WRITE_INVALID);
            assert_int_equal(sb.len, 6);
            assert_string_equal(sb.buf, "prefix");
            refused++;
        } else {
            assert_int_equal(rc, JSON_WRITE_OK);
            if (strcmp(sb.buf + 6, want) != 0)
                fail_msg("tree %d precision %d:\n  json_write %s\n  jansson    %s", t, p,
                         sb.buf + 6, want);
            assert_int_equal(sb.len, 6 + strlen(want));
            bytes += strlen(want);
        }
        free(want);
        json_decref(v);
        trees++;
    }
    sb_free(&sb);
    printf("# %lu trees agreed with json_dumps (%lu bytes); %lu with a string not UTF-8 "
           "refused by both\n",
           trees, bytes, refused);
    assert_true(refused > 0 && refused < trees);
}

/* v written piece by piece: containers opened and closed, scalars by their own calls
 * (null, which answers never hold, as a jansson value). */
static void write_pieces(struct json_writer *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_writer_open(w, '{');
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            json_writer_key(w, json_object_iter_key(it));
            write_pieces(w, json_object_iter_value(it));
        }
        json_writer_close(w, '}');
        break;
    case JSON_ARRAY:
        json_writer_open(w, '[');
        for (size_t i = 0; i < json_array_size(v); i++)
            write_pieces(w, json_array_get(v, i));
        json_writer_close(w, ']');
        break;
    case JSON_STRING: json_writer_string(w, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: json_writer_integer(w, json_integer_value(v)); break;
    case JSON_REAL: json_writer_real(w, json_real_value(v)); break;
    case JSON_TRUE: json_writer_bool(w, 1); break;
    case JSON_FALSE: json_writer_bool(w, 0); break;
    default: json_writer_value(w, v); break;
    }
}

/* The piece-by-piece writer gives json_write's bytes for the same trees, and refuses what
 * json_write refuses, leaving the buffer as it was; a reset starts it over. */
static void test_writer_against_json_write(void **state)
{
    (void)state;
    seeded_start("json_writer trees");
    static const int precisions[] = {0, 15, 17, 1, 6};
    unsigned long trees = 0, refused = 0;
    struct strbuf want, got;
    sb_init(&want);
    sb_init(&got);
    for (int t = 0; t < TREES; t++) {
        int valid = 1;
        json_t *v = random_tree(&valid);
        int p = precisions[pick(sizeof precisions / sizeof *precisions)];
        want.len = 0;
        int rc = json_write(v, &want, SIZE_MAX, p);
        got.len = 0;
        sb_puts(&got, "prefix");
        struct json_writer w;
        json_writer_init(&w, &got, SIZE_MAX, p);
        if (pick(4) == 0) {
            /* Something written first and dropped, as a retried search drops it. */
            json_writer_open(&w, '{');
            json_writer_key(&w, "dropped");
            json_writer_reset(&w);
        }
        write_pieces(&w, v);
        int wrc = json_writer_end(&w);
        assert_int_equal(wrc, rc);
        if (rc == JSON_WRITE_OK) {
            if (strcmp(got.buf + 6, want.buf) != 0)
                fail_msg("tree %d precision %d:\n  json_writer %s\n  json_write  %s", t, p,
                         got.buf + 6, want.buf);
            assert_int_equal(got.len, 6 + want.len);
        } else {
            assert_int_equal(got.len, 6);
            assert_string_equal(got.buf, "prefix");
            refused++;
        }
        json_decref(v);
        trees++;
    }
    sb_free(&want);
    sb_free(&got);
    printf("# %lu trees written piece by piece as json_write writes them; %lu refused by both\n",
           trees, refused);
    assert_true(refused > 0 && refused < trees);
}

/* The writer's limit: over max refused with nothing left behind; exactly max written. */
static void test_writer_limit(void **state)
{
    (void)state;
    const char *want = "{\"snippet\":\"a <b>word</b>\",\"list\":[42,0.5,true]}";
    size_t n = strlen(want);
    struct strbuf sb;
    sb_init(&sb);
    for (size_t max = 0; max <= n; max++) {
        struct json_writer w;
        json_writer_init(&w, &sb, max, 0);
        json_writer_open(&w, '{');
        json_writer_key(&w, "snippet");
        json_writer_string(&w, "a <b>word</b>", 13);
        json_writer_key(&w, "list");
        json_writer_open(&w, '[');
        json_writer_integer(&w, 42);
        json_writer_real(&w, 0.5);
        json_writer_bool(&w, 1);
        json_writer_close(&w, ']');
        json_writer_close(&w, '}');
        int rc = json_writer_end(&w);
        if (max < n) {
            assert_int_equal(rc, JSON_WRITE_TOO_LARGE);
            assert_int_equal(sb.len, 0);
        } else {
            assert_int_equal(rc, JSON_WRITE_OK);
            assert_string_equal(sb.buf, want);
        }
    }
    sb_free(&sb);
}

/* The limit: over max refused with nothing left behind; exactly max written. */
static void test_limit(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s, s:[i, f, n]}", "snippet", "a <b>word</b> \"quoted\"",
                          "list", 42, 0.5);
    char *want = json_dumps(v, JSON_COMPACT);
    size_t n = strlen(want);
    struct strbuf sb;
    sb_init(&sb);
    for (size_t max = 0; max < n; max++) {
        assert_int_equal(json_write(v, &sb, max, 0), JSON_WRITE_TOO_LARGE);
        assert_int_equal(sb.len, 0);
    }
    assert_int_equal(json_write(v, &sb, n, 0), JSON_WRITE_OK);
    assert_string_equal(sb.buf, want);
    /* Not an object or an array: refused, as json_dumps refuses it. */
    json_t *s = json_string("x");
    assert_null(json_dumps(s, JSON_COMPACT));
    assert_int_equal(json_write(s, &sb, SIZE_MAX, 0), JSON_WRITE_INVALID);
    assert_string_equal(sb.buf, want);
    json_decref(s);
    free(want);
    json_decref(v);
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_jansson),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_writer_against_json_write),
        cmocka_unit_test(test_writer_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
