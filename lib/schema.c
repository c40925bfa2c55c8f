/*
 * schema.c -- builds Xapian documents from articles and configures query parsing to
 * match (see schema.h for the term and slot map).
 *
 * Stored data is the display fields joined by the unit separator (0x1F) in a fixed
 * order: id, title, date, source, url, category. Decoding it is a scan, no parser, since
 * it happens for every hit. A 0x1F inside a field is replaced by a space when encoding.
 */
#include "schema.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize.h"
#include "util.h"

#define FIELD_SEP '\x1f'

void schema_key_term(const char *prefix, const char *name, char *out, size_t outlen)
{
    size_t plen = strlen(prefix), nlen = strlen(name);
    if (plen + nlen <= SCHEMA_MAX_TERM && plen + nlen < outlen) {
        memcpy(out, prefix, plen);
        memcpy(out + plen, name, nlen + 1);
        return;
    }
    char hex[17];
    util_hex64(util_hash64(name, nlen), hex);
    /* A hashed name cannot collide with a real one: real names never start with '#'
     * followed by exactly 16 hex digits and no more (ids that long are hashed too). */
    snprintf(out, outlen, "%s#%s", prefix, hex);
}

/* Appends a display field, replacing separators inside it. */
static void put_field(struct strbuf *sb, const char *s, int last)
{
    if (s) {
        for (const char *p = s; *p; p++)
            sb_putc(sb, *p == FIELD_SEP ? ' ' : *p);
    }
    if (!last)
        sb_putc(sb, FIELD_SEP);
}

/* Adds prefix+value as a boolean term when value is non-empty. */
static int add_filter_term(xc_doc *doc, const char *prefix, const char *value, xc_error **err)
{
    if (!value || !*value)
        return 0;
    char term[SCHEMA_MAX_TERM + 1];
    schema_key_term(prefix, value, term, sizeof term);
    return xc_doc_add_boolean_term(doc, term, err);
}

