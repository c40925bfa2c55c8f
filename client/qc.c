/*
 * qc.c -- libquire-client: HTTP/JSON requests to quired over TCP or a Unix socket.
 *
 * Design (the public contract is in include/quire/client.h):
 *   - One libcurl easy handle per client, configured once and reused for every request, so
 *     libcurl keeps the connection alive between requests and reconnects when the server
 *     closed it. Over a Unix socket the URL is "http://localhost/..." and
 *     CURLOPT_UNIX_SOCKET_PATH says where to connect.
 *   - Every URL is built here from percent-encoded pieces (curl_easy_escape, which encodes
 *     everything but unreserved characters, '/' included) and bounded by QC_MAX_URL_BYTES.
 *     CURLOPT_PATH_AS_IS stops libcurl from "normalising" dot segments: the id ".." must
 *     reach the server as a document id, not climb out of /doc/.
 *   - The body is collected in memory up to the client's limit. A Content-Length over the
 *     limit is refused before reading (CURLOPT_MAXFILESIZE_LARGE); a body without one is
 *     cut off by the write callback as soon as it crosses the limit.
 *   - Only http:// is allowed and redirects are not followed: quired never redirects, and a
 *     redirect to somewhere else is not something a search client should chase.
 *   - This file uses libcurl and jansson only: libquire-client is installed on its own and
 *     must not depend on the project's internal lib/.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <curl/curl.h>
#include <jansson.h>

#include "quire/client.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* A host name or address is at most 253 characters; brackets and slack on top. */
#define QC_MAX_HOST_BYTES 260

struct qc_client {
    CURL *curl;
    char *base_url; /* "http://HOST:PORT" or "http://localhost" (Unix socket) */
    char *target;   /* for messages: "HOST:PORT" or "unix:PATH" */
    long timeout_ms;
    size_t max_body;
    struct curl_slist *headers;
    char curl_error[CURL_ERROR_SIZE]; /* CURLOPT_ERRORBUFFER: libcurl's detailed reason */
    char error[CURL_ERROR_SIZE + 512];

    /* The body of the transfer in progress; handed to the response when it completes. */
    char *body;
    size_t body_len;
    size_t body_cap;
    int body_too_large;
    int body_nomem;
};

struct qc_response {
    long status;
    char *body; /* NUL-terminated, body_len bytes before the NUL */
    size_t body_len;
    char *content_type;
    json_t *json;
};

/* A growing string bounded by QC_MAX_URL_BYTES, used to build request URLs. */
struct urlbuf {
    char *p;
    size_t len;
    size_t cap;
    qc_code err; /* first failure; the buffer stops growing after it */
};

/* ---- errors ------------------------------------------------------------------------------ */

/* Allocates a printf-formatted sentence into *errmsg for the constructors; NULL errmsg
 * means the caller does not want it. */
static void errmsg_set(char **errmsg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errmsg_set(char **errmsg, const char *fmt, ...)
{
    if (!errmsg)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(errmsg, fmt, ap) < 0)
        *errmsg = NULL;
    va_end(ap);
}

/* Records the client's last error sentence and returns code, so callers can
 * `return client_fail(c, QC_ERR_ARG, ...)`. */
static qc_code client_fail(qc_client *c, qc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static qc_code client_fail(qc_client *c, qc_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    return code;
}

/* Short names for codes, for logs and tests. */
const char *qc_code_name(qc_code code)
{
    switch (code) {
    case QC_OK: return "ok";
    case QC_ERR_ARG: return "bad argument";
    case QC_ERR_NOMEM: return "out of memory";
    case QC_ERR_CONNECT: return "connect";
    case QC_ERR_TIMEOUT: return "timeout";
    case QC_ERR_TOO_LARGE: return "response too large";
    case QC_ERR_TRANSPORT: return "transport";
    }
    return "unknown";
}

/* The version configure was given (config.h), for the User-Agent and callers. */
const char *qc_version(void)
{
    return PACKAGE_VERSION;
}

/* ---- clients ----------------------------------------------------------------------------- */

/* libcurl's write callback: appends to the client's body buffer, refusing to grow it past
 * max_body. Returning less than n makes libcurl abort the transfer with CURLE_WRITE_ERROR;
 * the flags tell client_request why. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    qc_client *c = userdata;
    size_t n = size * nmemb; /* size is always 1 (libcurl documents it) */

    if (n > c->max_body - c->body_len) {
        c->body_too_large = 1;
        return 0;
    }
    /* +1 keeps room for the NUL the response promises. */
    if (c->body_len + n + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n + 1)
            cap *= 2;
        if (cap > c->max_body + 1)
            cap = c->max_body + 1;
        char *p = realloc(c->body, cap);
        if (!p) {
            c->body_nomem = 1;
            return 0;
        }
        c->body = p;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, n);
    c->body_len += n;
    return n;
}

