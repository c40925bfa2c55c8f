/*
 * schema.c -- builds Xapian documents from articles and configures query parsing to
 * match (see schema.h for the term and slot map).
 *
 * Stored data is the display fields joined by the unit separator (0x1F) in a fixed
 * order: id, title, date, source, url, category. Decoding it is a scan, no parser, since
 * it happens for every hit. A 0x1F inside a field is replaced by a space when encoding.
 *
 * Filters: a source or category term holds the value's key (schema_value_key), so that a
 * filter can name the value as its facet lists it in any case; the facet itself counts
 * the value slot, which keeps the value as written. Year, month and day are terms; a date
 * range is a range over the date slot. The query parser and the structured `filter`
 * parameter both turn a value into a query through schema_filter_query, so they agree.
 */
#include "schema.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lz4hc.h>
#include <zlib.h>

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

char *schema_value_key(const char *value, size_t len, xc_error **err)
{
    if (err)
        *err = NULL;
    size_t llen = 0;
    char *low = xc_utf8_lower(value, len, &llen, err);
    if (!low)
        return NULL;
    /* Collapse white space in place: the key is never longer than the lower-cased text. */
    size_t o = 0;
    int space = 1; /* drops leading white space */
    for (size_t i = 0; i < llen; i++) {
        char c = low[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = 1;
            continue;
        }
        if (space && o > 0)
            low[o++] = ' ';
        space = 0;
        low[o++] = c;
    }
    low[o] = '\0';
    /* Accents fold too, as they do for words: the query text reaches a filter folded. */
    char *folded = NULL;
    size_t flen = 0;
    int fr = util_fold_latin(low, o, &folded, &flen);
    if (fr < 0) {
        free(low);
        return NULL;
    }
    if (fr > 0) {
        free(low);
        return folded;
    }
    return low;
}

