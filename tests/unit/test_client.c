/*
 * test_client.c -- unit tests of libquire-client, without a daemon.
 *
 * Each test talks to a tiny HTTP server run in a thread of this process, on 127.0.0.1
 * (port 0: the kernel picks one) or on a Unix socket in a fresh temporary directory. The
 * server answers every request with one canned response set by the test and records what
 * it received (the request head, how many requests and connections), so the tests can
 * check the exact bytes the library sends (URL encoding), what it makes of odd answers
 * (errors, non-JSON, empty, oversized, malformed, late) and that it reuses its connection.
 *
 * Bounded: clients get a 3 s timeout, the server gives up on an idle connection after 3 s,
 * and alarm() kills the whole program if it still runs after 60 s. Integration tests
 * against the real quired live in tests/integration/.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include "quire/client.h"

#define IDLE_MS 3000 /* the server closes a connection idle this long */
#define CLIENT_TIMEOUT_MS 3000L
#define HEAD_MAX 16384

/* ---- the canned HTTP server ---------------------------------------------------------------- */

struct server {
    int listen_fd;
    int stop[2]; /* a pipe: writing to it stops the thread */
    pthread_t thread;
    unsigned port;  /* TCP only */
    char dir[64];   /* Unix only: the temporary directory */
    char path[128]; /* Unix only: the socket */

    pthread_mutex_t mu; /* guards everything below */
    char *response;     /* raw bytes sent for every request */
    size_t response_len;
    int close_after; /* close the connection after answering */
    int stall_ms;    /* wait this long before answering ... */
    int stall_count; /* ... the next stall_count requests */
    char last_head[HEAD_MAX];
    int requests;
    int connections;
};

/* Waits for fd to be readable, or the stop pipe, for at most ms. Returns 1 readable, 0
 * timeout, -1 stop requested. */
static int wait_readable(struct server *s, int fd, int ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
    int n = poll(p, 2, ms);
    if (n <= 0)
        return 0;
    if (p[1].revents)
        return -1;
    return 1;
}

/* Sends all of buf, ignoring a client that went away (MSG_NOSIGNAL: no SIGPIPE). */
static void send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* Serves one connection: reads request heads, records them, answers with the canned
 * response, until the client closes, goes idle, or close_after is set. */
static void serve_connection(struct server *s, int fd)
{
    for (;;) {
        char head[HEAD_MAX];
        size_t len = 0;
        for (;;) {
            if (wait_readable(s, fd, IDLE_MS) != 1)
                return;
            ssize_t n = recv(fd, head + len, sizeof head - 1 - len, 0);
            if (n <= 0)
                return;
            len += (size_t)n;
            head[len] = '\0';
            if (strstr(head, "\r\n\r\n"))
                break;
            if (len == sizeof head - 1)
                return;
        }
        pthread_mutex_lock(&s->mu);
        memcpy(s->last_head, head, len + 1);
        s->requests++;
        int stall = 0;
        if (s->stall_count > 0) {
            s->stall_count--;
            stall = s->stall_ms;
        }
        char *resp = malloc(s->response_len ? s->response_len : 1);
        size_t resp_len = s->response_len;
        if (resp_len)
            memcpy(resp, s->response, resp_len);
        int close_after = s->close_after;
        pthread_mutex_unlock(&s->mu);

        if (stall) {
            struct pollfd p = {.fd = s->stop[0], .events = POLLIN};
            poll(&p, 1, stall);
        }
        send_all(fd, resp, resp_len);
        free(resp);
        if (close_after)
            return;
    }
}

/* The server thread: accepts connections one at a time until stopped. */
static void *server_main(void *arg)
{
    struct server *s = arg;
    for (;;) {
        int r = wait_readable(s, s->listen_fd, 100);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        s->connections++;
        pthread_mutex_unlock(&s->mu);
        serve_connection(s, fd);
        close(fd);
    }
    return NULL;
}

