/*
 * fuzz_client.c -- libFuzzer target: libquire-client receiving an arbitrary HTTP response.
 *
 * qc.c parses no HTTP itself (libcurl does) and its body handling (on_body, the response
 * builder) is static, reachable only through a real transfer. So the target serves the
 * fuzz input as the raw bytes of the server's answer: a thread accepts on a private Unix
 * socket, reads the request head, writes the input and closes; the client, made with
 * qc_client_new_unix, performs one request and the response is read through every
 * accessor.
 *
 * The first byte picks the request and the client's settings, the rest is the response:
 *   bits 0-1: qc_search / qc_doc / qc_health / qc_get
 *   bit 2:    a small body limit (64 bytes), to exercise QC_ERR_TOO_LARGE
 *
 * Besides the sanitizers, the target checks what client.h promises and abort()s when one
 * is broken: QC_OK comes with a response and an empty error, anything else with no
 * response and a sentence; the body is NUL-terminated at its length, within the limit.
 *
 * Only qc.c is instrumented: libcurl's own parser is not, so the fuzzer steers by qc.c's
 * branches alone and the sanitizers see libcurl's memory use only through the interceptors.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "quire/client.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMALL_BODY_LIMIT 64
#define REQUEST_HEAD_MAX 65536

static char sock_dir[PATH_MAX];
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int listen_fd = -1;

/* The response being served: a copy owned here, so a connection the server thread is
 * still answering never reads an input libFuzzer has already freed. */
static pthread_mutex_t resp_lock = PTHREAD_MUTEX_INITIALIZER;
static char *resp;
static size_t resp_len;

/* Dies with a message: the fuzzer records the input as a crash. */
static void fuzz_fail(const char *what, const char *detail)
{
    /* What broke on one line (run.sh groups crashes by it), the particulars on the next. */
    fprintf(stderr, "fuzz_client: contract broken: %s\n", what);
    if (detail)
        fprintf(stderr, "fuzz_client: detail: %.300s\n", detail);
    abort();
}

/* Reads the request head (up to the blank line) so that closing the socket afterwards
 * sends a FIN, not a reset that could beat the response to the client. */
static void read_request_head(int fd)
{
    char buf[4096];
    size_t total = 0;
    char tail[4] = {0};
    while (total < REQUEST_HEAD_MAX) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return;
        for (ssize_t i = 0; i < n; i++) {
            memmove(tail, tail + 1, 3);
            tail[3] = buf[i];
            if (memcmp(tail, "\r\n\r\n", 4) == 0)
                return;
        }
        total += (size_t)n;
    }
}

/* The server: one connection at a time, each answered with the current response. */
static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        /* Bounded waits: a client that neither sends nor reads cannot hang the server. */
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        read_request_head(fd);
        pthread_mutex_lock(&resp_lock);
        size_t off = 0;
        while (off < resp_len) {
            ssize_t n = send(fd, resp + off, resp_len - off, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        pthread_mutex_unlock(&resp_lock);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
}

static void remove_socket(void)
{
    if (sock_path[0])
        unlink(sock_path);
    if (sock_dir[0])
        rmdir(sock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *tmp = getenv("QUIRE_FUZZ_TMP");
    if (!tmp || !*tmp)
        tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(sock_dir, sizeof sock_dir, "%s/fuzz_client.XXXXXX", tmp);
    if (!mkdtemp(sock_dir) ||
        (size_t)snprintf(sock_path, sizeof sock_path, "%s/s", sock_dir) >= sizeof sock_path) {
        fprintf(stderr, "fuzz_client: cannot make a socket directory under %s\n", tmp);
        exit(1);
    }
    atexit(remove_socket);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(listen_fd, 16) < 0) {
        fprintf(stderr, "fuzz_client: cannot listen on %s: %s\n", sock_path, strerror(errno));
        exit(1);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, serve, NULL) != 0) {
        fprintf(stderr, "fuzz_client: cannot start the server thread\n");
        exit(1);
    }
    pthread_detach(t);
    return 0;
}

/* Checks a response through every accessor. */
static void check_response(const qc_response *r, size_t max_body)
{
    size_t len = 0;
    const char *body = qc_response_body(r, &len);
    if (!body)
        fuzz_fail("qc_response_body returned NULL", NULL);
    if (body[len] != '\0')
        fuzz_fail("the body is not NUL-terminated at its length", NULL);
    if (len > max_body)
        fuzz_fail("a body larger than the client's limit was accepted", NULL);
    /* RFC 9110 section 15: "Values outside the range 100..599 are invalid." */
    long status = qc_response_status(r);
    if (status < 100 || status > 599) {
        char s[32];
        snprintf(s, sizeof s, "%ld", status);
        fuzz_fail("QC_OK with an HTTP status outside 100-599", s);
    }
    const char *ct = qc_response_content_type(r);
    if (ct)
        (void)strlen(ct);
    json_t *j = qc_response_json(r);
    if (j) {
        char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        free(text);
    }
    const char *m = qc_response_error_message(r), *c = qc_response_error_code(r);
    if ((m || c) && !json_is_object(j))
        fuzz_fail("an error member without a JSON object body", NULL);
    if (m)
        (void)strlen(m);
    if (c)
        (void)strlen(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];

    pthread_mutex_lock(&resp_lock);
    free(resp);
    resp_len = size - 1;
    resp = malloc(resp_len ? resp_len : 1);
    if (resp)
        memcpy(resp, data + 1, resp_len);
    else
        resp_len = 0;
    pthread_mutex_unlock(&resp_lock);

    char *msg = NULL;
    qc_client *c = qc_client_new_unix(sock_path, &msg);
    if (!c)
        fuzz_fail("qc_client_new_unix", msg);
    /* A response that never completes (a Content-Length longer than the bytes sent) ends
     * when the server closes; the timeout is only a backstop. */
    qc_client_set_timeout_ms(c, 5000);
    size_t max_body = QC_DEFAULT_MAX_BODY;
    if (mode & 4) {
        max_body = SMALL_BODY_LIMIT;
        qc_client_set_max_body(c, max_body);
    }

    qc_response *r = (qc_response *)&r; /* must be overwritten: NULL or a response */
    qc_code rc;
    switch (mode & 3) {
    case 0: {
        qc_param extra[] = {{"op", "or"}, {"sort", "date"}};
        qc_search_opts o;
        qc_search_opts_init(&o);
        o.query = "muse spark";
        o.limit = 5;
        o.params = extra;
        o.nparams = 2;
        rc = qc_search(c, &o, &r);
        break;
    }
    case 1: rc = qc_doc(c, "business/001", &r); break;
    case 2: rc = qc_health(c, &r); break;
    default: rc = qc_get(c, "/search?q=x", &r); break;
    }

    const char *err = qc_client_error(c);
    if (!err)
        fuzz_fail("qc_client_error returned NULL", NULL);
    if (rc == QC_OK) {
        if (!r || r == (qc_response *)&r)
            fuzz_fail("QC_OK without a response", NULL);
        if (err[0])
            fuzz_fail("QC_OK with an error sentence", err);
        check_response(r, max_body);
    } else {
        if (r)
            fuzz_fail("a failed request left *out set", qc_code_name(rc));
        if (!err[0])
            fuzz_fail("a failed request without an error sentence", qc_code_name(rc));
        if (rc == QC_ERR_ARG)
            fuzz_fail("QC_ERR_ARG for a valid request", err);
    }
    qc_response_free(rc == QC_OK ? r : NULL);
    qc_client_free(c);
    return 0;
}