/* Adds the term of a source or category value (its key, schema_value_key). */
static int add_value_term(xc_doc *doc, const char *prefix, const char *value, xc_error **err)
{
    if (!value || !*value)
        return 0;
    char *key = schema_value_key(value, strlen(value), err);
    if (!key)
        return -1;
    char term[SCHEMA_MAX_TERM + 1];
    schema_key_term(prefix, key, term, sizeof term);
    free(key);
    if (term[strlen(prefix)] == '\0') /* only white space: no term, as for an empty value */
        return 0;
    return xc_doc_add_boolean_term(doc, term, err);
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


/* ---- the stored body -------------------------------------------------------------------- */

#define TEXT_PACKED 0xFF /* a zlib stream: what indexes before LZ4 hold (read only) */
#define TEXT_LZ4 0xFE    /* an LZ4 block: what the indexer writes */
#define TEXT_HEADER 5
/* Shorter texts are stored as they are: a short article (most of them) costs nothing to
 * read, and compressing it would save little (bbc-news: 94% of articles, 85% of the text;
 * the index 10% larger), while the long articles that hold most of a large collection's
 * text are compressed (wikipedia-en: 72% of its text is in articles of 4 KB or more).
 *
 * LZ4 rather than zlib: a snippet reads up to 21 KB of a long article for every hit,
 * and inflating them cost more than the whole rest of the snippet (on wikipedia-en some 20
 * instructions a byte, a third of a top-10 query with snippets), while LZ4 decodes them
 * for under 5 and stops where asked (LZ4_decompress_safe_partial). LZ4HC's output is
 * larger than zlib's (the wikipedia-en index 3% larger, bbc-news and reuters-21578 under
 * 1%). Level 6, not the highest (12): on wikipedia-en's long bodies it packed 72.2 MB in
 * 1.23 s of CPU against 3.00 s, into 38.46 MB against 38.28 (0.5% more, 0.06% of the
 * index); level 0 (LZ4's fast mode) took 0.28 s but wrote 44.8 MB. */
#define TEXT_PACK_MIN 4096
#define TEXT_LZ4_LEVEL 6

char *schema_text_pack(const char *text, size_t len, size_t *outlen)
{
    int bound = len <= LZ4_MAX_INPUT_SIZE ? LZ4_compressBound((int)len) : 0;
    char *out = malloc(TEXT_HEADER + (len > (size_t)bound ? len : (size_t)bound) + 1);
    if (!out)
        return NULL;
    if (len >= TEXT_PACK_MIN && bound > 0) {
        int clen = LZ4_compress_HC(text, out + TEXT_HEADER, (int)len, bound, TEXT_LZ4_LEVEL);
        if (clen > 0 && TEXT_HEADER + (size_t)clen < len) {
            out[0] = (char)TEXT_LZ4;
            for (int k = 0; k < 4; k++)
                out[1 + k] = (char)((len >> (8 * k)) & 0xFF);
            *outlen = TEXT_HEADER + (size_t)clen;
            return out;
        }
    }
    if (len > 0)
        memcpy(out, text, len);
    *outlen = len;
    return out;
}

/* The text's length, from a packed value's header (at least TEXT_HEADER bytes). */
static size_t packed_length(const char *value)
{
    size_t n = 0;
    for (int k = 0; k < 4; k++)
        n |= (size_t)(unsigned char)value[1 + k] << (8 * k);
    return n;
}

/* Frees the packed value and hands back text (n bytes, NUL-terminated), or NULL. */
static char *unpacked(char *value, char *text, size_t n, size_t *len)
{
    free(value);
    if (text) {
        text[n] = '\0';
        *len = n;
    }
    return text;
}

/* The first want bytes of the text of n bytes in the LZ4 block z (zlen bytes), as a new
 * NUL-terminated string; NULL when the block is damaged or memory runs out. */
static char *lz4_prefix(const char *z, size_t zlen, size_t n, size_t want)
{
    if (n > LZ4_MAX_INPUT_SIZE || zlen > (size_t)LZ4_compressBound(LZ4_MAX_INPUT_SIZE))
        return NULL;
    char *text = malloc(want + 1);
    if (!text)
        return NULL;
    /* The whole text is decoded with the full check (the block must end where the text
     * does); a prefix stops where asked, and a damaged block still fails or comes out
     * short. */
    int got = want == n ? LZ4_decompress_safe(z, text, (int)zlen, (int)n)
                        : LZ4_decompress_safe_partial(z, text, (int)zlen, (int)want, (int)want);
    if (got < 0 || (size_t)got != want) {
        free(text);
        return NULL;
    }
    return text;
}

/* The same from the zlib stream z (zlen bytes) of an older index. */
static char *zlib_prefix(const unsigned char *z, size_t zlen, size_t n, size_t want)
{
    /* The stream is read raw, past zlib's 2-byte header (as compress2 writes it, no preset
     * dictionary): the checksum at its end could not be checked without inflating
     * everything (a damaged stream still fails to inflate, or comes out short). */
    if (zlen < 2 || (z[0] & 0x0F) != 8 || (z[1] & 0x20) || (z[0] * 256u + z[1]) % 31 != 0 ||
        want > 0xFFFFFFFFu || zlen > 0xFFFFFFFFu)
        return NULL;
    char *text = malloc(want + 1);
    if (!text)
        return NULL;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -15) != Z_OK) {
        free(text);
        return NULL;
    }
    zs.next_in = (Bytef *)z + 2;
    zs.avail_in = (uInt)(zlen - 2);
    zs.next_out = (Bytef *)text;
    /* A whole text gets a byte to spare, so a stream longer than its header says shows. */
    zs.avail_out = (uInt)want + (want == n);
    int rc = inflate(&zs, Z_NO_FLUSH);
    if ((rc != Z_OK && rc != Z_STREAM_END) || zs.total_out != want ||
        (want == n && rc != Z_STREAM_END)) {
        free(text);
        text = NULL;
    }
    inflateEnd(&zs);
    return text;
}