/* Creates a client and its curl handle with the options every request shares. base_url
 * and target are copied; unix_path (NULL for TCP) is copied by libcurl. */
static qc_client *client_new(const char *base_url, const char *target, const char *unix_path,
                             char **errmsg)
{
    qc_client *c = calloc(1, sizeof *c);
    if (!c) {
        errmsg_set(errmsg, "out of memory creating a Quire client");
        return NULL;
    }
    c->timeout_ms = QC_DEFAULT_TIMEOUT_MS;
    c->max_body = QC_DEFAULT_MAX_BODY;
    c->base_url = strdup(base_url);
    c->target = strdup(target);
    c->curl = curl_easy_init();
    if (!c->base_url || !c->target || !c->curl) {
        errmsg_set(errmsg, "cannot initialise libcurl (out of memory?)");
        qc_client_free(c);
        return NULL;
    }
    c->headers = curl_slist_append(NULL, "Accept: application/json");
    if (!c->headers) {
        errmsg_set(errmsg, "out of memory creating a Quire client");
        qc_client_free(c);
        return NULL;
    }

    CURL *h = c->curl;
    CURLcode rc = CURLE_OK;
    /* Each setopt can only fail on a bad option or no memory: collect the first failure. */
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        CURLcode r_ = curl_easy_setopt(h, opt, val);                                               \
        if (rc == CURLE_OK)                                                                        \
            rc = r_;                                                                               \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM from the resolver: we live in others' programs */
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http");
#else
    SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* "" turns off the http_proxy/no_proxy environment variables: a proxy set for the web
     * would otherwise receive requests meant for a daemon on this host. */
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_PATH_AS_IS, 1L);
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_HTTPHEADER, c->headers);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_ERRORBUFFER, c->curl_error);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_USERAGENT, "libquire-client/" PACKAGE_VERSION);
    if (unix_path)
        SET(CURLOPT_UNIX_SOCKET_PATH, unix_path);
#undef SET
    if (rc != CURLE_OK) {
        errmsg_set(errmsg, "cannot configure libcurl: %s", curl_easy_strerror(rc));
        qc_client_free(c);
        return NULL;
    }
    return c;
}

/* Accepts host names and IP addresses only: no characters that would change the meaning
 * of the URL built around them ('/', '@', '?', '#', spaces, ...). */
static int host_is_valid(const char *host)
{
    size_t n = strlen(host);
    if (n == 0 || n > QC_MAX_HOST_BYTES)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)host[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '-' || ch == '_' || ch == ':';
        if (!ok)
            return 0;
    }
    return 1;
}

/* Creates a TCP client; see client.h. */
qc_client *qc_client_new_tcp(const char *host, unsigned port, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!host || !*host) {
        errmsg_set(errmsg, "no host given to connect to");
        return NULL;
    }
    /* Accept "[::1]" as well as "::1": strip the brackets, add them back below. */
    char bare[QC_MAX_HOST_BYTES + 1];
    size_t n = strlen(host);
    if (host[0] == '[' && n >= 2 && host[n - 1] == ']' && n - 2 <= QC_MAX_HOST_BYTES) {
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
    } else if (n <= QC_MAX_HOST_BYTES) {
        memcpy(bare, host, n + 1);
    } else {
        bare[0] = '\0';
    }
    if (!host_is_valid(bare)) {
        errmsg_set(errmsg, "'%.300s' is not a valid host name or IP address", host);
        return NULL;
    }
    if (port == 0 || port > 65535) {
        errmsg_set(errmsg, "port %u is out of range (1-65535)", port);
        return NULL;
    }
    int v6 = strchr(bare, ':') != NULL;
    char target[QC_MAX_HOST_BYTES + 16];
    char base[QC_MAX_HOST_BYTES + 32];
    snprintf(target, sizeof target, v6 ? "[%s]:%u" : "%s:%u", bare, port);
    snprintf(base, sizeof base, "http://%s", target);
    return client_new(base, target, NULL, errmsg);
}

