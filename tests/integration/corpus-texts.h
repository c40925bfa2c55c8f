/*
 * corpus-texts.h -- what the property checkers (highlight-check.c, split-check.c) draw
 * their queries from: the texts of a JSON Lines corpus, and a seeded xorshift64* generator.
 * Header-only: each checker is one program.
 */
#ifndef QUIRE_CORPUS_TEXTS_H
#define QUIRE_CORPUS_TEXTS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static uint64_t rng_state;

/* Seeds rng() from a checker's SEED argument. */
static inline void rng_seed(long seed)
{
    rng_state = (unsigned long long)seed * 0x9E3779B97F4A7C15ULL + 1;
}

/* The next 64 random bits (xorshift64*). */
static inline uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* Every non-empty string of the given fields of every record of the corpus at path, in
 * order (a record's fields in the order given), each malloc'ed; *n gets their number.
 * NULL (with a message on stderr) when the file cannot be read; out of memory, exits 2. */
static inline char **corpus_texts(const char *path, const char *const *fields, size_t nfields,
                                  size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 1024;
    char **texts = malloc(cap * sizeof *texts);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    *n = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        json_t *doc = json_loadb(line, (size_t)len, 0, NULL);
        for (size_t k = 0; doc && k < nfields; k++) {
            const char *t = json_string_value(json_object_get(doc, fields[k]));
            if (!t || !*t)
                continue;
            if (*n == cap) {
                cap *= 2;
                char **more = realloc(texts, cap * sizeof *texts);
                if (!more) {
                    fprintf(stderr, "%s: out of memory\n", path);
                    exit(2);
                }
                texts = more;
            }
            texts[(*n)++] = strdup(t);
        }
        json_decref(doc);
    }
    free(line);
    fclose(f);
    if (!texts) {
        fprintf(stderr, "%s: out of memory\n", path);
        exit(2);
    }
    return texts;
}

static inline void corpus_texts_free(char **texts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
}

#endif