char *schema_text_prefix(const char *value, size_t vlen, size_t max, size_t *len)
{
    unsigned char mark = vlen > 0 ? (unsigned char)value[0] : 0;
    if (mark != TEXT_PACKED && mark != TEXT_LZ4) {
        size_t n = vlen < max ? vlen : max;
        char *text = malloc(n + 1);
        if (!text)
            return NULL;
        if (n > 0)
            memcpy(text, value, n);
        text[n] = '\0';
        *len = n;
        return text;
    }
    if (vlen < TEXT_HEADER + 1)
        return NULL;
    size_t n = packed_length(value);
    size_t want = n < max ? n : max;
    size_t zlen = vlen - TEXT_HEADER;
    char *text = mark == TEXT_LZ4
                     ? lz4_prefix(value + TEXT_HEADER, zlen, n, want)
                     : zlib_prefix((const unsigned char *)value + TEXT_HEADER, zlen, n, want);
    if (text) {
        text[want] = '\0';
        *len = want;
    }
    return text;
}

char *schema_text_unpack_prefix(char *value, size_t *len, size_t max)
{
    unsigned char mark = *len > 0 ? (unsigned char)value[0] : 0;
    if (mark != TEXT_PACKED && mark != TEXT_LZ4) {
        if (*len > max) {
            *len = max;
            value[max] = '\0';
        }
        return value;
    }
    size_t n = 0;
    char *text = schema_text_prefix(value, *len, max, &n);
    free(value);
    if (text)
        *len = n;
    return text;
}

char *schema_text_unpack(char *value, size_t *len)
{
    if (*len == 0 || (unsigned char)value[0] != TEXT_PACKED)
        return schema_text_unpack_prefix(value, len, (size_t)-1);
    /* An older index's zlib stream, whole: its checksum is checked too. */
    if (*len < TEXT_HEADER) {
        free(value);
        return NULL;
    }
    size_t n = packed_length(value);
    char *text = malloc(n + 1);
    uLongf got = n;
    if (text && (uncompress((Bytef *)text, &got, (const Bytef *)value + TEXT_HEADER,
                            (uLong)(*len - TEXT_HEADER)) != Z_OK || got != n)) {
        free(text);
        text = NULL;
    }
    return unpacked(value, text, n, len);
}

/* Stores text packed in a slot. Returns 0, or -1 with *err (NULL: out of memory). */
static int store_packed(xc_doc *doc, unsigned slot, const char *text, size_t len, xc_error **err)
{
    size_t vlen;
    char *v = schema_text_pack(text, len, &vlen);
    if (!v) {
        if (err)
            *err = NULL;
        return -1;
    }
    int rc = xc_doc_set_value(doc, slot, v, vlen, err);
    free(v);
    return rc;
}

/* Stores the body: its head in SCHEMA_SLOT_TEXT, the rest of a long one in
 * SCHEMA_SLOT_TEXT_REST (see SCHEMA_TEXT_HEAD_BYTES). */
static int store_text(xc_doc *doc, const char *body, size_t len, xc_error **err)
{
    size_t head = len > SCHEMA_TEXT_HEAD_BYTES ? SCHEMA_TEXT_HEAD_BYTES : len;
    if (store_packed(doc, SCHEMA_SLOT_TEXT, body, head, err) < 0)
        return -1;
    return head < len ? store_packed(doc, SCHEMA_SLOT_TEXT_REST, body + head, len - head, err) : 0;
}

char *schema_text_read(xc_db *db, unsigned docid, size_t *len, xc_error **err)
{
    size_t hlen = 0, rlen = 0;
    char *head = xc_db_doc_value(db, docid, SCHEMA_SLOT_TEXT, &hlen, err);
    if (!head)
        return NULL;
    char *rest = xc_db_doc_value(db, docid, SCHEMA_SLOT_TEXT_REST, &rlen, err);
    if (!rest) {
        free(head);
        return NULL;
    }
    if (err)
        *err = NULL;
    head = schema_text_unpack(head, &hlen);
    if (head && rlen > 0) {
        rest = schema_text_unpack(rest, &rlen);
        char *text = rest ? realloc(head, hlen + rlen + 1) : NULL;
        if (text) {
            memcpy(text + hlen, rest, rlen);
            hlen += rlen;
            text[hlen] = '\0';
        } else {
            free(head);
        }
        head = text;
    }
    free(rest);
    if (head)
        *len = hlen;
    return head;
}