/* Creates a Unix-socket client; see client.h. */
qc_client *qc_client_new_unix(const char *path, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!path || !*path) {
        errmsg_set(errmsg, "no Unix socket path given");
        return NULL;
    }
    /* The kernel's limit: a longer path cannot be connected to at all. */
    size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
    if (strlen(path) > max) {
        errmsg_set(errmsg,
                   "Unix socket path is %zu bytes long, longer than the limit of %zu: %.200s...",
                   strlen(path), max, path);
        return NULL;
    }
    char *target = NULL;
    if (asprintf(&target, "unix:%s", path) < 0) {
        errmsg_set(errmsg, "out of memory creating a Quire client");
        return NULL;
    }
    /* The host part is only what goes in the Host: header. */
    qc_client *c = client_new("http://localhost", target, path, errmsg);
    free(target);
    return c;
}

/* Parses a decimal port 1..65535 from exactly the string s. Returns 0 when invalid. */
static unsigned parse_port(const char *s)
{
    if (!*s || strlen(s) > 5)
        return 0;
    unsigned v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (unsigned)(*s - '0');
    }
    return v <= 65535 ? v : 0;
}

/* Creates a client from a target string; see client.h for the forms. */
qc_client *qc_client_new_target(const char *target, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!target || !*target) {
        errmsg_set(errmsg, "no target given (expected HOST:PORT or a Unix socket path)");
        return NULL;
    }
    if (strncmp(target, "unix:", 5) == 0)
        return qc_client_new_unix(target + 5, errmsg);

    char spec[QC_MAX_HOST_BYTES + 16];
    const char *s = target;
    if (strncmp(s, "http://", 7) == 0) {
        s += 7;
    } else if (strchr(s, '/')) {
        return qc_client_new_unix(target, errmsg);
    }
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '/')
        n--; /* "http://host:port/" */
    if (n == 0 || n >= sizeof spec || memchr(s, '/', n)) {
        errmsg_set(errmsg,
                   "'%.300s' is not a valid target (expected HOST:PORT, http://HOST:PORT, "
                   "unix:PATH or a socket path)",
                   target);
        return NULL;
    }
    memcpy(spec, s, n);
    spec[n] = '\0';

    char *host = spec;
    const char *port_str = NULL;
    if (spec[0] == '[') {
        char *close = strchr(spec, ']');
        if (!close || (close[1] != '\0' && close[1] != ':')) {
            errmsg_set(errmsg, "'%.300s' is not a valid target: expected [IPV6]:PORT", target);
            return NULL;
        }
        if (close[1] == ':')
            port_str = close + 2;
        close[1] = '\0'; /* keep the brackets: qc_client_new_tcp accepts them */
    } else {
        char *colon = strchr(spec, ':');
        if (colon && strchr(colon + 1, ':')) {
            errmsg_set(errmsg,
                       "'%.300s' is ambiguous: write an IPv6 address in brackets, "
                       "e.g. [::1]:7070",
                       target);
            return NULL;
        }
        if (colon) {
            *colon = '\0';
            port_str = colon + 1;
        }
    }
    unsigned port = QC_DEFAULT_PORT;
    if (port_str) {
        port = parse_port(port_str);
        if (port == 0) {
            errmsg_set(errmsg, "'%.300s' has no valid port (expected 1-65535 after the ':')",
                       target);
            return NULL;
        }
    }
    return qc_client_new_tcp(host, port, errmsg);
}

/* Frees a client; see client.h. */
void qc_client_free(qc_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->body);
    free(c->base_url);
    free(c->target);
    free(c);
}

/* Sets the per-request time limit; see client.h. */
void qc_client_set_timeout_ms(qc_client *c, long ms)
{
    if (!c)
        return;
    c->timeout_ms = ms > 0 ? ms : 0;
    /* These cannot fail for a long option. With 0, libcurl still gives up connecting after
     * its built-in 300 s. */
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
}

