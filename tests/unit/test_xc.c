/*
 * test_xc.c -- unit tests of the Xapian binding (lib/xapian-c), above all its error paths:
 * a missing database, a locked one, a malformed query, an injected fault. Each must come
 * back as an error value with the right code, never as an exception or a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "seeded.h"
#include "xapian-c/xc.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/quire-test-xc-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Builds a small database at path with n documents "doc<i>" about "apple <i>". */
static void make_db(const char *path, int n)
{
    xc_error *err = NULL;
    xc_wdb *w = xc_wdb_open(path, 1, &err);
    assert_non_null(w);
    xc_termgen *tg = xc_termgen_new("english", &err);
    assert_non_null(tg);
    for (int i = 0; i < n; i++) {
        xc_doc *d = xc_doc_new(&err);
        assert_non_null(d);
        char text[64], id[32];
        snprintf(text, sizeof text, "apples and pears number%d", i);
        snprintf(id, sizeof id, "Qdoc%d", i);
        xc_termgen_set_document(tg, d);
        assert_int_equal(xc_termgen_index_text(tg, text, strlen(text), 1, "", &err), 0);
        assert_int_equal(xc_doc_add_boolean_term(d, id, &err), 0);
        assert_int_equal(xc_doc_set_data(d, id + 1, strlen(id + 1), &err), 0);
        assert_int_equal(xc_doc_set_value(d, 2, text, strlen(text), &err), 0);
        assert_true(xc_wdb_replace(w, id, d, &err) > 0);
        xc_doc_free(d);
    }
    assert_int_equal(xc_wdb_commit(w, &err), 0);
    xc_termgen_free(tg);
    xc_wdb_free(w);
}

static void test_missing_database(void **state)
{
    (void)state;
    xc_error *err = NULL;
    char path[300];
    snprintf(path, sizeof path, "%s/does-not-exist", tmpdir);
    xc_db *db = xc_db_open(path, &err);
    assert_null(db);
    assert_non_null(err);
    assert_int_equal(err->code, XC_ERR_NOT_FOUND);
    assert_non_null(err->message);
    assert_string_equal(xc_code_name(err->code), "not_found");
    xc_error_free(err);
    /* A NULL err is allowed: the caller does not care why. */
    assert_null(xc_db_open(path, NULL));
    xc_wdb *w = xc_wdb_open(path, 0, &err);
    assert_null(w);
    assert_int_equal(err->code, XC_ERR_NOT_FOUND);
    xc_error_free(err);
}

static void test_locked_database(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/locked", tmpdir);
    xc_error *err = NULL;
    xc_wdb *first = xc_wdb_open(path, 1, &err);
    assert_non_null(first);
    xc_wdb *second = xc_wdb_open(path, 1, &err);
    assert_null(second);
    assert_non_null(err);
    assert_int_equal(err->code, XC_ERR_LOCKED);
    xc_error_free(err);
    xc_wdb_free(first);
    /* Once the first writer is gone the lock is free again. */
    err = NULL;
    second = xc_wdb_open(path, 1, &err);
    assert_non_null(second);
    xc_wdb_free(second);
}