/* Hash of the body with whitespace runs folded, so re-wrapped copies collapse too. *empty
 * is set when the body has no text at all: such articles (headlines alone) are not copies
 * of one another. */
static uint64_t content_hash(const char *body, size_t len, int *empty)
{
    uint64_t h = 1469598103934665603ULL;
    int space = 1;
    *empty = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            if (space)
                continue;
            space = 1;
            c = ' ';
        } else {
            space = 0;
            *empty = 0;
        }
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The article's words: title (prefixed, then unprefixed with a higher wdf), the body's
 * lead (which feeds the spelling table) and the rest of the body. */
static int index_words(xc_termgen *tg, xc_doc *doc, const char *title, size_t title_len,
                       const char *body, size_t body_len, xc_error **err)
{
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
    return rc;
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
    int rc = tg ? index_words(tg, doc, title, title_len, body, body_len, err) : 0;
    if (rc < 0)
        goto fail;

    schema_key_term(SCHEMA_PREFIX_ID, a->id, term, sizeof term);
    if (xc_doc_add_boolean_term(doc, term, err) < 0)
        goto fail;
    if (file_key && add_filter_term(doc, SCHEMA_PREFIX_FILE, file_key, err) < 0)
        goto fail;
    if (add_value_term(doc, SCHEMA_PREFIX_SOURCE, a->source, err) < 0 ||
        add_value_term(doc, SCHEMA_PREFIX_CATEGORY, a->category, err) < 0)
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

    /* An article without text has no hash: it is never collapsed with another. */
    char hex[17];
    int empty;
    util_hex64(content_hash(body, body_len, &empty), hex);
    if ((!empty && xc_doc_set_value(doc, SCHEMA_SLOT_HASH, hex, 16, err) < 0) ||
        (tg && store_text(doc, body, body_len, err) < 0))
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

/* ---- filters --------------------------------------------------------------------------- */

static const char *const filter_fields[] = {"source", "category", "year", "month", "date"};

int schema_mark_duplicates(xc_wdb *wdb, xc_error **err)
{
    int repeat = xc_wdb_mark_repeats(wdb, SCHEMA_SLOT_HASH, SCHEMA_SLOT_REPEAT, err);
    return repeat < 0 ? -1 : schema_duplicates_marked(wdb, repeat, err);
}

int schema_mark_duplicates_across(const char *const *paths, size_t n, xc_error **err)
{
    return xc_mark_repeats_across(paths, n, SCHEMA_SLOT_HASH, SCHEMA_SLOT_REPEAT, err);
}

int schema_duplicates_marked(xc_wdb *wdb, int repeat, xc_error **err)
{
    const char *v = repeat ? SCHEMA_REPEATS_MARKED : "1";
    return xc_wdb_set_metadata(wdb, SCHEMA_META_UNIQUE_TEXT, v, strlen(v), err);
}

int schema_duplicates_known(xc_wdb *wdb)
{
    char *v = xc_wdb_metadata(wdb, SCHEMA_META_UNIQUE_TEXT, NULL);
    int known = v && (strcmp(v, "1") == 0 || strcmp(v, SCHEMA_REPEATS_MARKED) == 0);
    free(v);
    return known;
}

int schema_unmark_duplicates(xc_wdb *wdb, xc_error **err)
{
    return xc_wdb_set_metadata(wdb, SCHEMA_META_UNIQUE_TEXT, "", 0, err);
}

int schema_is_filter_term(const char *term, size_t len)
{
    static const char *const prefixes[] = {SCHEMA_PREFIX_SOURCE, SCHEMA_PREFIX_CATEGORY,
                                           SCHEMA_PREFIX_YEAR,   SCHEMA_PREFIX_MONTH,
                                           SCHEMA_PREFIX_DATE,   SCHEMA_PREFIX_ID};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (len > n && memcmp(term, prefixes[i], n) == 0)
            return 1;
    }
    return 0;
}