/* Sets the response body limit; see client.h. */
void qc_client_set_max_body(qc_client *c, size_t bytes)
{
    if (!c)
        return;
    c->max_body = bytes ? bytes : QC_DEFAULT_MAX_BODY;
    /* Keeps the buffer arithmetic in on_body() far from overflow. */
    if (c->max_body > SIZE_MAX / 4)
        c->max_body = SIZE_MAX / 4;
    curl_easy_setopt(c->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
}

/* The last error sentence; see client.h. */
const char *qc_client_error(const qc_client *c)
{
    return c ? c->error : "no client";
}

/* The target for messages; see client.h. */
const char *qc_client_target(const qc_client *c)
{
    return c ? c->target : "";
}

/* ---- requests ---------------------------------------------------------------------------- */

/* Appends n bytes to the URL buffer, refusing to pass QC_MAX_URL_BYTES. */
static void urlbuf_add(struct urlbuf *u, const char *s, size_t n)
{
    if (u->err)
        return;
    if (n > QC_MAX_URL_BYTES - u->len) {
        u->err = QC_ERR_ARG;
        return;
    }
    if (u->len + n + 1 > u->cap) {
        size_t cap = u->cap ? u->cap : 256;
        while (cap < u->len + n + 1)
            cap *= 2;
        char *p = realloc(u->p, cap);
        if (!p) {
            u->err = QC_ERR_NOMEM;
            return;
        }
        u->p = p;
        u->cap = cap;
    }
    memcpy(u->p + u->len, s, n);
    u->len += n;
    u->p[u->len] = '\0';
}

/* Appends a NUL-terminated string as is. */
static void urlbuf_str(struct urlbuf *u, const char *s)
{
    urlbuf_add(u, s, strlen(s));
}

/* Appends s percent-encoded: everything but A-Z a-z 0-9 - . _ ~ becomes %XX, so '/', '&',
 * '=', '?', '#', '+' and spaces cannot change the URL's structure. */
static void urlbuf_escaped(qc_client *c, struct urlbuf *u, const char *s)
{
    if (u->err)
        return;
    size_t n = strlen(s);
    /* The bound also keeps the length within curl_easy_escape's int. */
    if (n > QC_MAX_URL_BYTES) {
        u->err = QC_ERR_ARG;
        return;
    }
    char *e = curl_easy_escape(c->curl, s, (int)n);
    if (!e) {
        u->err = QC_ERR_NOMEM;
        return;
    }
    urlbuf_str(u, e);
    curl_free(e);
}

/* Turns a URL-building failure into the client's error. */
static qc_code urlbuf_fail(qc_client *c, struct urlbuf *u, const char *what)
{
    free(u->p);
    u->p = NULL;
    if (u->err == QC_ERR_NOMEM)
        return client_fail(c, QC_ERR_NOMEM, "out of memory building the %s request", what);
    return client_fail(c, QC_ERR_ARG,
                       "the %s request is longer than the limit of %u bytes once "
                       "URL-encoded",
                       what, QC_MAX_URL_BYTES);
}

/* Maps a failed transfer to a code and a sentence naming the target and the request. */
static qc_code transfer_fail(qc_client *c, CURLcode rc, const char *path)
{
    const char *why = c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return client_fail(c, QC_ERR_CONNECT, "cannot connect to %s: %s", c->target, why);
    case CURLE_OPERATION_TIMEDOUT:
        return client_fail(c, QC_ERR_TIMEOUT, "no answer from %s within %ld ms (GET %.200s)",
                           c->target, c->timeout_ms, path);
    case CURLE_FILESIZE_EXCEEDED:
        return client_fail(c, QC_ERR_TOO_LARGE,
                           "the answer from %s to GET %.200s is larger than "
                           "the limit of %zu bytes",
                           c->target, path, c->max_body);
    case CURLE_OUT_OF_MEMORY:
        return client_fail(c, QC_ERR_NOMEM, "out of memory receiving the answer from %s",
                           c->target);
    case CURLE_WRITE_ERROR:
        if (c->body_too_large)
            return transfer_fail(c, CURLE_FILESIZE_EXCEEDED, path);
        if (c->body_nomem)
            return transfer_fail(c, CURLE_OUT_OF_MEMORY, path);
        break;
    default: break;
    }
    return client_fail(c, QC_ERR_TRANSPORT, "GET %.200s from %s failed: %s", path, c->target, why);
}

/* Performs GET base_url + path (already encoded and bounded) and builds the response. The
 * one place where a request happens. */
