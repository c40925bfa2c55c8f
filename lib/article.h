/*
 * article.h -- parsing input files into `struct article`.
 *
 * Formats: plain text (.txt), Markdown (.md, .markdown), HTML (.html, .htm, parsed with
 * gumbo), JSON (.json: one article object, or an array of them) and JSON Lines (.jsonl,
 * .ndjson: one article per line); each of them also gzip-compressed (a name ending in
 * .gz). The indexer decides the format from the file name (article_format_for_path),
 * reads the file (article_read_file, or article_lines_* for JSON Lines) and calls the
 * matching parser. Parsers never abort the caller: on bad input they return -1 and write
 * a one-line reason.
 */
#ifndef QUIRE_ARTICLE_H
#define QUIRE_ARTICLE_H

#include <stddef.h>

/* One article. All strings are owned by the article (malloc'd, NUL-terminated, valid
 * UTF-8 after parsing: invalid sequences are replaced by U+FFFD) and freed by
 * article_clear. Optional fields are NULL when absent. */
struct article {
    char *id;       /* stable id: JSON "id", or set by the caller from the path */
    char *title;    /* never NULL after a successful parse (may be "") */
    char *body;     /* full text; never NULL after a successful parse */
    size_t body_len;
    char *date;     /* "YYYY-MM-DD" or NULL */
    char *source;
    char *url;
    char *category;
};

typedef enum article_format {
    ARTICLE_UNKNOWN = 0,
    ARTICLE_TEXT,
    ARTICLE_MARKDOWN,
    ARTICLE_HTML,
    ARTICLE_JSON, /* one object or an array of objects, each read as a JSON Lines record */
    ARTICLE_JSONL
} article_format;

/* Limits that keep one bad input from exhausting the indexer. */
#define ARTICLE_MAX_FILE_BYTES (64u << 20)   /* a .txt/.md/.html file larger is refused */
#define ARTICLE_MAX_LINE_BYTES (16u << 20)   /* a JSON line longer is skipped */
#define ARTICLE_MAX_TITLE_BYTES 1024         /* titles are cut (at a UTF-8 boundary) */
#define ARTICLE_MAX_ID_BYTES 1024            /* a longer JSON id is an error */

/* The format for a file name, by extension (case-insensitive, after a ".gz" ending is
 * set aside: "a.txt.gz" is ARTICLE_TEXT); ARTICLE_UNKNOWN otherwise. */
article_format article_format_for_path(const char *path);
/* True when the file name ends in ".gz" (case-insensitive): the file must then be
 * gzip-compressed, and is read through zlib. */
int article_path_gz(const char *path);

/* Reads a whole input file (.txt, .md, .html, .json; plain, or gzip-compressed when
 * article_path_gz says so) into a new NUL-terminated buffer the caller frees, its length
 * in *len. Only a regular file is read (a FIFO is never waited on), and at most
 * ARTICLE_MAX_FILE_BYTES of it (after decompression). NULL with a reason in why when the
 * file cannot be read completely now: it cannot be opened, a read error, too large, or a
 * .gz that is not gzip data, truncated or corrupt. */
char *article_read_file(const char *path, size_t *len, char *why, size_t whylen);

/* Frees every field and zeroes the struct. */
void article_clear(struct article *a);

/* Parses a whole .txt (markdown = 0) or .md (markdown = 1) file held in buf.
 * Title: a "# " heading or a "Title:" line when present, otherwise the first line that
 * reads like a headline (navigation lines such as "Back to Live Signals", "Pull to
 * refresh", "Logo" are passed over). Date: the first date written in the text.
 * Does not set id. Returns 0, or -1 with a reason in why (size whylen). */
int article_parse_text(const char *buf, size_t len, int markdown, struct article *out,
                       char *why, size_t whylen);

/* Parses an HTML document: title from <title> or the first <h1>; body text of
 * <article>, else <main>, else <body>, without script, style, nav, header, footer,
 * aside, form. Date: <meta> article:published_time/date or <time datetime>, else the first
 * date written in the text. Does not set id. */
int article_parse_html(const char *buf, size_t len, struct article *out, char *why,
                       size_t whylen);

/* article_parse_html in a child process, so that a crash or an endless loop inside the HTML
 * parser (Debian's gumbo 0.10.1 aborts on some tag soup) costs one file, not the caller.
 * Returns 0; -1 when the document holds no article (as article_parse_html); -2 when the
 * parser did not finish (a crash, past timeout_s seconds, no process or memory to run it):
 * the caller cannot tell what the file holds, and should try again later. */