int schema_is_filter_field(const char *field)
{
    for (size_t i = 0; i < sizeof filter_fields / sizeof filter_fields[0]; i++) {
        if (strcmp(field, filter_fields[i]) == 0)
            return 1;
    }
    return 0;
}

/* One end of a date as written: YYYY, YYYY-MM, YYYY-MM-DD, YYYYMM or YYYYMMDD. */
struct date_end {
    int digits;       /* 4 (a year), 6 (a month) or 8 (a day); 0: open (no end) */
    char first[9];    /* its first day, YYYYMMDD */
    char last[9];     /* its last day */
};

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads s[0..n) as one date end. Returns 0, or -1 when it is not one. */
static int date_end_parse(const char *s, size_t n, struct date_end *d)
{
    char digits[9];
    size_t k = 0;
    if (n == 4 || n == 6 || n == 8) { /* YYYY, YYYYMM, YYYYMMDD */
        if (!all_digits(s, n))
            return -1;
        memcpy(digits, s, n);
        k = n;
    } else if ((n == 7 || n == 10) && s[4] == '-' && (n == 7 || s[7] == '-')) {
        if (!all_digits(s, 4) || !all_digits(s + 5, 2) || (n == 10 && !all_digits(s + 8, 2)))
            return -1;
        memcpy(digits, s, 4);
        memcpy(digits + 4, s + 5, 2);
        k = 6;
        if (n == 10) {
            memcpy(digits + 6, s + 8, 2);
            k = 8;
        }
    } else {
        return -1;
    }
    int y = (digits[0] - '0') * 1000 + (digits[1] - '0') * 100 + (digits[2] - '0') * 10 +
            (digits[3] - '0');
    int m = k >= 6 ? (digits[4] - '0') * 10 + (digits[5] - '0') : 0;
    int day = k == 8 ? (digits[6] - '0') * 10 + (digits[7] - '0') : 0;
    if (k >= 6 && (m < 1 || m > 12))
        return -1;
    if (k == 8 && (day < 1 || day > days_in_month(y, m)))
        return -1;
    d->digits = (int)k;
    int dim = k >= 6 ? days_in_month(y, m) : 31;
    memcpy(d->first, digits, k);
    memcpy(d->last, digits, k);
    if (k == 4) {
        memcpy(d->first + 4, "0101", 4);
        memcpy(d->last + 4, "1231", 4);
    } else if (k == 6) {
        memcpy(d->first + 6, "01", 2);
        d->last[6] = (char)('0' + dim / 10);
        d->last[7] = (char)('0' + dim % 10);
    }
    d->first[8] = d->last[8] = '\0';
    return 0;
}

/* A date filter's value: one end (lo alone, hi.digits 0 and range 0) or a range A..B with
 * either end open. Only ends of allowed digits (a bit set: 4, 6, 8 as 1 << digits) pass. */
struct date_filter {
    int range;
    struct date_end lo, hi;
};

static int date_filter_parse(const char *v, unsigned allowed, struct date_filter *f)
{
    memset(f, 0, sizeof *f);
    const char *dots = strstr(v, "..");
    if (!dots)
        return date_end_parse(v, strlen(v), &f->lo) < 0 || !(allowed & (1u << f->lo.digits))
                   ? -1
                   : 0;
    f->range = 1;
    size_t ln = (size_t)(dots - v), hn = strlen(dots + 2);
    if (ln == 0 && hn == 0)
        return -1;
    if (ln > 0 && (date_end_parse(v, ln, &f->lo) < 0 || !(allowed & (1u << f->lo.digits))))
        return -1;
    if (hn > 0 && (date_end_parse(dots + 2, hn, &f->hi) < 0 || !(allowed & (1u << f->hi.digits))))
        return -1;
    if (ln > 0 && hn > 0 && strcmp(f->lo.first, f->hi.last) > 0)
        return -1;
    return 0;
}

