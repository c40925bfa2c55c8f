/*
 * conns_index.c -- the index from a worker's evhttp connections to their struct conn (see
 * conns_int.h): open addressing with linear probing, at most half full, on the pointer.
 */
#include "conns_int.h"

#include <stdint.h>
#include <stdlib.h>

static size_t slot_of(const struct conn_table *t, const void *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 7) & (t->cap - 1);
}

struct conn *conn_index_lookup(const struct conn_table *t, const struct evhttp_connection *evcon)
{
    if (!t->cap)
        return NULL;
    for (size_t i = slot_of(t, evcon);; i = (i + 1) & (t->cap - 1)) {
        struct conn *c = t->slots[i];
        if (!c || c->evcon == evcon)
            return c;
    }
}

void conn_index_put(struct conn_table *t, struct conn *c)
{
    size_t i = slot_of(t, c->evcon);
    while (t->slots[i])
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = c;
}

/* Makes room for one more entry (load at most one half). Returns 0 or -1. */
int conn_index_reserve(struct conn_table *t)
{
    if ((t->count + 1) * 2 <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : 256;
    struct conn **slots = calloc(cap, sizeof *slots), **old = t->slots;
    if (!slots)
        return -1;
    size_t oldcap = t->cap;
    t->slots = slots;
    t->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i])
            conn_index_put(t, old[i]);
    }
    free(old);
    return 0;
}

/* Removes c (linear probing: later entries of its cluster move back). */
void conn_index_remove(struct conn_table *t, struct conn *c)
{
    if (!t->cap || !c->evcon)
        return;
    size_t mask = t->cap - 1, i = slot_of(t, c->evcon);
    while (t->slots[i] != c) {
        if (!t->slots[i])
            return;
        i = (i + 1) & mask;
    }
    t->slots[i] = NULL;
    t->count--;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t k = slot_of(t, t->slots[j]->evcon);
        /* Move the entry back unless its home slot lies cyclically in (i, j]. */
        int stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
}