long schema_title_key(const char *text, size_t len, int keep_trailing, char *out,
                      size_t outlen, xc_error **err)
{
    assert(outlen > SCHEMA_MAX_TERM);
    if (err)
        *err = NULL;
    size_t llen = 0;
    char *low = xc_utf8_lower(text, len, &llen, err);
    if (!low)
        return -1;
    size_t plen = strlen(SCHEMA_PREFIX_TITLE_KEY), o = plen;
    memcpy(out, SCHEMA_PREFIX_TITLE_KEY, plen);
    int space = 1; /* drops leading spaces */
    for (size_t i = 0; i < llen && o < SCHEMA_MAX_TERM; i++) {
        unsigned char c = (unsigned char)low[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            if (!space)
                out[o++] = ' ';
            space = 1;
            continue;
        }
        out[o++] = (char)c;
        space = 0;
    }
    free(low);
    /* A cut inside a multi-byte character drops its lead bytes. */
    if (o >= SCHEMA_MAX_TERM) {
        while (o > plen && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
            o--;
        if (o > plen && ((unsigned char)out[o - 1] & 0xC0) == 0xC0)
            o--;
    }
    if (!keep_trailing && o > plen && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return (long)o;
}

/* Hash of the body with whitespace runs folded, so re-wrapped copies collapse too. */
static uint64_t content_hash(const char *body, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    int space = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            if (space)
                continue;
            space = 1;
            c = ' ';
        } else {
            space = 0;
        }
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

xc_doc *schema_build(const struct article *a, const char *file_key, xc_termgen *tg,
                     xc_error **err)
{
    xc_doc *doc = xc_doc_new(err);
    if (!doc)
        return NULL;
    struct strbuf data;
    sb_init(&data);
    char term[SCHEMA_MAX_TERM + 1];
    const char *title = a->title ? a->title : "";
    const char *body = a->body ? a->body : "";
    size_t body_len = a->body ? a->body_len : 0;

    /* Words are indexed as lib/tokenize reads them (accents folded: the query side folds
     * too), while the stored text keeps them. */
    size_t title_len = strlen(title);
    xc_termgen_set_document(tg, doc);
    /* Title: prefixed for title: searches, and unprefixed with a higher wdf so a title
     * match outranks the same word in the body. A position gap keeps phrases from
     * spanning title and body. */
    int rc = tokenize_index(tg, title, title_len, 1, SCHEMA_PREFIX_TITLE, err);
    xc_termgen_increase_termpos(tg, 100);
    xc_termgen_spelling(tg, 1);
    if (rc == 0)
        rc = tokenize_index(tg, title, title_len, SCHEMA_TITLE_WDF, "", err);
    xc_termgen_increase_termpos(tg, 100);
    /* The lead feeds the spelling table; it ends at a space so no word is split. */
    size_t lead = body_len;
    if (lead > SCHEMA_SPELLING_LEAD_BYTES) {
        lead = SCHEMA_SPELLING_LEAD_BYTES;
        while (lead > 0 && body[lead] != ' ' && body[lead] != '\n')
            lead--;
    }
    if (rc == 0)
        rc = tokenize_index(tg, body, lead, 1, "", err);
    xc_termgen_spelling(tg, 0);
    if (rc == 0 && lead < body_len)
        rc = tokenize_index(tg, body + lead, body_len - lead, 1, "", err);
    if (rc < 0)
        goto fail;

    schema_key_term(SCHEMA_PREFIX_ID, a->id, term, sizeof term);
    if (xc_doc_add_boolean_term(doc, term, err) < 0)
        goto fail;
    if (file_key && add_filter_term(doc, SCHEMA_PREFIX_FILE, file_key, err) < 0)
        goto fail;
    if (add_filter_term(doc, SCHEMA_PREFIX_SOURCE, a->source, err) < 0 ||
        add_filter_term(doc, SCHEMA_PREFIX_CATEGORY, a->category, err) < 0)
        goto fail;
    if (title[0]) {
        long tk = schema_title_key(title, strlen(title), 0, term, sizeof term, err);
        if (tk < 0 || (tk > (long)strlen(SCHEMA_PREFIX_TITLE_KEY) &&
                       xc_doc_add_boolean_term(doc, term, err) < 0))
            goto fail;
    }

    if (a->date && strlen(a->date) == 10) {
        char ymd[9], ym[7], y[5];
        memcpy(y, a->date, 4);
        y[4] = '\0';
        memcpy(ym, y, 4);
        memcpy(ym + 4, a->date + 5, 2);
        ym[6] = '\0';
        memcpy(ymd, ym, 6);
        memcpy(ymd + 6, a->date + 8, 2);
        ymd[8] = '\0';
        if (add_filter_term(doc, SCHEMA_PREFIX_YEAR, y, err) < 0 ||
            add_filter_term(doc, SCHEMA_PREFIX_MONTH, ym, err) < 0 ||
            add_filter_term(doc, SCHEMA_PREFIX_DATE, ymd, err) < 0 ||
            xc_doc_set_value(doc, SCHEMA_SLOT_DATE, ymd, 8, err) < 0 ||
            xc_doc_set_value(doc, SCHEMA_SLOT_YEAR, y, 4, err) < 0)
            goto fail;
    }
    if (a->source && *a->source &&
        xc_doc_set_value(doc, SCHEMA_SLOT_SOURCE, a->source, strlen(a->source), err) < 0)
        goto fail;
    if (a->category && *a->category &&
        xc_doc_set_value(doc, SCHEMA_SLOT_CATEGORY, a->category, strlen(a->category), err) < 0)
        goto fail;

    char hex[17];
    util_hex64(content_hash(body, body_len), hex);
    if (xc_doc_set_value(doc, SCHEMA_SLOT_HASH, hex, 16, err) < 0 ||
        xc_doc_set_value(doc, SCHEMA_SLOT_TEXT, body, body_len, err) < 0)
        goto fail;

    put_field(&data, a->id, 0);
    put_field(&data, title, 0);
    put_field(&data, a->date, 0);
    put_field(&data, a->source, 0);
    put_field(&data, a->url, 0);
    put_field(&data, a->category, 1);
    if (data.failed) {
        if (err)
            *err = NULL;
        goto fail;
    }
    if (xc_doc_set_data(doc, sb_cstr(&data), data.len, err) < 0)
        goto fail;
    sb_free(&data);
    return doc;
fail:
    sb_free(&data);
    xc_doc_free(doc);
    return NULL;
}

int schema_configure_parser(xc_qp *qp, xc_error **err)
{
    if (xc_qp_add_prefix(qp, "title", SCHEMA_PREFIX_TITLE, err) < 0 ||
        xc_qp_add_boolean_prefix(qp, "source", SCHEMA_PREFIX_SOURCE, err) < 0 ||
        xc_qp_add_boolean_prefix(qp, "category", SCHEMA_PREFIX_CATEGORY, err) < 0 ||
        xc_qp_add_boolean_prefix(qp, "year", SCHEMA_PREFIX_YEAR, err) < 0 ||
        xc_qp_add_boolean_prefix(qp, "month", SCHEMA_PREFIX_MONTH, err) < 0 ||
        xc_qp_add_boolean_prefix(qp, "id", SCHEMA_PREFIX_ID, err) < 0 ||
        xc_qp_add_date_range(qp, "date", SCHEMA_SLOT_DATE, err) < 0)
        return -1;
    return 0;
}

int schema_display_decode(const char *data, size_t len, struct schema_display *out)
{
    memset(out, 0, sizeof *out);
    out->buf = malloc(len + 1);
    if (!out->buf)
        return -1;
    memcpy(out->buf, data, len);
    out->buf[len] = '\0';
    const char **fields[] = {&out->id,     &out->title, &out->date,
                             &out->source, &out->url,   &out->category};
    char *p = out->buf;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        *fields[i] = p;
        char *sep = p ? memchr(p, FIELD_SEP, (size_t)(out->buf + len - p)) : NULL;
        if (sep) {
            *sep = '\0';
            p = sep + 1;
        } else {
            /* Missing trailing fields read as empty. */
            p = out->buf + len;
        }
    }
    return 0;
}

void schema_display_free(struct schema_display *d)
{
    free(d->buf);
    memset(d, 0, sizeof *d);
}