static void test_malformed_query(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/q", tmpdir);
    make_db(path, 3);
    xc_error *err = NULL;
    xc_db *db = xc_db_open(path, &err);
    assert_non_null(db);
    xc_qp *qp = xc_qp_new("english", db, &err);
    assert_non_null(qp);
    /* Unbalanced syntax is a QueryParserError in Xapian: an error value here. */
    xc_query *q = xc_qp_parse(qp, "apples AND (pears OR", XC_QP_DEFAULT, &err);
    assert_null(q);
    assert_non_null(err);
    assert_int_equal(err->code, XC_ERR_QUERY);
    xc_error_free(err);
    err = NULL;
    /* A wildcard that expands past the limit is refused, not run. */
    xc_qp_set_max_wildcard(qp, 1);
    q = xc_qp_parse(qp, "number*", XC_QP_DEFAULT | XC_QP_WILDCARD, &err);
    if (q) {
        /* Xapian 1.4 defers expansion to match time. */
        xc_match_opts o;
        xc_match_opts_init(&o);
        xc_mset *ms = xc_enquire(db, q, &o, &err);
        assert_null(ms);
        assert_int_equal(err->code, XC_ERR_QUERY);
        xc_error_free(err);
        err = NULL;
        xc_query_free(q);
    } else {
        assert_int_equal(err->code, XC_ERR_QUERY);
        xc_error_free(err);
        err = NULL;
    }
    /* A good query still works afterwards. */
    q = xc_qp_parse(qp, "apples", XC_QP_DEFAULT, &err);
    assert_non_null(q);
    xc_match_opts o;
    xc_match_opts_init(&o);
    xc_mset *ms = xc_enquire(db, q, &o, &err);
    assert_non_null(ms);
    assert_int_equal(xc_mset_size(ms), 3);
    xc_hit hit;
    assert_int_equal(xc_mset_hit(ms, 0, &hit), 0);
    assert_int_equal(hit.rank, 0);
    assert_int_equal(xc_mset_hit(ms, 99, &hit), -1);
    size_t len = 0;
    char *data = xc_mset_data(ms, 0, &len, &err);
    assert_non_null(data);
    assert_int_equal(strncmp(data, "doc", 3), 0);
    free(data);
    assert_null(xc_mset_data(ms, 99, &len, &err));
    assert_int_equal(err->code, XC_ERR_INVALID);
    xc_error_free(err);
    xc_mset_free(ms);
    xc_query_free(q);
    xc_qp_free(qp);
    xc_db_free(db);
}

static void test_injected_fault(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/fault", tmpdir);
    make_db(path, 2);
    xc_error *err = NULL;
    xc_test_fail_after(1);
    xc_db *db = xc_db_open(path, &err);
    assert_null(db);
    assert_non_null(err);
    assert_int_equal(err->code, XC_ERR_IO);
    assert_non_null(strstr(err->message, "injected"));
    xc_error_free(err);
    err = NULL;
    /* The second call after arming fails, the first succeeds. */
    xc_test_fail_after(2);
    db = xc_db_open(path, &err);
    assert_non_null(db);
    unsigned id = xc_db_docid_for_term(db, "Qdoc1", &err);
    assert_int_equal(id, 0);
    assert_int_equal(err->code, XC_ERR_IO);
    xc_error_free(err);
    err = NULL;
    xc_test_fail_after(0);
    id = xc_db_docid_for_term(db, "Qdoc1", &err);
    assert_true(id > 0);
    assert_int_equal(xc_db_docid_for_term(db, "Qnone", &err), 0);
    assert_null(err);
    xc_db_free(db);
}

static void count_cb(const char *s, size_t len, void *ctx)
{
    (void)s;
    (void)len;
    ++*(int *)ctx;
}

static void facet_cb(const char *value, size_t len, unsigned count, void *ctx)
{
    (void)value;
    (void)len;
    (void)count;
    ++*(int *)ctx;
}

/* Each kind of injected failure arrives with its own code; calls that report failure by
 * their return value alone are injection points too, and say so. A call that reads no
 * database (a word stemmed, a query's terms listed, an MSet's hit read) is a point for
 * out of memory only: it cannot meet an I/O error or a newer revision. */
