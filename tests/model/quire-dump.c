/*
 * quire-dump -- prints every document of an index, one line each, sorted by id:
 *
 *     id <TAB> title <TAB> date <TAB> hash of the full text
 *
 * For tests that compare an index with a model of its inputs, or two indexes with each
 * other (tests/model/index-model.py). Usage: quire-dump [--marks] DIR (an index directory
 * or a Xapian database). --marks adds two columns: the content hash that duplicates
 * collapse on (SCHEMA_SLOT_HASH), and the article's duplicate mark (SCHEMA_SLOT_REPEAT):
 * "dup" when it holds that hash, "-" when it is empty, "wrong" otherwise. Exit 0, or 1 when the index does not open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbdir.h"
#include "schema.h"
#include "util.h"
#include "xapian-c/xc.h"

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int marks = argc == 3 && strcmp(argv[1], "--marks") == 0;
    if (argc != 2 + marks) {
        fprintf(stderr, "usage: quire-dump [--marks] DIR\n");
        return 2;
    }
    char path[4096];
    dbdir_reader_path(argv[argc - 1], path, sizeof path);
    xc_error *err = NULL;
    xc_db *db = xc_db_open(path, &err);
    if (!db) {
        fprintf(stderr, "quire-dump: %s: %s\n", path, err && err->message ? err->message : "?");
        xc_error_free(err);
        return 1;
    }
    struct docids d = {0};
    if (xc_db_postlist(db, "", docids_collect, &d, &err) < 0 || d.oom) {
        fprintf(stderr, "quire-dump: %s\n", err && err->message ? err->message : "?");
        return 1;
    }
    char **lines = calloc(d.n + 1, sizeof *lines);
    for (size_t i = 0; lines && i < d.n; i++) {
        size_t len = 0, tlen = 0;
        char *data = xc_db_doc_data(db, d.v[i], &len, NULL);
        char *text = schema_text_read(db, d.v[i], &tlen, NULL);
        struct schema_display disp;
        if (!data || !text || schema_display_decode(data, len, &disp) < 0) {
            fprintf(stderr, "quire-dump: document %u does not read\n", d.v[i]);
            return 1;
        }
        char hex[17];
        util_hex64(util_hash64(text, tlen), hex);
        struct strbuf sb;
        sb_init(&sb);
        sb_printf(&sb, "%s\t%s\t%s\t%s", disp.id, disp.title, disp.date, hex);
        if (marks) {
            size_t hlen = 0, mlen = 0;
            char *hash = xc_db_doc_value(db, d.v[i], SCHEMA_SLOT_HASH, &hlen, NULL);
            char *mark = xc_db_doc_value(db, d.v[i], SCHEMA_SLOT_REPEAT, &mlen, NULL);
            if (!hash || !mark) {
                fprintf(stderr, "quire-dump: document %u does not read\n", d.v[i]);
                return 1;
            }
            const char *state = mlen == 0 ? "-"
                                : mlen == hlen && memcmp(hash, mark, mlen) == 0 ? "dup"
                                                                                : "wrong";
            sb_printf(&sb, "\t%.*s\t%s", (int)hlen, hash, state);
            free(hash);
            free(mark);
        }
        lines[i] = strdup(sb_cstr(&sb));
        sb_free(&sb);
        schema_display_free(&disp);
        free(data);
        free(text);
    }
    qsort(lines, d.n, sizeof *lines, cmp_lines);
    for (size_t i = 0; i < d.n; i++) {
        puts(lines[i]);
        free(lines[i]);
    }
    free(lines);
    free(d.v);
    xc_db_free(db);
    return 0;
}
