/*
 * test_hashmap.c -- the one hash table (lib/util.h: struct hashmap, and hashset over it),
 * model-based: seeded random sequences of put, get, remove, reserve and iteration (the
 * seed is printed; QUIRE_TEST_SEED replays it) run against the table and against a plain
 * array of (key, value) pairs searched linearly, and after every operation the two agree:
 * the same answer, the same count, and iteration yields every entry exactly once.
 * Keys come from a small range (so removals hit, and clusters form and are broken up),
 * with 0 (the key an empty slot would use), aligned pointer-like values and consecutive
 * numbers among them. Allocation never fails here; test_faults covers that for callers.
 */
#include <limits.h>
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
#include "util.h"

#define OPS 300000
#define MODEL_MAX 4096

struct model {
    uint64_t key[MODEL_MAX], val[MODEL_MAX];
    size_t n;
};

static long model_find(const struct model *md, uint64_t key)
{
    for (size_t i = 0; i < md->n; i++)
        if (md->key[i] == key)
            return (long)i;
    return -1;
}

/* A key from one of the shapes the tree stores: small numbers (0 included), aligned
 * pointers, and large hashes that share their low bits. */
static uint64_t random_key(unsigned range)
{
    uint64_t r = seeded_next() % range;
    switch (seeded_next() % 3) {
    case 0: return r;
    case 1: return 0x7f0000001000ull + r * 16;
    default: return (r << 40) | 0x5;
    }
}

/* Every entry of the table is in the model with the same value, each exactly once. */
static void check_iteration(const struct hashmap *m, const struct model *md)
{
    size_t pos = 0, seen = 0;
    uint64_t k, v;
    static unsigned char mark[MODEL_MAX];
    memset(mark, 0, md->n);
    while (hashmap_next(m, &pos, &k, &v)) {
        long i = model_find(md, k);
        assert_true(i >= 0);
        assert_true(md->val[i] == v);
        assert_int_equal(mark[i], 0);
        mark[i] = 1;
        seen++;
    }
    assert_int_equal(seen, md->n);
}

static void test_against_model(void **state)
{
    (void)state;
    seeded_start("hash table model");
    static struct model md;
    unsigned long puts = 0, removes = 0, hits = 0, rounds = 0;
    for (int round = 0; round < 20; round++, rounds++) {
        struct hashmap m = {0};
        md.n = 0;
        /* Each round its own key range: from crowded (few keys, many removals) to sparse. */
        unsigned range = 8u << (round % 9);
        int with_values = round % 4 != 3; /* one round in four stores only 0s: a set */
        for (int op = 0; op < OPS / 20; op++) {
            uint64_t key = random_key(range);
            long i = model_find(&md, key);
            uint64_t v = 0;
            switch (seeded_next() % 8) {
            case 0:
            case 1:
            case 2: { /* put */
                uint64_t val = with_values ? seeded_next() % 5 : 0;
                assert_int_equal(hashmap_put(&m, key, val), 0);
                if (i < 0) {
                    assert_true(md.n < MODEL_MAX);
                    i = (long)md.n++;
                    md.key[i] = key;
                }
                md.val[i] = val;
                puts++;
                break;
            }
            case 3:
            case 4: /* remove */
                assert_int_equal(hashmap_remove(&m, key), i >= 0);
                if (i >= 0) {
                    md.n--;
                    md.key[i] = md.key[md.n];
                    md.val[i] = md.val[md.n];
                    removes++;
                }
                break;
            case 5: /* reserve: entries and values stay */
                assert_int_equal(hashmap_reserve(&m, md.n + seeded_next() % 64), 0);
                break;
            default: /* get */
                assert_int_equal(hashmap_get(&m, key, &v), i >= 0);
                if (i >= 0) {
                    assert_true(v == md.val[i]);
                    hits++;
                }
            }
            assert_int_equal(m.n, md.n);
            if (op % 97 == 0)
                check_iteration(&m, &md);
        }
        check_iteration(&m, &md);
        /* Everything in the model is found; emptying the table leaves nothing behind. */
        for (size_t k = 0; k < md.n; k++) {
            uint64_t v;
            assert_int_equal(hashmap_get(&m, md.key[k], &v), 1);
            assert_true(v == md.val[k]);
        }
        while (md.n > 0) {
            md.n--;
            assert_int_equal(hashmap_remove(&m, md.key[md.n]), 1);
        }
        size_t pos = 0;
        assert_int_equal(hashmap_next(&m, &pos, NULL, NULL), 0);
        assert_int_equal(m.n, 0);
        hashmap_free(&m);
    }
    printf("# %lu rounds, %d operations: %lu puts, %lu removals, %lu hits agreed\n", rounds, OPS,
           puts, removes, hits);
}

/* The set over it: adds are idempotent and every key (0 and 1 apart) is told apart. */
static void test_hashset(void **state)
{
    (void)state;
    struct hashset s = {0};
    assert_int_equal(hashset_has(&s, 0), 0);
    assert_int_equal(hashset_add(&s, 1), 0);
    assert_int_equal(hashset_has(&s, 0), 0); /* 0 is its own key, not 1's */
    assert_int_equal(hashset_add(&s, 0), 0);
    assert_int_equal(hashset_has(&s, 0), 1);
    for (uint64_t k = 2; k < 100000; k++)
        assert_int_equal(hashset_add(&s, k * 0x10001), 0);
    for (uint64_t k = 2; k < 100000; k++) {
        assert_int_equal(hashset_has(&s, k * 0x10001), 1);
        assert_int_equal(hashset_has(&s, k * 0x10001 + 1), 0);
    }
    assert_null(s.map.vals); /* a set allocates no values */
    hashset_free(&s);
    assert_int_equal(hashset_has(&s, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_hashset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
