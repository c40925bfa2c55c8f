/*
 * conns_answer.c -- the answers quired writes itself, straight to the socket, before it
 * closes a connection (see conns.h): the JSON 413 for a body over max_body (conns_body.c)
 * and, in place of evhttp's own HTML error pages, the daemon's JSON error with the status
 * that fits. Each is counted in /metrics (endpoint "other") and written to the access log.
 *
 * evhttp's own answer is seen when its status line is queued outside a dispatched request
 * (conn_output); it is not sent yet (evglue.h, assumption 4). The connection's timer runs
 * before it would be, and conn_answer_own answers instead: the answer goes out ahead of
 * what evhttp queued, which is dropped when the connection is freed.
 */
#include "conns_int.h"

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* The request line is complete (its first bytes in c->first, its last in the c->tail
 * ring): notes an HTTP version past 1.x, which evhttp refuses as a malformed request. Its
 * version is what follows the last space, read as evhttp reads it: "HTTP/%d.%d". */
void conn_request_line(struct conn *c)
{
    char tail[sizeof c->tail + 1];
    size_t n = c->linelen < sizeof c->tail ? c->linelen : sizeof c->tail;
    for (size_t i = 0; i < n; i++)
        tail[i] = c->tail[(c->linelen - n + i) % sizeof c->tail];
    tail[n] = '\0';
    const char *v = strrchr(tail, ' ');
    c->bad_version = 0;
    if (!v || strncmp(v + 1, "HTTP/", 5) != 0)
        return;
    v += 6;
    unsigned major = 0;
    size_t digits = 0;
    for (; *v >= '0' && *v <= '9'; v++, digits++)
        major = major * 10 + (unsigned)(*v - '0');
    if (digits == 0 || digits > 3 || *v != '.' || !(v[1] >= '0' && v[1] <= '9'))
        return;
    for (v++; *v >= '0' && *v <= '9'; v++) {
    }
    c->bad_version = *v == '\0' && major > 1;
}

/* The request line's method and path, as far as c->first holds them, for the access log:
 * printable ASCII only (anything else becomes '?'), "-" when absent. */
static void request_words(const struct conn *c, char *method, size_t mlen, char *path,
                          size_t plen)
{
    size_t n = strnlen(c->first, sizeof c->first), i = 0, k = 0;
    for (; i < n && c->first[i] != ' ' && k + 1 < mlen; i++)
        method[k++] = c->first[i] > 0x20 && c->first[i] < 0x7f ? c->first[i] : '?';
    method[k] = '\0';
    while (i < n && c->first[i] != ' ')
        i++;
    k = 0;
    for (i++; i < n && c->first[i] != ' ' && k + 1 < plen; i++)
        path[k++] = c->first[i] > 0x20 && c->first[i] < 0x7f ? c->first[i] : '?';
    path[k] = '\0';
    if (!method[0])
        snprintf(method, mlen, "-");
    if (!path[0])
        snprintf(path, plen, "-");
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 413: return "Payload Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

/* Answers c with {"error": {"code", "message"}} and status, written straight to the socket
 * (ahead of anything evhttp has queued, which is dropped), then closes c: evhttp shuts the
 * socket, a duplicate of it lingers so that the client reads the answer, not a reset.
 * message is one of ours: no character JSON would escape. */
void conn_answer_close(struct conn *c, int status, const char *code, const char *message)
{
    assert(!strpbrk(message, "\"\\") && !strpbrk(code, "\"\\"));
    struct conn_table *t = c->t;
    char method[16], path[200];
    request_words(c, method, sizeof method, path, sizeof path);
    char body[512], text[1024];
    int blen = snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
                        code, message);
    assert(blen > 0 && (size_t)blen < sizeof body);
    /* A HEAD request's answer has the length of the body it does not carry. */
    int head = strcmp(method, "HEAD") == 0;
    int n = snprintf(text, sizeof text,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: application/json; charset=utf-8\r\n"
                     "Cache-Control: no-store\r\n"
                     "Connection: close\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     status, reason_phrase(status), blen, head ? "" : body);
    assert(n > 0 && (size_t)n < sizeof text);
    ssize_t k = send(c->fd, text, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)k; /* the send buffer takes a short answer whole; if not, the client sees a cut */
    double ms = util_now_ms() - c->since;
    evutil_socket_t dup = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
    struct worker *w = t->w;
    conn_kill(c);
    metrics_record(&w->metrics, EP_OTHER, status, ms);
    server_log_request(w, method, path, status, ms);
    if (dup >= 0)
        conn_linger_or_close(t, dup);
}

/* evhttp has queued its own answer (c->own_status) to c's request: answers in its place
 * with the status that fits what the request got wrong. */
void conn_answer_own(struct conn *c)
{
    char msg[200];
    switch (c->own_status) {
    case 400:
        if (c->bad_version) {
            conn_answer_close(c, 505, "http_version_not_supported",
                              "HTTP version not supported; use HTTP/1.1 or HTTP/1.0");
        } else if (c->head_bytes > CONNS_EVHTTP_MAX_HEADERS) {
            snprintf(msg, sizeof msg, "request line or headers are over %d bytes",
                     CONNS_EVHTTP_MAX_HEADERS);
            conn_answer_close(c, 431, "headers_too_large", msg);
        } else {
            conn_answer_close(c, 400, "bad_request",
                              "malformed request: its request line, a header line or the "
                              "length of its body cannot be parsed");
        }
        break;
    case 413:
        /* Chunked bodies are counted here, with evhttp's limit lifted (conns_body.c): its
         * 413 then means a chunk it cannot parse. */
        if (c->chunked)
            conn_answer_close(c, 400, "bad_request",
                              "malformed chunked body: a chunk size or the trailer cannot be "
                              "parsed");
        else {
            snprintf(msg, sizeof msg, "request body is over %zu bytes",
                     atomic_load_explicit(&c->t->w->srv->live_max_body, memory_order_relaxed));
            conn_answer_close(c, 413, "body_too_large", msg);
        }
        break;
    case 417:
        conn_answer_close(c, 417, "expectation_failed",
                          "unsupported Expect header; the only expectation supported is "
                          "100-continue");
        break;
    case 501:
        conn_answer_close(c, 501, "method_not_implemented",
                          "method not implemented; use GET, HEAD or POST");
        break;
    default:
        snprintf(msg, sizeof msg, "the request cannot be answered (HTTP status %d)",
                 c->own_status);
        conn_answer_close(c, c->own_status >= 400 && c->own_status < 600 ? c->own_status : 500,
                          "bad_request", msg);
    }
}