/* Sets the raw bytes sent for every request. */
static void server_set_raw(struct server *s, const char *raw, size_t len, int close_after)
{
    pthread_mutex_lock(&s->mu);
    free(s->response);
    s->response = malloc(len ? len : 1);
    assert_non_null(s->response);
    memcpy(s->response, raw, len);
    s->response_len = len;
    s->close_after = close_after;
    pthread_mutex_unlock(&s->mu);
}

/* Sets a well-formed keep-alive response with a Content-Length. */
static void server_set(struct server *s, int status, const char *ctype, const char *body,
                       size_t body_len)
{
    char head[256];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d Canned\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                     status, ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
                     body_len);
    char *raw = malloc((size_t)n + body_len + 1);
    assert_non_null(raw);
    memcpy(raw, head, (size_t)n);
    memcpy(raw + n, body, body_len);
    server_set_raw(s, raw, (size_t)n + body_len, 0);
    free(raw);
}

/* Sets a JSON response. */
static void server_set_json(struct server *s, int status, const char *json)
{
    server_set(s, status, "application/json", json, strlen(json));
}

/* The first line of the last request head, e.g. "GET /health HTTP/1.1". */
static void server_last_line(struct server *s, char *out, size_t outlen)
{
    pthread_mutex_lock(&s->mu);
    size_t n = strcspn(s->last_head, "\r\n");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, s->last_head, n);
    out[n] = '\0';
    pthread_mutex_unlock(&s->mu);
}