/* Up to max bytes of s, cut at a UTF-8 character boundary (messages must stay UTF-8). */
static int utf8_prefix(const char *s, int max)
{
    int n = (int)strlen(s);
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int schema_filter_check(const char *field, const char *value, char *why, size_t whylen)
{
    struct date_filter df;
    int cut = utf8_prefix(value, 80);
    const char *more = (size_t)cut < strlen(value) ? "..." : "";
    if (strcmp(field, "source") == 0 || strcmp(field, "category") == 0) {
        for (const char *p = value; *p; p++) {
            if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                return 0;
        }
        snprintf(why, whylen,
                 "field '%s' takes a value as the %s facet lists it (%s), quoted when it has "
                 "spaces; it is empty here",
                 field, field,
                 field[0] == 's' ? "source:Reuters, source:\"BBC News\"" : "category:sport");
        return -1;
    }
    if (strcmp(field, "year") == 0) {
        if (date_filter_parse(value, 1u << 4, &df) == 0)
            return 0;
        snprintf(why, whylen,
                 "field 'year' takes a year (2004) or a range of years (2004..2005, 2004..), "
                 "not '%.*s%s'",
                 cut, value, more);
        return -1;
    }
    if (strcmp(field, "month") == 0) {
        if (date_filter_parse(value, 1u << 6, &df) == 0)
            return 0;
        snprintf(why, whylen,
                 "field 'month' takes a month (2026-04 or 202604) or a range of months "
                 "(2026-01..2026-04), not '%.*s%s'",
                 cut, value, more);
        return -1;
    }
    if (strcmp(field, "date") == 0) {
        if (date_filter_parse(value, 1u << 4 | 1u << 6 | 1u << 8, &df) == 0)
            return 0;
        snprintf(why, whylen,
                 "field 'date' takes a day (2004-03-05), a month (2004-03), a year (2004) or "
                 "a range of them with either end open (2004..2005, "
                 "2004-01-01..2004-03-31, 2004-06..), not '%.*s%s'",
                 cut, value, more);
        return -1;
    }
    snprintf(why, whylen, "filter field '%.64s' is unknown; filter fields are %s", field,
             SCHEMA_FILTER_FIELDS);
    return -1;
}

/* The query for a source or category value: its key's term, ORed with the term of the
 * value as given when that differs (indexes built before keys were lower-cased hold
 * that). */
static xc_query *value_query(const char *prefix, const char *value)
{
    xc_error *xe = NULL;
    char *key = schema_value_key(value, strlen(value), &xe);
    xc_error_free(xe);
    if (!key)
        return NULL;
    char term[SCHEMA_MAX_TERM + 1], asis[SCHEMA_MAX_TERM + 1];
    schema_key_term(prefix, key, term, sizeof term);
    schema_key_term(prefix, value, asis, sizeof asis);
    free(key);
    xc_query *q[2] = {xc_query_term(term, NULL), NULL};
    if (!q[0] || strcmp(term, asis) == 0)
        return q[0];
    q[1] = xc_query_term(asis, NULL);
    xc_query *or = q[1] ? xc_query_combine(XC_QOP_OR, (const xc_query *const *)q, 2, NULL) : NULL;
    xc_query_free(q[0]);
    xc_query_free(q[1]);
    return or;
}

xc_query *schema_filter_query(const char *field, const char *value, char *why, size_t whylen)
{
    if (schema_filter_check(field, value, why, whylen) < 0)
        return NULL;
    why[0] = '\0';
    if (strcmp(field, "source") == 0)
        return value_query(SCHEMA_PREFIX_SOURCE, value);
    if (strcmp(field, "category") == 0)
        return value_query(SCHEMA_PREFIX_CATEGORY, value);
    struct date_filter df;
    unsigned allowed = field[0] == 'y' ? 1u << 4 : field[0] == 'm' ? 1u << 6 : 0x150;
    int rc = date_filter_parse(value, allowed, &df);
    assert(rc == 0); /* schema_filter_check passed */
    (void)rc;
    if (!df.range) {
        /* A single year, month or day: the term the indexer wrote for it. */
        const char *prefix = df.lo.digits == 4   ? SCHEMA_PREFIX_YEAR
                             : df.lo.digits == 6 ? SCHEMA_PREFIX_MONTH
                                                 : SCHEMA_PREFIX_DATE;
        char term[16];
        snprintf(term, sizeof term, "%s%.*s", prefix, df.lo.digits, df.lo.first);
        return xc_query_term(term, NULL);
    }
    return xc_query_value_range(SCHEMA_SLOT_DATE, df.lo.digits ? df.lo.first : NULL,
                                df.hi.digits ? df.hi.last : NULL, NULL);
}

int schema_configure_parser(xc_qp *qp, xc_error **err)
{
    if (xc_qp_add_prefix(qp, "title", SCHEMA_PREFIX_TITLE, err) < 0 ||
        xc_qp_add_boolean_prefix(qp, "id", SCHEMA_PREFIX_ID, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof filter_fields / sizeof filter_fields[0]; i++) {
        if (xc_qp_add_filter_field(qp, filter_fields[i], schema_filter_query, err) < 0)
            return -1;
    }
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

/* Query-time stop words, for OR queries only (search.c turns them on and off): the common
 * English function words (Snowball's English list, without its contractions). In an OR
 * query they match nearly every article and add noise to the ranking; measured on
 * SciFact's training queries and Cranfield (README "Relevance"), dropping them helps both.
 * Indexing keeps every word, so phrases and AND queries still find them. */
static const char *const stopwords[] = {
    "a",       "about",   "above",  "after",   "again",   "against", "all",     "am",
    "an",      "and",     "any",    "are",     "as",      "at",      "be",      "because",
    "been",    "before",  "being",  "below",   "between", "both",    "but",     "by",
    "can",     "could",   "did",    "do",      "does",    "doing",   "down",    "during",
    "each",    "few",     "for",    "from",    "further", "had",     "has",     "have",
    "having",  "he",      "her",    "here",    "hers",    "herself", "him",     "himself",
    "his",     "how",     "i",      "if",      "in",      "into",    "is",      "it",
    "its",     "itself",  "just",   "me",      "more",    "most",    "my",      "myself",
    "no",      "nor",     "not",    "now",     "of",      "off",     "on",      "once",
    "only",    "or",      "other",  "our",     "ours",    "ourselves", "out",   "over",
    "own",     "same",    "she",    "should",  "so",      "some",    "such",    "than",
    "that",    "the",     "their",  "theirs",  "them",    "themselves", "then", "there",
    "these",   "they",    "this",   "those",   "through", "to",      "too",     "under",
    "until",   "up",      "very",   "was",     "we",      "were",    "what",    "when",
    "where",   "which",   "while",  "who",     "whom",    "why",     "will",    "with",
    "would",   "you",     "your",   "yours",   "yourself", "yourselves"};

int schema_is_stopword(const char *word, size_t len)
{
    for (size_t i = 0; i < sizeof stopwords / sizeof stopwords[0]; i++) {
        if (strlen(stopwords[i]) == len && memcmp(stopwords[i], word, len) == 0)
            return 1;
    }
    return 0;
}

int schema_set_stopwords(xc_qp *qp, xc_error **err)
{
    return xc_qp_set_stopwords(qp, stopwords, sizeof stopwords / sizeof stopwords[0], err);
}