static void test_injected_fault_kinds(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/kinds", tmpdir);
    make_db(path, 3);
    xc_error *err = NULL;
    xc_db *db = xc_db_open(path, &err);
    assert_non_null(db);
    static const xc_code codes[] = {XC_ERR_IO, XC_ERR_MODIFIED, XC_ERR_NOMEM};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        xc_test_fail_with(codes[i]);
        xc_test_fail_after(1);
        assert_int_equal(xc_db_termfreq(db, "apples", &err), 0);
        assert_true(xc_test_fault_fired());
        assert_non_null(err);
        assert_int_equal(err->code, codes[i]);
        xc_error_free(err);
        err = NULL;
    }
    xc_test_fail_with(XC_ERR_IO);
    xc_test_fail_after(1);
    assert_int_equal(xc_db_doccount(db, &err), 0);
    assert_non_null(err);
    xc_error_free(err);
    err = NULL;
    /* Not reached: nothing fires. */
    xc_test_fail_after(2);
    assert_int_equal(xc_db_doccount(db, &err), 3);
    assert_false(xc_test_fault_fired());
    xc_test_fail_after(0);
    assert_null(err);

    xc_stem *st = xc_stem_new("english", &err);
    char out[32] = "x";
    /* An I/O fault passes a call that reads nothing and strikes the next read. */
    xc_test_fail_after(1);
    assert_int_equal(xc_stem_word(st, "running", 7, out, sizeof out), 3);
    assert_false(xc_test_fault_fired());
    assert_int_equal(xc_db_doccount(db, &err), 0);
    assert_true(xc_test_fault_fired());
    assert_int_equal(err->code, XC_ERR_IO);
    xc_error_free(err);
    err = NULL;
    xc_test_fail_with(XC_ERR_NOMEM);
    xc_test_fail_after(1);
    assert_int_equal(xc_stem_word(st, "running", 7, out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(xc_stem_word(st, "running", 7, out, sizeof out), 3);
    xc_stem_free(st);

    xc_qp *qp = xc_qp_new("english", db, &err);
    xc_query *q = xc_qp_parse(qp, "apples pears", XC_QP_DEFAULT, &err);
    assert_non_null(q);
    int n = 0;
    xc_test_fail_after(1);
    assert_int_equal(xc_query_terms(q, count_cb, &n), -1);
    assert_int_equal(xc_query_terms(q, count_cb, &n), 0);
    assert_int_equal(n, 2);
    xc_test_fail_after(1);
    assert_null(xc_query_describe(q));
    xc_match_opts o;
    xc_match_opts_init(&o);
    o.facet_slots[0] = 2;
    o.nfacets = 1;
    xc_mset *ms = xc_enquire(db, q, &o, &err);
    assert_non_null(ms);
    xc_hit hit;
    xc_test_fail_after(1);
    assert_int_equal(xc_mset_hit(ms, 0, &hit), -1);
    assert_int_equal(xc_mset_hit(ms, 0, &hit), 0);
    n = 0;
    xc_test_fail_after(1);
    assert_int_equal(xc_mset_facet(ms, 0, 10, facet_cb, &n), -1);
    assert_int_equal(n, 0);
    assert_int_equal(xc_mset_facet(ms, 0, 10, facet_cb, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(xc_mset_facet(ms, 1, 10, facet_cb, &n), -1); /* no such facet */
    xc_mset_free(ms);
    xc_query_free(q);
    xc_qp_free(qp);

    xc_test_fail_with(XC_ERR_IO);
    xc_wdb *w = xc_wdb_open(path, 0, &err);
    assert_non_null(w);
    xc_test_fail_after(1);
    assert_int_equal(xc_wdb_termfreq(w, "Qdoc1", &err), 0);
    assert_non_null(err);
    xc_error_free(err);
    err = NULL;
    assert_int_equal(xc_wdb_termfreq(w, "Qdoc1", &err), 1);
    xc_wdb_free(w);
    xc_db_free(db);
}

/* For xc_db_doc_value_lend: keeps a copy of the lent value (or fails when asked). */
struct lent {
    char buf[64];
    size_t len;
    int fail;
};

static void *lend_copy(const char *value, size_t len, void *ctx)
{
    struct lent *l = ctx;
    if (l->fail || len > sizeof l->buf)
        return NULL;
    memcpy(l->buf, value, len);
    l->len = len;
    return l;
}

/* xc_db_cooccur: 1 when one document holds every term, whatever their order and
 * frequencies; 0 when the terms are only ever apart or one is missing; no terms refused. */
static void test_cooccur(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/co", tmpdir);
    make_db(path, 6);
    xc_error *err = NULL;
    xc_db *db = xc_db_open(path, &err);
    assert_non_null(db);
    static const struct {
        const char *terms[4];
        size_t n;
        int want;
    } cases[] = {
        {{"number3", "apples"}, 2, 1},
        {{"apples", "number3"}, 2, 1},
        {{"apples"}, 1, 1},
        {{"number1", "pears", "apples"}, 3, 1},
        {{"number3", "number4"}, 2, 0},
        {{"number5", "Qdoc5"}, 2, 1},
        {{"number5", "Qdoc4"}, 2, 0},
        {{"apples", "pears", "Qdoc0", "number0"}, 4, 1},
        {{"apples", "pears", "Qdoc0", "number1"}, 4, 0},
        {{"nosuch", "apples"}, 2, 0},
        {{"apples", "nosuch"}, 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(xc_db_cooccur(db, cases[i].terms, cases[i].n, &err), cases[i].want);
        assert_null(err);
    }
    assert_int_equal(xc_db_cooccur(db, cases[0].terms, 0, &err), -1);
    assert_non_null(err);
    xc_error_free(err);
    xc_db_free(db);
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/rt", tmpdir);
    make_db(path, 5);
    xc_error *err = NULL;
    xc_db *db = xc_db_open(path, &err);
    assert_non_null(db);
    assert_int_equal(xc_db_doccount(db, NULL), 5);
    unsigned id = xc_db_docid_for_term(db, "Qdoc3", &err);
    assert_true(id > 0);
    size_t len;
    char *v = xc_db_doc_value(db, id, 2, &len, &err);
    assert_non_null(v);
    assert_string_equal(v, "apples and pears number3");
    free(v);
    v = xc_db_doc_value(db, id, 7, &len, &err); /* unset slot: empty, not an error */
    assert_non_null(v);
    assert_int_equal(len, 0);
    free(v);
    /* Lent rather than copied: the same bytes, and fn's answer passed back (NULL too,
     * without an error). */
    struct lent l = {0};
    assert_ptr_equal(xc_db_doc_value_lend(db, id, 2, lend_copy, &l, &err), &l);
    assert_null(err);
    assert_int_equal(l.len, strlen("apples and pears number3"));
    assert_memory_equal(l.buf, "apples and pears number3", l.len);
    assert_ptr_equal(xc_db_doc_value_lend(db, id, 7, lend_copy, &l, &err), &l);
    assert_int_equal(l.len, 0);
    l.fail = 1;
    assert_null(xc_db_doc_value_lend(db, id, 2, lend_copy, &l, &err));
    assert_null(err);
    /* A hit's data, read without the existence check, is the document's data. */
    v = xc_db_hit_data(db, id, &len, &err);
    assert_non_null(v);
    assert_int_equal(len, 4);
    assert_string_equal(v, "doc3");
    free(v);
    assert_null(xc_db_doc_data(db, 999, &len, &err));
    assert_int_equal(err->code, XC_ERR_NOT_FOUND);
    xc_error_free(err);
    err = NULL;

    /* A writer's commit becomes visible to a reader after reopen. */
    xc_wdb *w = xc_wdb_open(path, 0, &err);
    assert_non_null(w);
    assert_int_equal(xc_wdb_delete_term(w, "Qdoc0", &err), 0);
    assert_int_equal(xc_wdb_set_metadata(w, "k", "v", 1, &err), 0);
    assert_int_equal(xc_wdb_commit(w, &err), 0);
    xc_wdb_free(w);
    assert_int_equal(xc_db_doccount(db, NULL), 5);
    assert_true(xc_db_reopen(db, &err) >= 0);
    assert_int_equal(xc_db_doccount(db, NULL), 4);
    char *m = xc_db_metadata(db, "k", &err);
    assert_string_equal(m, "v");
    free(m);
    xc_db_free(db);

    xc_stem *st = xc_stem_new("english", &err);
    char out[32];
    assert_int_equal(xc_stem_word(st, "running", 7, out, sizeof out), 3);
    assert_string_equal(out, "run");
    xc_stem_free(st);
    assert_null(xc_stem_new("klingon", &err));
    assert_int_equal(err->code, XC_ERR_INVALID);
    xc_error_free(err);
    /* Every free accepts NULL. */
    xc_db_free(NULL);
    xc_wdb_free(NULL);
    xc_doc_free(NULL);
    xc_query_free(NULL);
    xc_mset_free(NULL);
    xc_error_free(NULL);
}

/* Runs q on db with a deadline of deadline_ms (0: none), sorted by slot 2 when sorted. */
static xc_mset *run(xc_db *db, const xc_query *q, unsigned deadline_ms, int sorted, xc_error **err)
{
    xc_match_opts o;
    xc_match_opts_init(&o);
    o.limit = 20;
    o.deadline_ms = deadline_ms;
    if (sorted)
        o.sort_slot = 2;
    return xc_enquire(db, q, &o, err);
}

/* Asserts two results hold the same hits, weights and totals. */
static void assert_same_result(const xc_mset *a, const xc_mset *b)
{
    assert_int_equal(xc_mset_size(a), xc_mset_size(b));
    unsigned ea, la, ua, eb, lb, ub;
    xc_mset_totals(a, &ea, &la, &ua);
    xc_mset_totals(b, &eb, &lb, &ub);
    assert_int_equal(ea, eb);
    assert_int_equal(la, lb);
    assert_int_equal(ua, ub);
    for (unsigned i = 0; i < xc_mset_size(a); i++) {
        xc_hit ha, hb;
        assert_int_equal(xc_mset_hit(a, i, &ha), 0);
        assert_int_equal(xc_mset_hit(b, i, &hb), 0);
        assert_int_equal(ha.docid, hb.docid);
        assert_true(ha.weight == hb.weight);
    }
}

/* A deadline that does not pass changes nothing: same hits, weights and totals, on one
 * database and on two (where the deadline's posting source is cloned per database). */
static void test_deadline_transparent(void **state)
{
    (void)state;
    char path[300], stub[320];
    snprintf(path, sizeof path, "%s/deadline", tmpdir);
    make_db(path, 500);
    snprintf(stub, sizeof stub, "%s/two.stub", tmpdir);
    FILE *f = fopen(stub, "w");
    assert_non_null(f);
    fprintf(f, "auto %s\nauto %s\n", path, path);
    fclose(f);
    const char *paths[] = {path, stub};
    for (size_t k = 0; k < 2; k++) {
        xc_error *err = NULL;
        xc_db *db = xc_db_open(paths[k], &err);
        assert_non_null(db);
        xc_qp *qp = xc_qp_new("english", db, &err);
        assert_non_null(qp);
        xc_query *q = xc_qp_parse(qp, "apples OR number7 OR number42", XC_QP_DEFAULT, &err);
        assert_non_null(q);
        for (int sorted = 0; sorted <= 1; sorted++) {
            xc_mset *plain = run(db, q, 0, sorted, &err);
            xc_mset *timed = run(db, q, 600000, sorted, &err);
            assert_non_null(plain);
            assert_non_null(timed);
            assert_int_equal(xc_mset_timed_out(plain), 0);
            assert_int_equal(xc_mset_timed_out(timed), 0);
            assert_int_equal(xc_mset_size(timed), 20);
            assert_same_result(plain, timed);
            unsigned lower;
            xc_mset_totals(timed, NULL, &lower, NULL);
            assert_true(lower >= (k + 1) * 500);
            xc_mset_free(plain);
            xc_mset_free(timed);
        }
        xc_query_free(q);
        xc_qp_free(qp);
        xc_db_free(db);
    }
}

/* A remote database cannot run the deadline: XC_ERR_UNSUPPORTED, and the same query
 * without one works (the search layer's fallback). Uses xapian-progsrv, no network. */
static void test_deadline_remote(void **state)
{
    (void)state;
    if (system("command -v xapian-progsrv >/dev/null 2>&1") != 0)
        skip();
    char path[300], stub[320];
    snprintf(path, sizeof path, "%s/remote", tmpdir);
    make_db(path, 20);
    snprintf(stub, sizeof stub, "%s/remote.stub", tmpdir);
    FILE *f = fopen(stub, "w");
    assert_non_null(f);
    fprintf(f, "remote :xapian-progsrv %s\n", path);
    fclose(f);
    xc_error *err = NULL;
    xc_db *db = xc_db_open(stub, &err);
    assert_non_null(db);
    xc_qp *qp = xc_qp_new("english", db, &err);
    xc_query *q = xc_qp_parse(qp, "apples", XC_QP_DEFAULT, &err);
    assert_non_null(q);
    xc_mset *ms = run(db, q, 1000, 0, &err);
    assert_null(ms);
    assert_non_null(err);
    assert_int_equal(err->code, XC_ERR_UNSUPPORTED);
    assert_string_equal(xc_code_name(err->code), "unsupported");
    xc_error_free(err);
    err = NULL;
    ms = run(db, q, 0, 0, &err);
    assert_non_null(ms);
    assert_int_equal(xc_mset_size(ms), 20);
    assert_int_equal(xc_mset_timed_out(ms), 0);
    xc_mset_free(ms);
    xc_query_free(q);
    xc_qp_free(qp);
    xc_db_free(db);
}

/* Wildcards are counted wherever they sit in the query tree; plain words are not. */
static void test_query_wildcards(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/wild", tmpdir);
    make_db(path, 3);
    xc_error *err = NULL;
    xc_db *db = xc_db_open(path, &err);
    assert_non_null(db);
    xc_qp *qp = xc_qp_new("english", db, &err);
    unsigned flags = XC_QP_DEFAULT | XC_QP_WILDCARD;
    xc_query *q = xc_qp_parse(qp, "apples pears", flags, &err);
    assert_non_null(q);
    assert_int_equal(xc_query_wildcards(q), 0);
    xc_query_free(q);
    q = xc_qp_parse(qp, "app* OR (pe* AND NOT (num* OR x*)) apples", flags, &err);
    assert_non_null(q);
    assert_int_equal(xc_query_wildcards(q), 4);
    xc_query_free(q);
    xc_qp_free(qp);
    xc_db_free(db);
}

/* Property: after xc_wdb_mark_repeats, a document holds a mark exactly when another holds
 * its value, the mark is that value, and the call says 1 exactly when some value repeats:
 * over seeded random sets of documents (values from a small alphabet, so repeats are
 * common but not certain; some documents without the value), after adds, replacements
 * (which drop a mark) and deletions, with and without commits in between, and marks left
 * by earlier calls. */
/* The model: IDS ids spread over `parts` databases (id % parts), each holding a value
 * ("v<n>"), none, or no document; random writes, commits, and marks checked against which
 * values repeat over all the databases. One database is marked in place
 * (xc_wdb_mark_repeats); several are closed and marked together (xc_mark_repeats_across),
 * as a build marks its parts. */
static void check_mark_repeats(const char *name, unsigned parts)
{
    enum { IDS = 12, PARTS = 3 };
    assert_true(parts >= 1 && parts <= PARTS);
    seeded_start(name);
    char paths[PARTS][512];
    const char *srcs[PARTS];
    xc_wdb *w[PARTS];
    xc_error *err = NULL;
    for (unsigned k = 0; k < parts; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/repeat-%u-%u", tmpdir, parts, k);
        srcs[k] = paths[k];
        w[k] = xc_wdb_open(paths[k], 1, &err);
        assert_non_null(w[k]);
    }
    if (parts == 1)
        assert_int_equal(xc_wdb_mark_repeats(w[0], 1, 8, &err), 0); /* empty */
    int value[IDS];      /* the value ("v<n>") each id holds, -1: none, -2: no document */
    unsigned did[IDS];   /* its docid in its database */
    for (int i = 0; i < IDS; i++)
        value[i] = -2;
    size_t marked = 0;
    for (int step = 0; step < 400; step++) {
        int id = (int)(seeded_next() % IDS), op = (int)(seeded_next() % 4);
        xc_wdb *db = w[id % parts];
        char idterm[32];
        snprintf(idterm, sizeof idterm, "Qdoc%d", id);
        if (op == 0) {
            assert_int_equal(xc_wdb_delete_term(db, idterm, &err), 0);
            value[id] = -2;
        } else {
            xc_doc *d = xc_doc_new(&err);
            assert_non_null(d);
            assert_int_equal(xc_doc_add_boolean_term(d, idterm, &err), 0);
            value[id] = op == 1 ? -1 : (int)(seeded_next() % 20);
            if (value[id] >= 0) {
                char v[16];
                snprintf(v, sizeof v, "v%d", value[id]);
                assert_int_equal(xc_doc_set_value(d, 1, v, strlen(v), &err), 0);
            }
            did[id] = xc_wdb_replace(db, idterm, d, &err);
            assert_true(did[id] > 0);
            xc_doc_free(d);
        }
        if (step % 7 == 0)
            assert_int_equal(xc_wdb_commit(db, &err), 0);
        if (seeded_next() % 3 != 0)
            continue; /* marks go stale; the next call mends them */
        int expect = 0;
        for (int i = 0; i < IDS; i++)
            for (int j = i + 1; j < IDS; j++)
                expect |= value[i] >= 0 && value[i] == value[j];
        if (parts == 1) {
            assert_int_equal(xc_wdb_mark_repeats(w[0], 1, 8, &err), expect);
        } else {
            for (unsigned k = 0; k < parts; k++)
                xc_wdb_free(w[k]); /* commits */
            assert_int_equal(xc_mark_repeats_across(srcs, parts, 1, 8, &err), expect);
            for (unsigned k = 0; k < parts; k++) {
                w[k] = xc_wdb_open(paths[k], 0, &err);
                assert_non_null(w[k]);
            }
        }
        for (int i = 0; i < IDS; i++) {
            if (value[i] == -2)
                continue;
            int repeats = 0;
            for (int j = 0; j < IDS; j++)
                repeats |= j != i && value[i] >= 0 && value[i] == value[j];
            char want[16] = "";
            if (repeats)
                snprintf(want, sizeof want, "v%d", value[i]);
            size_t len = 0;
            char *mark = xc_wdb_doc_value(w[i % parts], did[i], 8, &len, &err);
            assert_non_null(mark);
            assert_string_equal(mark, want);
            marked += repeats;
            free(mark);
        }
    }
    printf("# %s: %zu marks checked\n", name, marked);
    assert_true(marked > 0);
    for (unsigned k = 0; k < parts; k++)
        xc_wdb_free(w[k]);
}

static void test_mark_repeats(void **state)
{
    (void)state;
    check_mark_repeats("mark repeats", 1);
}

static void test_mark_repeats_across(void **state)
{
    (void)state;
    check_mark_repeats("mark repeats across", 3);
}

/* ---- the term generator's stems ------------------------------------------------ */

struct zterms {
    char **v;
    size_t n, cap;
};

static void zterms_add(struct zterms *z, const char *t, size_t len)
{
    if (z->n == z->cap) {
        z->cap = z->cap ? 2 * z->cap : 1024;
        z->v = realloc(z->v, z->cap * sizeof *z->v);
        assert_non_null(z->v);
    }
    z->v[z->n] = strndup(t, len);
    assert_non_null(z->v[z->n]);
    z->n++;
}

static void collect_z(const char *term, size_t len, unsigned wdf, const unsigned *pos,
                      size_t npos, void *ctx)
{
    (void)wdf, (void)pos, (void)npos;
    if (len > 0 && term[0] == 'Z')
        zterms_add(ctx, term, len);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts z and drops repeats. */
static void zterms_unique(struct zterms *z)
{
    qsort(z->v, z->n, sizeof *z->v, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < z->n; i++) {
        if (k > 0 && strcmp(z->v[k - 1], z->v[i]) == 0)
            free(z->v[i]);
        else
            z->v[k++] = z->v[i];
    }
    z->n = k;
}

static void zterms_free(struct zterms *z)
{
    for (size_t i = 0; i < z->n; i++)
        free(z->v[i]);
    free(z->v);
    memset(z, 0, sizeof *z);
}

/* Property: every stemmed term the term generator writes is the stem xc_stem_word (the
 * query side's stemmer) gives a word of the text, and every word gets its stem, so what a
 * query stems finds what the indexer stemmed. Seeded words with English endings (so that
 * stems differ from the words), 150,000 draws from 120,000 words. (A memo of stems in the
 * term generator was checked with this test; it cut instructions but cost CPU time, from
 * cache misses, and is gone.) */
static void test_termgen_stems(void **state)
{
    (void)state;
    static const char *const ends[] = {"",   "s",    "ing",  "ed",      "ation", "ies",
                                       "ly", "ness", "ful",  "ational", "izer",  "ement"};
    enum { VOCAB = 120000, DOCS = 30, WORDS = 5000 };
    char(*vocab)[24] = malloc(VOCAB * sizeof *vocab);
    assert_non_null(vocab);
    seeded_start("term generator stems");
    for (size_t i = 0; i < VOCAB; i++) {
        int n = 3 + (int)(seeded_next() % 6);
        char *w = vocab[i];
        for (int k = 0; k < n; k++)
            w[k] = (char)('a' + seeded_next() % 26);
        strcpy(w + n, ends[seeded_next() % (sizeof ends / sizeof ends[0])]);
    }
    xc_error *err = NULL;
    xc_termgen *tg = xc_termgen_new("english", &err);
    xc_stem *plain = xc_stem_new("english", &err);
    assert_non_null(tg);
    assert_non_null(plain);
    char *text = malloc((size_t)WORDS * 25);
    assert_non_null(text);
    size_t checked = 0;
    for (int d = 0; d < DOCS; d++) {
        struct zterms want = {0}, got = {0};
        size_t len = 0;
        for (int k = 0; k < WORDS; k++) {
            const char *w = vocab[seeded_next() % VOCAB];
            size_t wl = strlen(w);
            memcpy(text + len, w, wl);
            len += wl;
            text[len++] = ' ';
            char stem[64] = "Z";
            long sl = xc_stem_word(plain, w, wl, stem + 1, sizeof stem - 1);
            assert_true(sl > 0);
            zterms_add(&want, stem, 1 + (size_t)sl);
        }
        xc_doc *doc = xc_doc_new(&err);
        assert_non_null(doc);
        xc_termgen_set_document(tg, doc);
        assert_int_equal(xc_termgen_index_text(tg, text, len, 1, "", &err), 0);
        assert_int_equal(xc_doc_terms(doc, collect_z, &got, &err), 0);
        zterms_unique(&want);
        zterms_unique(&got);
        assert_int_equal(got.n, want.n);
        for (size_t i = 0; i < got.n; i++)
            assert_string_equal(got.v[i], want.v[i]);
        checked += got.n;
        zterms_free(&want);
        zterms_free(&got);
        xc_doc_free(doc);
    }
    printf("# term generator: %zu stemmed terms of %d documents equal the plain stemmer's\n",
           checked, DOCS);
    free(text);
    free(vocab);
    xc_stem_free(plain);
    xc_termgen_free(tg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_database),     cmocka_unit_test(test_locked_database),
        cmocka_unit_test(test_malformed_query),      cmocka_unit_test(test_injected_fault),
        cmocka_unit_test(test_injected_fault_kinds), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_cooccur),
        cmocka_unit_test(test_deadline_transparent), cmocka_unit_test(test_deadline_remote),
        cmocka_unit_test(test_query_wildcards),     cmocka_unit_test(test_mark_repeats),
        cmocka_unit_test(test_mark_repeats_across),
        cmocka_unit_test(test_termgen_stems),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
