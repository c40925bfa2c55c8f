/*
 * test_number.c -- properties of the one number parser (lib/number.h), over seeded random
 * inputs (the seed is printed; QUIRE_TEST_SEED replays it):
 *
 *  - every long, printed with %ld, parses back to itself; every non-negative one printed
 *    with %lo / %lx parses back in base 8 / 16, and a span stops exactly at its length;
 *  - a value is accepted exactly when it lies in [min, max], and is NUM_RANGE otherwise;
 *  - a number with anything before or after it (a blank, a '+', a letter, a second sign),
 *    the empty string and a lone '-' are NUM_SYNTAX;
 *  - a well-formed number past LONG_MAX or below LONG_MIN is NUM_OVERFLOW, never a value;
 *  - on random short strings, num_parse_long agrees with a reference built on strtol (a
 *    string it accepts is exactly -?[0-9]+ and strtol's value without ERANGE);
 *  - every finite double printed with %.17g round-trips exactly; on random short strings
 *    num_parse_double agrees with strtod consuming the whole string (no leading blank or
 *    '+'), and out-of-range or infinite values are refused.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "number.h"
#include "seeded.h"

#define ROUNDS 200000

/* A random long, weighted toward the edges: every bit width and the extremes. */
static long random_long(void)
{
    uint64_t r = seeded_next();
    switch (r % 8) {
    case 0: return LONG_MAX - (long)(seeded_next() % 4);
    case 1: return LONG_MIN + (long)(seeded_next() % 4);
    case 2: return (long)(seeded_next() % 21) - 10;
    default: {
        unsigned bits = (unsigned)(seeded_next() % 64);
        uint64_t v = seeded_next() >> (63 - bits);
        return (long)v; /* two's complement: any bit pattern is a long */
    }
    }
}

static int setup_seed(void **state)
{
    (void)state;
    seeded_start("number parser");
    return 0;
}

static void test_long_round_trip(void **state)
{
    (void)state;
    char buf[64];
    for (int i = 0; i < ROUNDS; i++) {
        long v = random_long(), got = 0;
        snprintf(buf, sizeof buf, "%ld", v);
        assert_int_equal(num_parse_long(buf, LONG_MIN, LONG_MAX, &got), NUM_OK);
        assert_true(got == v);
        /* A span ends where it is told to, whatever follows. */
        size_t n = strlen(buf);
        buf[n] = (char)('0' + seeded_next() % 10);
        buf[n + 1] = '\0';
        got = 0;
        assert_int_equal(num_parse_span(buf, n, 10, LONG_MIN, LONG_MAX, &got), NUM_OK);
        assert_true(got == v);
        if (v >= 0) {
            snprintf(buf, sizeof buf, seeded_next() % 2 ? "%lx" : "%lX", v);
            assert_int_equal(num_parse_span(buf, strlen(buf), 16, 0, LONG_MAX, &got), NUM_OK);
            assert_true(got == v);
            snprintf(buf, sizeof buf, "%lo", v);
            assert_int_equal(num_parse_span(buf, strlen(buf), 8, 0, LONG_MAX, &got), NUM_OK);
            assert_true(got == v);
        }
    }
    printf("# %d longs round-tripped (decimal, and octal and hex when not negative)\n", ROUNDS);
}

static void test_long_range(void **state)
{
    (void)state;
    char buf[64];
    unsigned long in = 0, out = 0;
    for (int i = 0; i < ROUNDS; i++) {
        long v = random_long(), a = random_long(), b = random_long();
        /* Half the time a bound near v, so both sides of each bound are tried. */
        if (seeded_next() % 2 && v > LONG_MIN + 2 && v < LONG_MAX - 2) {
            a = v - 2 + (long)(seeded_next() % 5);
            b = seeded_next() % 2 ? LONG_MAX : v + (long)(seeded_next() % 3);
        }
        long lo = a < b ? a : b, hi = a < b ? b : a, got = 12345;
        snprintf(buf, sizeof buf, "%ld", v);
        int rc = num_parse_long(buf, lo, hi, &got);
        if (v >= lo && v <= hi) {
            assert_int_equal(rc, NUM_OK);
            assert_true(got == v);
            in++;
        } else {
            assert_int_equal(rc, NUM_RANGE);
            assert_true(got == 12345); /* untouched */
            out++;
        }
    }
    printf("# range: %lu inside accepted, %lu outside refused as NUM_RANGE\n", in, out);
    assert_true(in > 0 && out > 0);
}