/* Reads a counter under the lock. */
static int server_count(struct server *s, const int *field)
{
    pthread_mutex_lock(&s->mu);
    int v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Starts the thread once listen_fd is listening. */
static void server_start(struct server *s)
{
    assert_int_equal(listen(s->listen_fd, 8), 0);
    assert_int_equal(pipe(s->stop), 0);
    assert_int_equal(pthread_mutex_init(&s->mu, NULL), 0);
    server_set_json(s, 200, "{\"status\": \"ok\", \"docs\": 3}");
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

/* A server on 127.0.0.1, on a port the kernel picks. */
static struct server *server_new_tcp(void)
{
    struct server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    server_start(s);
    return s;
}

/* A server on a Unix socket in a new temporary directory. */
static struct server *server_new_unix(void)
{
    struct server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    strcpy(s->dir, "/tmp/qc-test-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof s->path, "%s/quired.sock", s->dir);
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, s->path);
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    server_start(s);
    return s;
}

/* Stops the thread and removes everything the server created. */
static void server_free(struct server *s)
{
    if (!s)
        return;
    (void)!write(s->stop[1], "x", 1);
    pthread_join(s->thread, NULL);
    close(s->stop[0]);
    close(s->stop[1]);
    close(s->listen_fd);
    if (s->path[0]) {
        unlink(s->path);
        rmdir(s->dir);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->response);
    free(s);
}

/* ---- fixtures ------------------------------------------------------------------------------- */

struct fixture {
    struct server *srv;
    qc_client *c;
};

/* A TCP server and a client connected to it. */
static int setup_tcp(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->srv = server_new_tcp();
    char *msg = NULL;
    f->c = qc_client_new_tcp("127.0.0.1", f->srv->port, &msg);
    if (!f->c) {
        fprintf(stderr, "qc_client_new_tcp: %s\n", msg);
        free(msg);
        return -1;
    }
    qc_client_set_timeout_ms(f->c, CLIENT_TIMEOUT_MS);
    *state = f;
    return 0;
}

/* A Unix-socket server and a client connected to it. */
static int setup_unix(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->srv = server_new_unix();
    char *msg = NULL;
    f->c = qc_client_new_unix(f->srv->path, &msg);
    if (!f->c) {
        fprintf(stderr, "qc_client_new_unix: %s\n", msg);
        free(msg);
        return -1;
    }
    qc_client_set_timeout_ms(f->c, CLIENT_TIMEOUT_MS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    qc_client_free(f->c);
    server_free(f->srv);
    free(f);
    return 0;
}

/* Milliseconds on the monotonic clock. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- tests ------------------------------------------------------------------------------- */

/* A JSON answer over TCP: status, body, parsed JSON, content type, request line, headers. */
static void test_health_tcp(void **state)
{
    struct fixture *f = *state;
    qc_response *r = NULL;
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    assert_non_null(r);
    assert_int_equal(qc_response_status(r), 200);
    size_t len = 0;
    const char *body = qc_response_body(r, &len);
    assert_string_equal(body, "{\"status\": \"ok\", \"docs\": 3}");
    assert_int_equal(len, strlen(body));
    assert_string_equal(qc_response_content_type(r), "application/json");
    json_t *j = qc_response_json(r);
    assert_true(json_is_object(j));
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_int_equal(json_integer_value(json_object_get(j, "docs")), 3);
    assert_null(qc_response_error_message(r));
    assert_string_equal(qc_client_error(f->c), "");
    qc_response_free(r);

    char line[512];
    server_last_line(f->srv, line, sizeof line);
    assert_string_equal(line, "GET /health HTTP/1.1");
    pthread_mutex_lock(&f->srv->mu);
    assert_non_null(strstr(f->srv->last_head, "\r\nUser-Agent: libquire-client/"));
    assert_non_null(strstr(f->srv->last_head, "\r\nAccept: application/json\r\n"));
    pthread_mutex_unlock(&f->srv->mu);
}

/* Query text with spaces, '&', '/', '+', '%', '#', '?', '=' and UTF-8, and extra parameters,
 * all percent-encoded so none of them changes the query string's structure. */
static void test_search_encoding(void **state)
{
    struct fixture *f = *state;
    qc_param params[] = {
        {"op", "or"}, {"sort", "date:asc"}, {"facets", "category,source"}, {"x y", "a=b&c"}};
    qc_search_opts o;
    qc_search_opts_init(&o);
    o.query = "muse & rock/roll \xc3\xbc+100% #1?=";
    o.limit = 5;
    o.offset = 10;
    o.snippet = 0;
    o.params = params;
    o.nparams = 4;
    qc_response *r = NULL;
    assert_int_equal(qc_search(f->c, &o, &r), QC_OK);
    qc_response_free(r);
    char line[1024];
    server_last_line(f->srv, line, sizeof line);
    assert_string_equal(line,
                        "GET /search?q=muse%20%26%20rock%2Froll%20%C3%BC%2B100%25%20%231%3F%3D"
                        "&limit=5&offset=10&snippet=0&op=or&sort=date%3Aasc"
                        "&facets=category%2Csource&x%20y=a%3Db%26c HTTP/1.1");
}

/* qc_post sends an empty POST and the handle goes back to GET; the admin token goes with
 * every request once set, and not after it is taken back; a token that could end the header
 * line is refused and changes nothing. */
static void test_post_and_admin_token(void **state)
{
    struct fixture *f = *state;
    qc_response *r = NULL;
    assert_int_equal(qc_client_set_admin_token(f->c, "s3cret-token_0123"), QC_OK);
    assert_int_equal(qc_post(f->c, "/admin/queries/reset?limit=5", &r), QC_OK);
    assert_int_equal(qc_response_status(r), 200);
    qc_response_free(r);
    char line[512];
    server_last_line(f->srv, line, sizeof line);
    assert_string_equal(line, "POST /admin/queries/reset?limit=5 HTTP/1.1");
    pthread_mutex_lock(&f->srv->mu);
    assert_non_null(strstr(f->srv->last_head, "\r\nAuthorization: Bearer s3cret-token_0123\r\n"));
    assert_non_null(strstr(f->srv->last_head, "\r\nContent-Length: 0\r\n"));
    pthread_mutex_unlock(&f->srv->mu);

    assert_int_equal(qc_client_set_admin_token(f->c, "bad\r\nX-Evil: 1"), QC_ERR_ARG);
    assert_non_null(strstr(qc_client_error(f->c), "visible ASCII"));
    assert_int_equal(qc_client_set_admin_token(f->c, ""), QC_ERR_ARG);
    assert_int_equal(qc_get(f->c, "/admin/queries", &r), QC_OK);
    qc_response_free(r);
    server_last_line(f->srv, line, sizeof line);
    assert_string_equal(line, "GET /admin/queries HTTP/1.1");
    pthread_mutex_lock(&f->srv->mu);
    assert_non_null(strstr(f->srv->last_head, "Authorization: Bearer s3cret-token_0123"));
    assert_null(strstr(f->srv->last_head, "X-Evil"));
    pthread_mutex_unlock(&f->srv->mu);

    assert_int_equal(qc_client_set_admin_token(f->c, NULL), QC_OK);
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    qc_response_free(r);
    pthread_mutex_lock(&f->srv->mu);
    assert_null(strstr(f->srv->last_head, "Authorization"));
    assert_non_null(strstr(f->srv->last_head, "Accept: application/json"));
    pthread_mutex_unlock(&f->srv->mu);
    assert_int_equal(qc_post(f->c, "no-slash", &r), QC_ERR_ARG);
    assert_null(r);
}

/* Defaults send nothing but q; snippet=1 and limit=0 are sent as given. */
static void test_search_defaults(void **state)
{
    struct fixture *f = *state;
    qc_search_opts o = QC_SEARCH_OPTS_INIT;
    o.query = "x";
    qc_response *r = NULL;
    assert_int_equal(qc_search(f->c, &o, &r), QC_OK);
    qc_response_free(r);
    char line[512];
    server_last_line(f->srv, line, sizeof line);
    assert_string_equal(line, "GET /search?q=x HTTP/1.1");

    o.query = "";
    o.limit = 0;
    o.snippet = 1;
    assert_int_equal(qc_search(f->c, &o, &r), QC_OK);
    qc_response_free(r);
    server_last_line(f->srv, line, sizeof line);
    assert_string_equal(line, "GET /search?q=&limit=0&snippet=1 HTTP/1.1");
}

/* Document ids are one path segment: '/' becomes %2F, and dot segments are not collapsed. */
static void test_doc_id_encoding(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *id;
        const char *line;
    } cases[] = {
        {"business/001", "GET /doc/business%2F001 HTTP/1.1"},
        {"a b&c?d#e", "GET /doc/a%20b%26c%3Fd%23e HTTP/1.1"},
        {"caf\xc3\xa9.txt", "GET /doc/caf%C3%A9.txt HTTP/1.1"},
        {"..", "GET /doc/%2E%2E HTTP/1.1"},
        {".", "GET /doc/%2E HTTP/1.1"},
        {"../etc/passwd", "GET /doc/..%2Fetc%2Fpasswd HTTP/1.1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qc_response *r = NULL;
        assert_int_equal(qc_doc(f->c, cases[i].id, &r), QC_OK);
        qc_response_free(r);
        char line[512];
        server_last_line(f->srv, line, sizeof line);
        assert_string_equal(line, cases[i].line);
    }
}

/* The same requests over a Unix socket. */
static void test_unix_socket(void **state)
{
    struct fixture *f = *state;
    char want[200];
    snprintf(want, sizeof want, "unix:%s", f->srv->path);
    assert_string_equal(qc_client_target(f->c), want);

    qc_response *r = NULL;
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    assert_int_equal(qc_response_status(r), 200);
    assert_non_null(qc_response_json(r));
    qc_response_free(r);
    assert_int_equal(qc_doc(f->c, "business/001", &r), QC_OK);
    qc_response_free(r);
    char line[512];
    server_last_line(f->srv, line, sizeof line);
    assert_string_equal(line, "GET /doc/business%2F001 HTTP/1.1");
    assert_int_equal(server_count(f->srv, &f->srv->connections), 1);
}

/* qc_client_new_target reaches the same Unix socket through "unix:PATH" and a bare path. */
static void test_target_unix(void **state)
{
    struct fixture *f = *state;
    char spec[200];
    const char *forms[] = {"unix:%s", "%s"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(spec, sizeof spec, forms[i], f->srv->path);
        qc_client *c = qc_client_new_target(spec, NULL);
        assert_non_null(c);
        qc_response *r = NULL;
        assert_int_equal(qc_health(c, &r), QC_OK);
        assert_int_equal(qc_response_status(r), 200);
        qc_response_free(r);
        qc_client_free(c);
    }
}

/* qc_client_new_target reaches the TCP server through "HOST:PORT" and "http://HOST:PORT/". */
static void test_target_tcp(void **state)
{
    struct fixture *f = *state;
    char spec[100];
    const char *forms[] = {"127.0.0.1:%u", "http://127.0.0.1:%u/", "http://127.0.0.1:%u"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(spec, sizeof spec, forms[i], f->srv->port);
        char *msg = NULL;
        qc_client *c = qc_client_new_target(spec, &msg);
        assert_null(msg);
        assert_non_null(c);
        char want[64];
        snprintf(want, sizeof want, "127.0.0.1:%u", f->srv->port);
        assert_string_equal(qc_client_target(c), want);
        qc_response *r = NULL;
        assert_int_equal(qc_health(c, &r), QC_OK);
        qc_response_free(r);
        qc_client_free(c);
    }
}

/* An HTTP error is a response (QC_OK), with the server's message and code reachable. */
static void test_http_error_json(void **state)
{
    struct fixture *f = *state;
    server_set_json(
        f->srv, 404,
        "{\"error\": {\"code\": \"not_found\", \"message\": \"no document with id x\"}}");
    qc_response *r = NULL;
    assert_int_equal(qc_doc(f->c, "x", &r), QC_OK);
    assert_int_equal(qc_response_status(r), 404);
    assert_string_equal(qc_response_error_message(r), "no document with id x");
    assert_string_equal(qc_response_error_code(r), "not_found");
    assert_string_equal(qc_client_error(f->c), "");
    qc_response_free(r);

    /* A 503 with a body that is not JSON: no message to extract. */
    server_set(f->srv, 503, "text/html", "<h1>down</h1>", 13);
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    assert_int_equal(qc_response_status(r), 503);
    assert_null(qc_response_json(r));
    assert_null(qc_response_error_message(r));
    assert_null(qc_response_error_code(r));
    qc_response_free(r);
}

/* A body that is not JSON (with a NUL inside) is kept byte for byte; json is NULL. */
static void test_non_json_body(void **state)
{
    struct fixture *f = *state;
    server_set(f->srv, 200, "text/plain", "hello\0world", 11);
    qc_response *r = NULL;
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    size_t len = 0;
    const char *body = qc_response_body(r, &len);
    assert_int_equal(len, 11);
    assert_memory_equal(body, "hello\0world", 11);
    assert_int_equal(body[11], '\0');
    assert_null(qc_response_json(r));
    assert_string_equal(qc_response_content_type(r), "text/plain");
    qc_response_free(r);

    /* Truncated JSON is not JSON either. */
    server_set_json(f->srv, 200, "{\"status\": ");
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    assert_null(qc_response_json(r));
    qc_response_free(r);
}

/* An empty body is "" with length 0, no content type, no JSON. */
static void test_empty_body(void **state)
{
    struct fixture *f = *state;
    server_set(f->srv, 204, NULL, "", 0);
    qc_response *r = NULL;
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    assert_int_equal(qc_response_status(r), 204);
    size_t len = 99;
    assert_string_equal(qc_response_body(r, &len), "");
    assert_int_equal(len, 0);
    assert_null(qc_response_content_type(r));
    assert_null(qc_response_json(r));
    qc_response_free(r);
}

/* A response stays valid after its client is freed: it owns everything it returns. */
static void test_response_outlives_client(void **state)
{
    struct fixture *f = *state;
    qc_response *r = NULL;
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    qc_client_free(f->c);
    f->c = NULL;
    assert_string_equal(json_string_value(json_object_get(qc_response_json(r), "status")), "ok");
    assert_string_equal(qc_response_body(r, NULL), "{\"status\": \"ok\", \"docs\": 3}");
    qc_response_free(r);
}

/* A proxy in the environment is not used: the daemon is reached directly. */
static void test_ignores_proxy_env(void **state)
{
    struct fixture *f = *state;
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
    qc_response *r = NULL;
    qc_code rc = qc_health(f->c, &r);
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    assert_int_equal(rc, QC_OK);
    assert_int_equal(qc_response_status(r), 200);
    qc_response_free(r);
    assert_int_equal(server_count(f->srv, &f->srv->requests), 1);
}

/* Nothing listening on a TCP port: QC_ERR_CONNECT naming the target, no response. */
static void test_connection_refused(void **state)
{
    (void)state;
    /* A port that was free a moment ago: bind it, read it, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    unsigned port = ntohs(a.sin_port);
    close(fd);

    qc_client *c = qc_client_new_tcp("127.0.0.1", port, NULL);
    assert_non_null(c);
    qc_client_set_timeout_ms(c, CLIENT_TIMEOUT_MS);
    qc_response *r = (qc_response *)1; /* must be reset to NULL */
    assert_int_equal(qc_health(c, &r), QC_ERR_CONNECT);
    assert_null(r);
    char want[64];
    snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%u: ", port);
    assert_non_null(strstr(qc_client_error(c), want));
    qc_client_free(c);
}

/* No socket at a Unix path: QC_ERR_CONNECT too. */
static void test_unix_missing(void **state)
{
    (void)state;
    char dir[] = "/tmp/qc-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[100];
    snprintf(path, sizeof path, "%s/none.sock", dir);
    qc_client *c = qc_client_new_unix(path, NULL);
    assert_non_null(c);
    qc_response *r = NULL;
    assert_int_equal(qc_health(c, &r), QC_ERR_CONNECT);
    assert_null(r);
    assert_non_null(strstr(qc_client_error(c), path));
    qc_client_free(c);
    rmdir(dir);
}

/* A Content-Length over the limit is refused; a body of exactly the limit is accepted. */
static void test_too_large_declared(void **state)
{
    struct fixture *f = *state;
    qc_client_set_max_body(f->c, 1000);
    char body[5000];
    memset(body, 'a', sizeof body);
    server_set(f->srv, 200, "text/plain", body, sizeof body);
    qc_response *r = NULL;
    assert_int_equal(qc_health(f->c, &r), QC_ERR_TOO_LARGE);
    assert_null(r);
    assert_non_null(strstr(qc_client_error(f->c), "limit of 1000 bytes"));

    server_set(f->srv, 200, "text/plain", body, 1000);
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    size_t len = 0;
    qc_response_body(r, &len);
    assert_int_equal(len, 1000);
    qc_response_free(r);
}

/* A body without a Content-Length (ended by closing) is cut off as it crosses the limit. */
static void test_too_large_streamed(void **state)
{
    struct fixture *f = *state;
    qc_client_set_max_body(f->c, 1000);
    const char head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
    size_t n = sizeof head - 1 + 200000;
    char *raw = malloc(n);
    memcpy(raw, head, sizeof head - 1);
    memset(raw + sizeof head - 1, 'b', 200000);
    server_set_raw(f->srv, raw, n, 1);
    free(raw);
    qc_response *r = NULL;
    assert_int_equal(qc_health(f->c, &r), QC_ERR_TOO_LARGE);
    assert_null(r);

    /* Under the limit, the same form is fine. */
    const char small[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"a\": 1}";
    server_set_raw(f->srv, small, sizeof small - 1, 1);
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    assert_int_equal(json_integer_value(json_object_get(qc_response_json(r), "a")), 1);
    qc_response_free(r);
}

/* A server that does not answer in time: QC_ERR_TIMEOUT within about the timeout; the
 * client then works again for the next request. */
static void test_timeout(void **state)
{
    struct fixture *f = *state;
    pthread_mutex_lock(&f->srv->mu);
    f->srv->stall_ms = 1500;
    f->srv->stall_count = 1;
    pthread_mutex_unlock(&f->srv->mu);
    qc_client_set_timeout_ms(f->c, 200);
    qc_response *r = NULL;
    double t0 = now_ms();
    assert_int_equal(qc_health(f->c, &r), QC_ERR_TIMEOUT);
    double took = now_ms() - t0;
    assert_null(r);
    assert_true(took >= 150 && took < 1400);
    assert_non_null(strstr(qc_client_error(f->c), "within 200 ms"));

    qc_client_set_timeout_ms(f->c, CLIENT_TIMEOUT_MS);
    assert_int_equal(qc_health(f->c, &r), QC_OK);
    assert_int_equal(qc_response_status(r), 200);
    assert_string_equal(qc_client_error(f->c), "");
    qc_response_free(r);
}

/* Successive requests reuse one connection (keep-alive); after the server closes it, the
 * client reconnects by itself. */
static void test_keep_alive(void **state)
{
    struct fixture *f = *state;
    qc_response *r = NULL;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(qc_health(f->c, &r), QC_OK);
        qc_response_free(r);
    }
    assert_int_equal(server_count(f->srv, &f->srv->requests), 3);
    assert_int_equal(server_count(f->srv, &f->srv->connections), 1);

    const char closing[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
    server_set_raw(f->srv, closing, sizeof closing - 1, 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(qc_health(f->c, &r), QC_OK);
        assert_true(json_is_object(qc_response_json(r)));
        qc_response_free(r);
    }
    /* The 4th request still used the first connection; the server closed it after
     * answering, so the 5th needed a second one. */
    assert_int_equal(server_count(f->srv, &f->srv->requests), 5);
    assert_int_equal(server_count(f->srv, &f->srv->connections), 2);
}

/* Answers that are not HTTP, or no answer at all: QC_ERR_TRANSPORT. */
static void test_malformed_answer(void **state)
{
    struct fixture *f = *state;
    qc_response *r = NULL;
    const char junk[] = "NOT HTTP AT ALL\r\n\r\n";
    server_set_raw(f->srv, junk, sizeof junk - 1, 1);
    assert_int_equal(qc_health(f->c, &r), QC_ERR_TRANSPORT);
    assert_null(r);
    assert_non_null(strstr(qc_client_error(f->c), "GET /health from 127.0.0.1:"));

    server_set_raw(f->srv, "", 0, 1); /* close without a word */
    assert_int_equal(qc_health(f->c, &r), QC_ERR_TRANSPORT);
    assert_null(r);
}

/* Bad arguments are refused before anything is sent, with a sentence; a later success
 * clears the error. */
static void test_bad_args(void **state)
{
    struct fixture *f = *state;
    qc_response *r = NULL;
    assert_int_equal(qc_get(f->c, "health", &r), QC_ERR_ARG);
    assert_null(r);
    assert_non_null(strstr(qc_client_error(f->c), "start with '/'"));
    assert_int_equal(qc_get(f->c, NULL, &r), QC_ERR_ARG);
    assert_int_equal(qc_get(f->c, "/a b", &r), QC_ERR_ARG);
    assert_non_null(strstr(qc_client_error(f->c), "space"));
    assert_int_equal(qc_get(f->c, "/a\r\nX-Evil: 1", &r), QC_ERR_ARG);
    assert_int_equal(qc_get(f->c, "/a#b", &r), QC_ERR_ARG);
    assert_int_equal(qc_get(f->c, "/health", NULL), QC_ERR_ARG);
    assert_int_equal(qc_health(NULL, &r), QC_ERR_ARG);
    assert_null(r);
    assert_int_equal(qc_doc(f->c, "", &r), QC_ERR_ARG);
    assert_int_equal(qc_doc(f->c, NULL, &r), QC_ERR_ARG);
    assert_non_null(strstr(qc_client_error(f->c), "no document id"));

    qc_search_opts o = QC_SEARCH_OPTS_INIT;
    assert_int_equal(qc_search(f->c, &o, &r), QC_ERR_ARG);
    assert_int_equal(qc_search(f->c, NULL, &r), QC_ERR_ARG);
    o.query = "x";
    qc_param bad[] = {{"", "v"}};
    o.params = bad;
    o.nparams = 1;
    assert_int_equal(qc_search(f->c, &o, &r), QC_ERR_ARG);
    o.params = NULL;
    assert_int_equal(qc_search(f->c, &o, &r), QC_ERR_ARG);

    /* A query whose encoded URL passes QC_MAX_URL_BYTES. */
    size_t n = QC_MAX_URL_BYTES / 3 + 10;
    char *big = malloc(n + 1);
    memset(big, '&', n); /* each becomes %26 */
    big[n] = '\0';
    o.query = big;
    o.nparams = 0;
    assert_int_equal(qc_search(f->c, &o, &r), QC_ERR_ARG);
    assert_non_null(strstr(qc_client_error(f->c), "limit"));
    free(big);
    assert_null(r);
    assert_int_equal(server_count(f->srv, &f->srv->requests), 0);

    assert_int_equal(qc_get(f->c, "/search?q=a%20b", &r), QC_OK);
    assert_string_equal(qc_client_error(f->c), "");
    qc_response_free(r);
    char line[512];
    server_last_line(f->srv, line, sizeof line);
    assert_string_equal(line, "GET /search?q=a%20b HTTP/1.1");
}

/* Constructors: what they accept, the target they report, and clear refusals. */
static void test_constructors(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        const char *target; /* NULL: must be refused */
    } cases[] = {
        {"localhost", "localhost:7070"},
        {"127.0.0.1:8080", "127.0.0.1:8080"},
        {"http://example.org:81/", "example.org:81"},
        {"[::1]:99", "[::1]:99"},
        {"[::1]", "[::1]:7070"},
        {"unix:/run/quire.sock", "unix:/run/quire.sock"},
        {"/run/quire.sock", "unix:/run/quire.sock"},
        {"./q.sock", "unix:./q.sock"},
        {"::1", NULL},
        {"host:", NULL},
        {"host:abc", NULL},
        {"host:0", NULL},
        {"host:65536", NULL},
        {"http://h:1/path", NULL},
        {"http://", NULL},
        {"a@b:1", NULL},
        {"[::1", NULL},
        {"", NULL},
        {"unix:", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *msg = NULL;
        qc_client *c = qc_client_new_target(cases[i].spec, &msg);
        if (cases[i].target) {
            assert_non_null(c);
            assert_null(msg);
            assert_string_equal(qc_client_target(c), cases[i].target);
        } else {
            assert_null(c);
            assert_non_null(msg);
            assert_true(strlen(msg) > 10);
            free(msg);
        }
        qc_client_free(c);
    }

    char *msg = NULL;
    assert_null(qc_client_new_tcp(NULL, 7070, &msg));
    assert_non_null(msg);
    free(msg);
    assert_null(qc_client_new_tcp("127.0.0.1", 0, &msg));
    assert_non_null(strstr(msg, "out of range"));
    free(msg);
    assert_null(qc_client_new_tcp("127.0.0.1", 70000, NULL)); /* errmsg may be NULL */
    assert_null(qc_client_new_tcp("evil/host", 80, &msg));
    free(msg);
    qc_client *c = qc_client_new_tcp("::1", 7070, NULL);
    assert_string_equal(qc_client_target(c), "[::1]:7070");
    qc_client_free(c);

    char longpath[300];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_null(qc_client_new_unix(longpath, &msg));
    assert_non_null(strstr(msg, "limit of 107"));
    free(msg);
    assert_null(qc_client_new_unix("", &msg));
    free(msg);

    qc_client_free(NULL);
    qc_response_free(NULL);
    assert_string_equal(qc_code_name(QC_ERR_TIMEOUT), "timeout");
    assert_true(strlen(qc_version()) > 0);
}

int main(void)
{
    alarm(60); /* a hung test fails the run instead of hanging it */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_tcp, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_search_encoding, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_search_defaults, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_doc_id_encoding, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_unix_socket, setup_unix, teardown),
        cmocka_unit_test_setup_teardown(test_target_unix, setup_unix, teardown),
        cmocka_unit_test_setup_teardown(test_target_tcp, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_http_error_json, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_non_json_body, setup_unix, teardown),
        cmocka_unit_test_setup_teardown(test_empty_body, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_response_outlives_client, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_ignores_proxy_env, setup_tcp, teardown),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_unix_missing),
        cmocka_unit_test_setup_teardown(test_too_large_declared, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_too_large_streamed, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_answer, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_post_and_admin_token, setup_tcp, teardown),
        cmocka_unit_test(test_constructors),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed ? 1 : 0;
}
