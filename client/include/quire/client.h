/*
 * quire/client.h -- libquire-client, the public C library for talking to quired.
 *
 * quired answers HTTP/JSON over TCP or a Unix socket. This library hides HTTP (it uses
 * libcurl) and hands back the status, the body and the body parsed with jansson, so a
 * program can search a Quire index in a few lines:
 *
 *     char *msg = NULL;
 *     qc_client *c = qc_client_new_tcp("127.0.0.1", 7070, &msg);
 *     if (!c) { fprintf(stderr, "%s\n", msg); free(msg); return 1; }
 *     qc_search_opts o;
 *     qc_search_opts_init(&o);
 *     o.query = "muse";
 *     qc_response *r = NULL;
 *     if (qc_search(c, &o, &r) != QC_OK)
 *         fprintf(stderr, "%s\n", qc_client_error(c));
 *     else if (qc_response_status(r) != 200)
 *         fprintf(stderr, "%s\n", qc_response_error_message(r));
 *     else
 *         ... use qc_response_json(r) ...
 *     qc_response_free(r);
 *     qc_client_free(c);
 *
 * Conventions:
 *   - Ownership. Every `qc_X_new` has a `qc_X_free` that accepts NULL. A `char *` handed
 *     to the caller (the `errmsg` of the constructors) is owned by the caller, who frees it
 *     with free(). A `const char *` or `json_t *` returned by an accessor is borrowed: the
 *     comment says until when. Strings passed in are only read during the call; the library
 *     keeps its own copies.
 *   - Errors. Request functions return a `qc_code`: QC_OK (0) when an HTTP response
 *     arrived, *whatever its status* (a 404 is a response, not a transport failure); any
 *     other code when no response arrived, with a sentence in qc_client_error().
 *   - Threads. A qc_client is not thread-safe: use one per thread. libcurl initialises
 *     itself on the first qc_client_new_*; a multithreaded program should call
 *     curl_global_init(CURL_GLOBAL_DEFAULT) once before starting threads (libcurl's rule,
 *     which matters only with libcurl older than 7.84).
 *   - Connections. A client keeps one connection open and reuses it between requests
 *     (HTTP keep-alive); it reconnects by itself when the server has closed it.
 *   - Limits. A response body larger than qc_client_set_max_body() (default 64 MiB) is
 *     refused with QC_ERR_TOO_LARGE instead of exhausting memory; a request takes at most
 *     qc_client_set_timeout_ms() (default 10 s), connecting included.
 *
 * Link with `pkg-config --cflags --libs quire-client`.
 */
#ifndef QUIRE_CLIENT_H
#define QUIRE_CLIENT_H

#include <stddef.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QC_DEFAULT_HOST "127.0.0.1"
#define QC_DEFAULT_PORT 7070u
#define QC_DEFAULT_TIMEOUT_MS 10000L
#define QC_DEFAULT_MAX_BODY ((size_t)64 << 20)
/* The longest request URL (path and query string, after percent-encoding) the library
 * will send; a longer one is refused with QC_ERR_ARG before anything is sent. */
#define QC_MAX_URL_BYTES 65536u
/* The longest admin token qc_client_set_admin_token takes (quired's own limit). */
#define QC_MAX_ADMIN_TOKEN_BYTES 256u

/* What went wrong when no HTTP response arrived. */
typedef enum qc_code {
    QC_OK = 0,
    QC_ERR_ARG,       /* bad argument (NULL, empty id, bad path, URL too long): nothing sent */
    QC_ERR_NOMEM,     /* allocation failed */
    QC_ERR_CONNECT,   /* could not resolve the host or connect (is quired running?) */
    QC_ERR_TIMEOUT,   /* no complete response within the timeout */
    QC_ERR_TOO_LARGE, /* the response body is larger than the client's limit */
    QC_ERR_TRANSPORT  /* any other failure: connection reset, malformed HTTP, ... */
} qc_code;

/* A connection to one quired. Opaque. */
typedef struct qc_client qc_client;

/* One HTTP response. Opaque; read it with the qc_response_* accessors. */
typedef struct qc_response qc_response;

/* ---- clients ------------------------------------------------------------------------- */

/* A client for quired listening on TCP HOST:PORT. host is a name, an IPv4 address or an
 * IPv6 address (with or without brackets); port is 1..65535. Nothing is connected yet:
 * the first request connects. Returns a new client (free it with qc_client_free), or NULL
 * and, when errmsg is not NULL, *errmsg = a sentence saying why (free() it). */
qc_client *qc_client_new_tcp(const char *host, unsigned port, char **errmsg);

/* A client for quired listening on the Unix socket at path (at most 107 bytes, the size of
 * sun_path). The socket need not exist yet. Returns and fails like qc_client_new_tcp. */
qc_client *qc_client_new_unix(const char *path, char **errmsg);

/* A client from one target string, the form command lines and config files use:
 *     "HOST:PORT", "[IPV6]:PORT", "HOST" (port 7070), "http://HOST:PORT[/]",
 *     "unix:PATH", or a PATH containing '/' (a Unix socket).
 * Returns and fails like qc_client_new_tcp. */
qc_client *qc_client_new_target(const char *target, char **errmsg);

/* Closes the connection and frees the client. NULL is allowed. Responses obtained from the
 * client stay valid: they are independent objects. */
void qc_client_free(qc_client *c);

/* Bounds every request, connecting included, to ms milliseconds. Default
 * QC_DEFAULT_TIMEOUT_MS. 0 (or a negative value) means no limit, except libcurl's own
 * 300 s limit on connecting. */
void qc_client_set_timeout_ms(qc_client *c, long ms);

/* Refuses response bodies longer than bytes (QC_ERR_TOO_LARGE). Default
 * QC_DEFAULT_MAX_BODY. 0 restores the default. */