static qc_code client_request(qc_client *c, const char *path, int post, qc_response **out)
{
    char *url = NULL;
    if (asprintf(&url, "%s%s", c->base_url, path) < 0)
        return client_fail(c, QC_ERR_NOMEM, "out of memory building the request");

    c->curl_error[0] = '\0';
    c->body_len = 0;
    c->body_too_large = 0;
    c->body_nomem = 0;
    CURLcode rc = curl_easy_setopt(c->curl, CURLOPT_URL, url);
    free(url);
    if (rc != CURLE_OK)
        return client_fail(c, QC_ERR_NOMEM, "cannot set the request URL: %s",
                           curl_easy_strerror(rc));
    if (post) {
        /* An empty body; the handle goes back to GET after the transfer. */
        rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
        if (rc != CURLE_OK) {
            curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
            return client_fail(c, QC_ERR_NOMEM, "cannot make a POST request: %s",
                               curl_easy_strerror(rc));
        }
    }
    rc = curl_easy_perform(c->curl);
    if (post)
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    if (rc != CURLE_OK) {
        qc_code code = transfer_fail(c, rc, path);
        /* Do not keep a refused body (up to max_body bytes) alive in the client. */
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
        c->body_len = 0;
        return code;
    }

    qc_response *r = calloc(1, sizeof *r);
    if (!r)
        return client_fail(c, QC_ERR_NOMEM, "out of memory receiving the answer");
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
    /* libcurl passes any number through (a fuzzer found -2 and 600): only 100..599 is
     * HTTP. */
    if (r->status < 100 || r->status > 599) {
        qc_response_free(r);
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
        c->body_len = 0;
        return client_fail(c, QC_ERR_TRANSPORT, "the server sent a malformed HTTP status line");
    }
    char *ct = NULL;
    if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
        r->content_type = strdup(ct);
        if (!r->content_type) {
            qc_response_free(r);
            return client_fail(c, QC_ERR_NOMEM, "out of memory receiving the answer");
        }
    }
    /* Hand the buffer over; an empty body never allocated one. */
    if (c->body) {
        r->body = c->body;
        r->body[c->body_len] = '\0';
        r->body_len = c->body_len;
        c->body = NULL;
        c->body_cap = 0;
    } else {
        r->body = strdup("");
        if (!r->body) {
            qc_response_free(r);
            return client_fail(c, QC_ERR_NOMEM, "out of memory receiving the answer");
        }
    }
    c->body_len = 0;
    /* Any status may carry JSON (errors do); anything that does not parse is just not JSON. */
    if (r->body_len > 0)
        r->json = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
    c->error[0] = '\0';
    *out = r;
    return QC_OK;
}

/* Checks the common arguments of the request functions. */
static qc_code check_args(qc_client *c, qc_response **out)
{
    if (out)
        *out = NULL;
    if (!c)
        return QC_ERR_ARG;
    if (!out)
        return client_fail(c, QC_ERR_ARG, "no place to store the response (out is NULL)");
    return QC_OK;
}

/* Sets search options to their defaults; see client.h. */
void qc_search_opts_init(qc_search_opts *opts)
{
    const qc_search_opts init = QC_SEARCH_OPTS_INIT;
    *opts = init;
}

/* GET /search; see client.h. */
qc_code qc_search(qc_client *c, const qc_search_opts *opts, qc_response **out)
{
    qc_code rc = check_args(c, out);
    if (rc != QC_OK)
        return rc;
    if (!opts || !opts->query)
        return client_fail(c, QC_ERR_ARG, "no query given to search for");
    if (opts->nparams > 0 && !opts->params)
        return client_fail(c, QC_ERR_ARG, "nparams is %zu but params is NULL", opts->nparams);

    struct urlbuf u = {0};
    char num[32];
    urlbuf_str(&u, "/search?q=");
    urlbuf_escaped(c, &u, opts->query);
    if (opts->limit >= 0) {
        snprintf(num, sizeof num, "&limit=%ld", opts->limit);
        urlbuf_str(&u, num);
    }
    if (opts->offset >= 0) {
        snprintf(num, sizeof num, "&offset=%ld", opts->offset);
        urlbuf_str(&u, num);
    }
    if (opts->snippet >= 0)
        urlbuf_str(&u, opts->snippet ? "&snippet=1" : "&snippet=0");
    for (size_t i = 0; i < opts->nparams; i++) {
        const qc_param *p = &opts->params[i];
        if (!p->key || !*p->key) {
            free(u.p);
            return client_fail(c, QC_ERR_ARG, "search parameter %zu has no name", i);
        }
        urlbuf_str(&u, "&");
        urlbuf_escaped(c, &u, p->key);
        urlbuf_str(&u, "=");
        urlbuf_escaped(c, &u, p->value ? p->value : "");
    }
    if (u.err)
        return urlbuf_fail(c, &u, "search");
    rc = client_request(c, u.p, 0, out);
    free(u.p);
    return rc;
}