static void test_long_junk(void **state)
{
    (void)state;
    static const char junk[] = " \t\n+-xa.,_e/";
    char buf[96];
    long got;
    static const char *fixed[] = {"",    "-",   "--1", "+1",  " 1",  "1 ", "0x10",
                                  "1e3", "1.0", "１",  "1\n", "- 1", "1-", "٣"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        assert_int_equal(num_parse_long(fixed[i], LONG_MIN, LONG_MAX, &got), NUM_SYNTAX);
    assert_int_equal(num_parse_long(NULL, LONG_MIN, LONG_MAX, &got), NUM_SYNTAX);
    for (int i = 0; i < ROUNDS; i++) {
        long v = random_long();
        char j = junk[seeded_next() % (sizeof junk - 1)];
        int n = snprintf(buf, sizeof buf, "%ld", v);
        switch (seeded_next() % 3) {
        case 0: /* after */
            buf[n] = j;
            buf[n + 1] = '\0';
            break;
        case 1: /* before; a '-' before a non-negative number makes a valid negative one */
            if (j == '-' && v >= 0)
                j = '+';
            memmove(buf + 1, buf, (size_t)n + 1);
            buf[0] = j;
            break;
        default: { /* inside */
            if (n < 2)
                continue;
            size_t at = 1 + (size_t)(seeded_next() % (unsigned)(n - 1));
            memmove(buf + at + 1, buf + at, (size_t)n - at + 1);
            buf[at] = j;
        }
        }
        assert_int_equal(num_parse_long(buf, LONG_MIN, LONG_MAX, &got), NUM_SYNTAX);
    }
    printf("# %d numbers with a stray character refused as NUM_SYNTAX\n", ROUNDS);
}

static void test_long_overflow(void **state)
{
    (void)state;
    char buf[96];
    long got = 7;
    assert_int_equal(num_parse_long("9223372036854775807", LONG_MIN, LONG_MAX, &got), NUM_OK);
    assert_true(got == LONG_MAX);
    assert_int_equal(num_parse_long("-9223372036854775808", LONG_MIN, LONG_MAX, &got), NUM_OK);
    assert_true(got == LONG_MIN);
    for (int i = 0; i < ROUNDS; i++) {
        /* Just past an end (LONG_MAX + d, printed as an unsigned long) or far past it. */
        int neg = (int)(seeded_next() % 2);
        if (seeded_next() % 2) {
            unsigned long d = 1 + seeded_next() % 1000000;
            unsigned long mag = (unsigned long)LONG_MAX + d + (neg ? 1ul : 0ul);
            snprintf(buf, sizeof buf, "%s%lu", neg ? "-" : "", mag);
        } else {
            int n = 0, digits = 20 + (int)(seeded_next() % 60);
            if (neg)
                buf[n++] = '-';
            buf[n++] = (char)('1' + seeded_next() % 9);
            while (--digits > 0)
                buf[n++] = (char)('0' + seeded_next() % 10);
            buf[n] = '\0';
        }
        got = 7;
        assert_int_equal(num_parse_long(buf, LONG_MIN, LONG_MAX, &got), NUM_OVERFLOW);
        assert_true(got == 7);
        /* Overflow does not hide junk after it. */
        strcat(buf, "x");
        assert_int_equal(num_parse_long(buf, LONG_MIN, LONG_MAX, &got), NUM_SYNTAX);
    }
    printf("# %d numbers past a long's ends refused as NUM_OVERFLOW\n", ROUNDS);
}

/* The reference for whole numbers: -?[0-9]+ read by strtol without ERANGE. */
static int reference_long(const char *s, long *out)
{
    const char *p = s + (*s == '-');
    if (!*p)
        return NUM_SYNTAX;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return NUM_SYNTAX;
    errno = 0;
    *out = strtol(s, NULL, 10);
    return errno == ERANGE ? NUM_OVERFLOW : NUM_OK;
}

static void test_long_against_strtol(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789-0123456789 +x";
    char buf[32];
    unsigned long ok = 0;
    for (int i = 0; i < ROUNDS; i++) {
        size_t n = (size_t)(seeded_next() % 24);
        for (size_t k = 0; k < n; k++)
            buf[k] = alphabet[seeded_next() % (sizeof alphabet - 1)];
        buf[n] = '\0';
        long want = 0, got = 0;
        int wrc = reference_long(buf, &want), rc = num_parse_long(buf, LONG_MIN, LONG_MAX, &got);
        if (rc != wrc)
            fail_msg("'%s': %d, the reference says %d", buf, rc, wrc);
        if (rc == NUM_OK) {
            assert_true(got == want);
            ok++;
        }
    }
    printf("# %d random strings agree with the strtol reference (%lu numbers)\n", ROUNDS, ok);
    assert_true(ok > 0);
}

static void test_double(void **state)
{
    (void)state;
    char buf[64];
    double got;
    static const char *bad[] = {"",   "-",   ".",   "-.",   "e5",    "1e",  "1e+",  " 1",    "+1",
                                "1 ", "inf", "nan", "-inf", "0x1p3", "1,5", "1..2", "1e5.5", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(num_parse_double(bad[i], -HUGE_VAL, HUGE_VAL, &got), NUM_SYNTAX);
    assert_int_equal(num_parse_double("1e999", -HUGE_VAL, HUGE_VAL, &got), NUM_OVERFLOW);
    assert_int_equal(num_parse_double("-1e999", -HUGE_VAL, HUGE_VAL, &got), NUM_OVERFLOW);
    assert_int_equal(num_parse_double("1.5", 0, 1, &got), NUM_RANGE);
    assert_int_equal(num_parse_double("-0.01", 0, 1, &got), NUM_RANGE);
    assert_int_equal(num_parse_double(".5", 0, 1, &got), NUM_OK);
    assert_true(got == 0.5);
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t bits = seeded_next();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        snprintf(buf, sizeof buf, "%.17g", v);
        got = 0;
        assert_int_equal(num_parse_double(buf, -HUGE_VAL, HUGE_VAL, &got), NUM_OK);
        assert_memory_equal(&got, &v, sizeof v);
    }
    /* Random short strings against strtod over the whole string. */
    static const char alphabet[] = "0123456789.-+eE 0123456789x";
    unsigned long ok = 0;
    for (int i = 0; i < ROUNDS; i++) {
        size_t n = (size_t)(seeded_next() % 12);
        for (size_t k = 0; k < n; k++)
            buf[k] = alphabet[seeded_next() % (sizeof alphabet - 1)];
        buf[n] = '\0';
        char *end;
        double want = strtod(buf, &end);
        /* strtod also reads hex ("0x1p3"), skips leading blanks and takes a '+'. */
        int wrc = n > 0 && buf[0] != ' ' && buf[0] != '+' && !strchr(buf, 'x') && *end == '\0'
                      ? NUM_OK
                      : NUM_SYNTAX;
        if (wrc == NUM_OK && isinf(want))
            wrc = NUM_OVERFLOW;
        int rc = num_parse_double(buf, -HUGE_VAL, HUGE_VAL, &got);
        if (rc != wrc)
            fail_msg("'%s': %d, strtod says %d", buf, rc, wrc);
        if (rc == NUM_OK) {
            assert_true(got == want);
            ok++;
        }
    }
    printf("# doubles: %%.17g round trips and %d random strings against strtod (%lu numbers)\n",
           ROUNDS, ok);
    assert_true(ok > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_round_trip),     cmocka_unit_test(test_long_range),
        cmocka_unit_test(test_long_junk),           cmocka_unit_test(test_long_overflow),
        cmocka_unit_test(test_long_against_strtol), cmocka_unit_test(test_double),
    };
    return cmocka_run_group_tests(tests, setup_seed, NULL);
}