void qc_client_set_max_body(qc_client *c, size_t bytes);

/* The last error on this client as a sentence, or "" after a successful request. Borrowed:
 * valid until the next call on c or qc_client_free(c). Never NULL. */
const char *qc_client_error(const qc_client *c);

/* The target this client talks to, for messages: "127.0.0.1:7070", "[::1]:7070" or
 * "unix:/run/quire.sock". Borrowed: valid until qc_client_free(c). */
const char *qc_client_target(const qc_client *c);

/* ---- requests -------------------------------------------------------------------------- */

/* One extra query-string parameter. Both strings are borrowed for the duration of the call
 * and percent-encoded by the library. */
typedef struct qc_param {
    const char *key;
    const char *value;
} qc_param;

/* What to search for. Initialise with qc_search_opts_init() (or QC_SEARCH_OPTS_INIT), then
 * set what you need. Parameters the server adds later (op, sort, facets, dedup, explain,
 * ...) go through `params`, so this struct does not need to grow. */
typedef struct qc_search_opts {
    const char *query;      /* required: the query text, UTF-8 */
    long limit;             /* hits to return; -1: the server's default */
    long offset;            /* hits to skip; -1: the server's default (0) */
    int snippet;            /* 1: snippets, 0: none, -1: the server's default (on) */
    const qc_param *params; /* nparams extra parameters, sent after the above; may be NULL */
    size_t nparams;
} qc_search_opts;

/* clang-format off */
#define QC_SEARCH_OPTS_INIT { NULL, -1, -1, -1, NULL, 0 }
/* clang-format on */

/* Sets opts to QC_SEARCH_OPTS_INIT. */
void qc_search_opts_init(qc_search_opts *opts);

/* GET /search?q=QUERY[&limit=N][&offset=K][&snippet=0|1][&KEY=VALUE...], every key and
 * value percent-encoded. On QC_OK, *out is a new response (free it with qc_response_free);
 * otherwise *out is NULL and qc_client_error(c) says why. */
qc_code qc_search(qc_client *c, const qc_search_opts *opts, qc_response **out);

/* GET /doc/ID with the id percent-encoded as one path segment ("business/001" is sent as
 * "business%2F001"). Returns like qc_search; an unknown id is a QC_OK response with
 * status 404. */
qc_code qc_doc(qc_client *c, const char *id, qc_response **out);

/* GET /doc/ID/similar?limit=LIMIT (LIMIT < 0: the server's default, 10): articles like
 * the one with id, in the search answer's shape. Returns like qc_doc. */
qc_code qc_similar(qc_client *c, const char *id, long limit, qc_response **out);

/* GET /doc/ID/similar?KEY=VALUE&...: like qc_similar with any of the parameters the
 * endpoint takes (limit, offset, snippet, dedup, fields), each percent-encoded; the server
 * refuses others. params may be NULL when nparams is 0. Returns like qc_doc. */
qc_code qc_similar_params(qc_client *c, const char *id, const qc_param *params, size_t nparams,
                          qc_response **out);

/* GET /health. Returns like qc_search. */
qc_code qc_health(qc_client *c, qc_response **out);

/* GET path_and_query as given: it must start with '/', be already percent-encoded, and
 * contain no spaces or control characters (QC_ERR_ARG otherwise). Returns like qc_search. */
qc_code qc_get(qc_client *c, const char *path_and_query, qc_response **out);

/* POST path_and_query with an empty body; the path is checked like qc_get's. Returns like
 * qc_search. Used for the administrative actions (POST /admin/reload,
 * POST /admin/queries/reset), which need qc_client_set_admin_token or a Unix socket. */
qc_code qc_post(qc_client *c, const char *path_and_query, qc_response **out);

/* Sends "Authorization: Bearer TOKEN" with every later request of c, as quired's
 * administrative endpoints (/admin/...) ask over TCP; NULL stops sending it. token is
 * 1..QC_MAX_ADMIN_TOKEN_BYTES visible ASCII characters, copied. Returns QC_OK, QC_ERR_ARG
 * (a token that could not be a header value: nothing changes) or QC_ERR_NOMEM. */
qc_code qc_client_set_admin_token(qc_client *c, const char *token);

/* ---- responses ------------------------------------------------------------------------- */

/* Frees the response and everything borrowed from it. NULL is allowed. */
void qc_response_free(qc_response *r);

/* The HTTP status code (200, 400, 404, 503, ...). */
long qc_response_status(const qc_response *r);

/* The body, NUL-terminated (an empty body is ""); when len is not NULL, *len = its length
 * in bytes, which is what to trust if the body may contain NUL bytes. Borrowed: valid until
 * qc_response_free(r). Never NULL. */
const char *qc_response_body(const qc_response *r, size_t *len);

/* The Content-Type header, or NULL when there was none. Borrowed like the body. */
const char *qc_response_content_type(const qc_response *r);

/* The body parsed as JSON, or NULL when it is not JSON (whatever the status). Borrowed:
 * valid until qc_response_free(r); json_incref() it to keep it longer. */
json_t *qc_response_json(const qc_response *r);

/* For an error body {"error": {"code": C, "message": M}}: M (resp. C). NULL when the body
 * has no such member. Borrowed like qc_response_json. */
const char *qc_response_error_message(const qc_response *r);
const char *qc_response_error_code(const qc_response *r);

/* ---- misc ------------------------------------------------------------------------------ */

/* A short English name for a code ("connect", "timeout", ...). Static; never NULL. */
const char *qc_code_name(qc_code code);

/* The library's version, e.g. "0.1.0". Static; never NULL. */
const char *qc_version(void);

#ifdef __cplusplus
}
#endif

#endif