/* Starts u with "/doc/" and the id as one encoded path segment. */
static void doc_path(qc_client *c, struct urlbuf *u, const char *id)
{
    urlbuf_str(u, "/doc/");
    /* "." and ".." are the only ids a URL parser could read as dot segments; curl leaves
     * '.' unencoded, so encode these two by hand. */
    if (strcmp(id, ".") == 0)
        urlbuf_str(u, "%2E");
    else if (strcmp(id, "..") == 0)
        urlbuf_str(u, "%2E%2E");
    else
        urlbuf_escaped(c, u, id);
}

/* GET /doc/{id}; see client.h. */
qc_code qc_doc(qc_client *c, const char *id, qc_response **out)
{
    qc_code rc = check_args(c, out);
    if (rc != QC_OK)
        return rc;
    if (!id || !*id)
        return client_fail(c, QC_ERR_ARG, "no document id given");

    struct urlbuf u = {0};
    doc_path(c, &u, id);
    if (u.err)
        return urlbuf_fail(c, &u, "document");
    rc = client_request(c, u.p, 0, out);
    free(u.p);
    return rc;
}

/* GET /doc/{id}/similar; see client.h. */
qc_code qc_similar(qc_client *c, const char *id, long limit, qc_response **out)
{
    qc_code rc = check_args(c, out);
    if (rc != QC_OK)
        return rc;
    if (!id || !*id)
        return client_fail(c, QC_ERR_ARG, "no document id given");

    struct urlbuf u = {0};
    doc_path(c, &u, id);
    urlbuf_str(&u, "/similar");
    if (limit >= 0) {
        char num[32];
        snprintf(num, sizeof num, "?limit=%ld", limit);
        urlbuf_str(&u, num);
    }
    if (u.err)
        return urlbuf_fail(c, &u, "document");
    rc = client_request(c, u.p, 0, out);
    free(u.p);
    return rc;
}

/* GET /doc/{id}/similar with parameters; see client.h. */
qc_code qc_similar_params(qc_client *c, const char *id, const qc_param *params, size_t nparams,
                          qc_response **out)
{
    qc_code rc = check_args(c, out);
    if (rc != QC_OK)
        return rc;
    if (!id || !*id)
        return client_fail(c, QC_ERR_ARG, "no document id given");
    if (nparams > 0 && !params)
        return client_fail(c, QC_ERR_ARG, "nparams is %zu but params is NULL", nparams);

    struct urlbuf u = {0};
    doc_path(c, &u, id);
    urlbuf_str(&u, "/similar");
    for (size_t i = 0; i < nparams; i++) {
        const qc_param *p = &params[i];
        if (!p->key || !*p->key) {
            free(u.p);
            return client_fail(c, QC_ERR_ARG, "similar parameter %zu has no name", i);
        }
        urlbuf_str(&u, i ? "&" : "?");
        urlbuf_escaped(c, &u, p->key);
        urlbuf_str(&u, "=");
        urlbuf_escaped(c, &u, p->value ? p->value : "");
    }
    if (u.err)
        return urlbuf_fail(c, &u, "document");
    rc = client_request(c, u.p, 0, out);
    free(u.p);
    return rc;
}

/* GET /health; see client.h. */
qc_code qc_health(qc_client *c, qc_response **out)
{
    qc_code rc = check_args(c, out);
    if (rc != QC_OK)
        return rc;
    return client_request(c, "/health", 0, out);
}

/* Checks a caller-built path for qc_get and qc_post: QC_OK, or QC_ERR_ARG with the error
 * set. */