int article_parse_html_isolated(const char *buf, size_t len, struct article *out, char *why,
                                size_t whylen, unsigned timeout_s);

/* Parses one JSON Lines record: an object with string "id", "title", "body" (id and body
 * required, non-empty id) and optional string "date" (normalised to YYYY-MM-DD when it
 * is a date; otherwise dropped), "source", "url", "category". */
int article_parse_json(const char *line, size_t len, struct article *out, char *why,
                       size_t whylen);

/* The "id" of a JSON Lines record at a glance, without reading it whole: 1 with *id and
 * *idlen (borrowed from line) when line is one object whose members hold exactly one "id",
 * written as a plain string of printable ASCII (no escapes, at most ARTICLE_MAX_ID_BYTES);
 * 0 when it cannot be told so cheaply (then only article_parse_json can say). Nested
 * values are skipped unchecked, so when it says 1 the record may still be unreadable, but
 * when article_parse_json reads it, it reads this id. */
int article_json_peek_id(const char *line, size_t len, const char **id, size_t *idlen);

/* A .json file: one JSON object, or an array of objects, each read as a JSON Lines record
 * is (article_parse_json). Parsed whole (a file is at most ARTICLE_MAX_FILE_BYTES). */
typedef struct article_json_doc article_json_doc;
/* Parses buf (a UTF-8 byte order mark first is skipped). NULL with a reason when it is
 * empty, not JSON, or neither an object nor an array; "out of memory" when it is that.
 * Caller frees with article_json_doc_free. */
article_json_doc *article_json_doc_parse(const char *buf, size_t len, char *why, size_t whylen);
/* Number of records: 1 for an object, the array's length for an array. */
size_t article_json_doc_count(const article_json_doc *d);
/* True when the file holds an array (each element a record), false for one object. */
int article_json_doc_is_array(const article_json_doc *d);
/* Record i (0-based) into out as article_parse_json reads a line, with one difference: a
 * file holding a single object (not an array) without an "id" takes file_id (when not
 * NULL), the id a text file of that path would have. Returns 0, or -1 with a reason. */
int article_json_doc_record(const article_json_doc *d, size_t i, const char *file_id,
                            struct article *out, char *why, size_t whylen);
void article_json_doc_free(article_json_doc *d);

/* Finds the first date written in text ("Apr 10, 2026", "April 10, 2026", "2026-04-10",
 * "10 April 2026", "April 2026" is not a date) and writes "YYYY-MM-DD" into out.
 * Returns 1 when found, 0 when not. */
int article_find_date(const char *text, size_t len, char out[11]);

/* Reads JSON Lines from a plain or gzip-compressed file, a line at a time. */
typedef struct article_lines article_lines;
/* Opens path; NULL with a reason on failure. Caller frees with article_lines_close. */
article_lines *article_lines_open(const char *path, char *why, size_t whylen);
/* Next line (without its newline) into *line and *len, borrowed until the next call; *lineno
 * is 1-based. Returns 1 for a line, 0 at end of file, -1 on a read error (reason in why),
 * -2 for a line longer than ARTICLE_MAX_LINE_BYTES (skipped; *lineno says which). */
int article_lines_next(article_lines *r, const char **line, size_t *len, unsigned long *lineno,
                       char *why, size_t whylen);
void article_lines_close(article_lines *r);
/* Bytes of the file consumed so far (compressed bytes for a .gz), for progress. */
size_t article_lines_offset(const article_lines *r);

/* Converts text that is not valid UTF-8 to UTF-8 (article_charset.c): from the charset
 * an HTML document declares (html set), else Windows-1252. Returns 1 with a new string
 * in *out (caller frees) and its length in *outlen, the charset converted from in from;
 * 0 (and NULL) when buf is valid UTF-8 already; -1 when out of memory. */
int article_recode(const char *buf, size_t len, int html, char **out, size_t *outlen,
                   char *from, size_t fromlen);

/* Replaces invalid UTF-8 in buf (len bytes) by U+FFFD and NUL bytes by spaces; returns a
 * new NUL-terminated string the caller frees, and its length in *outlen. */
char *article_utf8_clean(const char *buf, size_t len, size_t *outlen);

#endif
