/*
 * seeded.h -- the random numbers of the unit tests' properties: splitmix64 (64 good bits a
 * call, where rand() gives 31), seeded from QUIRE_TEST_SEED or the clock, the seed printed
 * so that a failure can be replayed. Header-only: each test program has its own state.
 */
#ifndef QUIRE_TEST_SEEDED_H
#define QUIRE_TEST_SEEDED_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "number.h"

static uint64_t seeded_state;

/* The next 64 random bits. */
static inline uint64_t seeded_next(void)
{
    uint64_t z = (seeded_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Seeds from QUIRE_TEST_SEED (a whole number) or the clock, and prints the seed as a TAP
 * comment naming what it drives. */
static inline void seeded_start(const char *what)
{
    const char *env = getenv("QUIRE_TEST_SEED");
    long seed;
    if (!env || num_parse_long(env, 0, LONG_MAX, &seed) != NUM_OK)
        seed = (long)time(NULL);
    seeded_state = (uint64_t)seed;
    printf("# %s: seed %ld (QUIRE_TEST_SEED=%ld replays)\n", what, seed, seed);
}

#endif