static qc_code check_path(qc_client *c, const char *path_and_query)
{
    if (!path_and_query || path_and_query[0] != '/')
        return client_fail(c, QC_ERR_ARG, "a request path must start with '/'");
    size_t n = strlen(path_and_query);
    if (n > QC_MAX_URL_BYTES)
        return client_fail(c, QC_ERR_ARG,
                           "the request path is %zu bytes, longer than the limit "
                           "of %u",
                           n, QC_MAX_URL_BYTES);
    /* Spaces, control characters and '#' would make a different request than the caller
     * wrote (or a malformed one): they must be percent-encoded. */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)path_and_query[i];
        if (ch <= 0x20 || ch == 0x7f || ch == '#')
            return client_fail(c, QC_ERR_ARG, "the request path has an unencoded %s at byte %zu",
                               ch == ' '   ? "space"
                               : ch == '#' ? "'#'"
                                           : "control character",
                               i);
    }
    return QC_OK;
}

/* A request to a caller-built path, checked first: GET, or POST with an empty body. */
static qc_code path_request(qc_client *c, const char *path_and_query, int post,
                            qc_response **out)
{
    qc_code rc = check_args(c, out);
    if (rc == QC_OK)
        rc = check_path(c, path_and_query);
    if (rc != QC_OK)
        return rc;
    return client_request(c, path_and_query, post, out);
}

/* GET of a caller-built path; see client.h. */
qc_code qc_get(qc_client *c, const char *path_and_query, qc_response **out)
{
    return path_request(c, path_and_query, 0, out);
}

/* POST with an empty body to a caller-built path; see client.h. */
qc_code qc_post(qc_client *c, const char *path_and_query, qc_response **out)
{
    return path_request(c, path_and_query, 1, out);
}

/* Sends the admin token with every request; see client.h. */
qc_code qc_client_set_admin_token(qc_client *c, const char *token)
{
    if (!c)
        return QC_ERR_ARG;
    struct curl_slist *h = NULL;
    if (token) {
        size_t n = strlen(token);
        if (n == 0 || n > QC_MAX_ADMIN_TOKEN_BYTES)
            return client_fail(c, QC_ERR_ARG, "the admin token must be 1 to %u bytes",
                               QC_MAX_ADMIN_TOKEN_BYTES);
        /* A header line: anything else could end it and start another. */
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
                return client_fail(c, QC_ERR_ARG,
                                   "the admin token may hold only visible ASCII characters "
                                   "(byte %zu is not one)",
                                   i);
        }
        char line[QC_MAX_ADMIN_TOKEN_BYTES + 32];
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        h = curl_slist_append(NULL, "Accept: application/json");
        struct curl_slist *h2 = h ? curl_slist_append(h, line) : NULL;
        memset(line, 0, sizeof line);
        if (!h2) {
            curl_slist_free_all(h);
            return client_fail(c, QC_ERR_NOMEM, "out of memory setting the admin token");
        }
        h = h2;
    } else {
        h = curl_slist_append(NULL, "Accept: application/json");
        if (!h)
            return client_fail(c, QC_ERR_NOMEM, "out of memory setting the admin token");
    }
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_slist_free_all(c->headers);
    c->headers = h;
    c->error[0] = '\0';
    return QC_OK;
}

/* ---- responses --------------------------------------------------------------------------- */

/* Frees a response; see client.h. */
void qc_response_free(qc_response *r)
{
    if (!r)
        return;
    json_decref(r->json);
    free(r->body);
    free(r->content_type);
    free(r);
}

/* Accessors; see client.h. */
long qc_response_status(const qc_response *r)
{
    return r ? r->status : 0;
}

const char *qc_response_body(const qc_response *r, size_t *len)
{
    if (len)
        *len = r ? r->body_len : 0;
    return r && r->body ? r->body : "";
}

const char *qc_response_content_type(const qc_response *r)
{
    return r ? r->content_type : NULL;
}

json_t *qc_response_json(const qc_response *r)
{
    return r ? r->json : NULL;
}

/* Looks up a string member of the body's "error" object. */
static const char *error_member(const qc_response *r, const char *key)
{
    if (!r || !json_is_object(r->json))
        return NULL;
    json_t *e = json_object_get(r->json, "error");
    return json_string_value(json_object_get(e, key)); /* both accept NULL */
}

const char *qc_response_error_message(const qc_response *r)
{
    return error_member(r, "message");
}

const char *qc_response_error_code(const qc_response *r)
{
    return error_member(r, "code");
}
