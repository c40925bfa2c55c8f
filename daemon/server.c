/*
 * server.c -- quired's listeners, worker threads and their event loops (see server.h).
 *
 * Listening sockets are made here (not by evhttp_bind_socket) so that port 0 can be
 * resolved once and the same socket shared by every worker: each worker hands its own
 * dup() of the fd to evhttp, because evhttp closes the fd it was given when freed.
 *
 * A worker refreshes its index view on a timer (every refresh_ms): the timer runs in the
 * worker's own loop, so it never interrupts a request, and a request always finishes on
 * the database it started on.
 */
#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>

#include "analytics.h"
#include "conns.h"
#include "routes.h"

/* The server being set up, for init_error (one per process). */
static struct server *init_srv;

/* Prints why setting the server up failed: one JSON object with access_log = json. */
static void __attribute__((format(printf, 1, 2))) init_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (init_srv)
        server_log(init_srv, "error", "%s", msg);
    else
        fprintf(stderr, "quired: %s\n", msg);
}

/* Makes a listening TCP socket for "ADDR:PORT" ("[v6]:PORT" too). */
static int listen_tcp(const char *spec, int *port_out)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1]) {
        init_error("--listen wants ADDR:PORT, got '%s'", spec);
        return -1;
    }
    size_t hlen = (size_t)(colon - spec);
    if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']') {
        spec++;
        hlen -= 2;
    }
    if (hlen >= sizeof host) {
        init_error("address too long: %s", spec);
        return -1;
    }
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    const char *port = colon + 1;

    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        init_error("cannot resolve %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        init_error("socket: %s", strerror(errno));
        freeaddrinfo(ai);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
        init_error("cannot listen on %s: %s", spec, strerror(errno));
        freeaddrinfo(ai);
        close(fd);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            *port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *port_out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return fd;
}

/* Makes a listening Unix socket at path, replacing a stale socket file but never a live
 * one (another daemon answering there) or a file that is not a socket. */
static int listen_unix(const char *path, unsigned mode, const char *group)
{
    struct sockaddr_un sun = {0};
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun.sun_path) {
        init_error("socket path too long (at most %zu bytes): %s",
                sizeof sun.sun_path - 1, path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            init_error("%s exists and is not a socket", path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
            close(probe);
            init_error("another process is listening on %s", path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        init_error("socket: %s", strerror(errno));
        return -1;
    }
    /* Created with no permissions for others, then set to the configured mode: there is
     * no moment when another local user could connect. */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    umask(old);
    if (rc < 0 || listen(fd, 1024) < 0) {
        init_error("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr || chown(path, (uid_t)-1, gr->gr_gid) < 0) {
            init_error("cannot give %s to group %s: %s", path, group,
                    gr ? strerror(errno) : "no such group");
            close(fd);
            unlink(path);
            return -1;
        }
    }
    if (chmod(path, (mode_t)mode) < 0) {
        init_error("cannot set mode of %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

/* Timer: pick up new commits and swapped generations between requests. */
static void worker_refresh(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    struct search_error err;
    int rc = search_index_refresh(w->ix, &err);
    if (rc > 0)
        atomic_fetch_add_explicit(&w->metrics.reopens, 1, memory_order_relaxed);
    if (rc < 0) {
        atomic_fetch_add_explicit(&w->metrics.reopen_errors, 1, memory_order_relaxed);
        if (!atomic_load_explicit(&w->srv->live_quiet, memory_order_relaxed))
            server_log(w->srv, "reopen_failed", "worker %d: %s", w->id, err.message);
    }
}

/* Takes the settings a reload may change (server_set_live) into w: its body limit, its
 * refresh period, its index's shard options, its connections' deadlines. On w's thread. */
static void worker_apply(struct worker *w)
{
    struct server *s = w->srv;
    if (w->http)
        evhttp_set_max_body_size(w->http,
                                 (ev_ssize_t)(atomic_load(&s->live_max_body) + CONNS_BODY_SLACK));
    unsigned refresh = atomic_load(&s->live_refresh_ms);
    if (refresh != w->refresh_ms) {
        w->refresh_ms = refresh;
        struct timeval tv = {refresh / 1000, (refresh % 1000) * 1000};
        event_del(w->refresh_ev);
        event_add(w->refresh_ev, &tv);
    }
    struct search_options o;
    search_options_init(&o);
    o.shard_timeout_ms = atomic_load(&s->live_shard_timeout_ms);
    o.allow_partial = atomic_load(&s->live_allow_partial);
    o.split_postings = atomic_load(&s->live_split_postings);
    search_index_set_options(w->ix, &o);
    conns_rearm(w);
}

/* Reload event (server_reload from another thread): take the new settings, reopen now,
 * then say so. */
static void worker_reload(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    struct server *s = w->srv;
    worker_apply(w);
    worker_refresh(fd, what, w);
    pthread_mutex_lock(&s->reload_lock);
    w->reloaded = s->reload_round;
    pthread_cond_broadcast(&s->reload_done);
    pthread_mutex_unlock(&s->reload_lock);
}

/* Stop event: stop accepting, then leave the loop once replies have been flushed. */
static void worker_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    /* Freeing evhttp's bound sockets closes the worker's dup()s of the listeners. Requests
     * are handled synchronously, so none is half-done here; a short grace lets queued
     * replies reach their clients. */
    struct timeval grace = {0, 200 * 1000};
    conns_stop(w);
    evhttp_free(w->http);
    w->http = NULL;
    event_base_loopexit(w->base, &grace);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base);
    return NULL;
}

int server_init(struct server *s, const struct server_config *cfg)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->admin_lock, NULL);
    pthread_mutex_init(&s->reload_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->reload_done, &ca);
    pthread_condattr_destroy(&ca);
    s->cfg = *cfg;
    server_set_live(s, cfg);
    init_srv = s;
    for (int i = 0; i < SERVER_MAX_LISTENERS; i++)
        s->fds[i] = -1;
    if (evthread_use_pthreads() < 0) {
        init_error("libevent has no pthreads support");
        return -1;
    }
    if (cfg->threads < 1 || cfg->threads > SERVER_MAX_THREADS) {
        init_error("--threads must be from 1 to %d", SERVER_MAX_THREADS);
        return -1;
    }
    s->analytics = analytics_new();
    if (!s->analytics) {
        init_error("out of memory for the query analytics tables");
        return -1;
    }
    if (cfg->listen) {
        int fd = listen_tcp(cfg->listen, &s->tcp_port);
        if (fd < 0)
            return -1;
        s->fds[s->nfds++] = fd;
    }
    if (cfg->socket_path) {
        int fd = listen_unix(cfg->socket_path, cfg->socket_mode, cfg->socket_group);
        if (fd < 0)
            return -1;
        s->fds[s->nfds++] = fd;
    }
    for (int i = 0; i < cfg->threads; i++) {
        struct worker *w = &s->workers[i];
        struct search_error err;
        w->srv = s;
        w->id = i;
        w->ix = search_index_open_with(cfg->db, &cfg->search, &err);
        if (!w->ix) {
            init_error("%s", err.message);
            return -1;
        }
        w->base = event_base_new();
        w->http = w->base ? evhttp_new(w->base) : NULL;
        if (!w->http) {
            init_error("cannot create event loop");
            return -1;
        }
        s->nworkers++;
        /* conns_body.c refuses a body over max_body itself, with a JSON 413 (evhttp's is an
         * HTML page): a declared one before it is read, a chunked one once it passes
         * max_body plus CONNS_BODY_SLACK with its framing. evhttp's own limit, the same
         * without framing, never comes first; it is a backstop. routes.c answers 413 for a
         * body in between. So a connection never buffers much more than max_body of body.
         * Not evhttp's lingering close (it reads the whole body before answering):
         * conns_linger.c lingers after the 413 instead, so the client sees it, not a reset. */
        evhttp_set_max_body_size(w->http, (ev_ssize_t)(cfg->max_body + CONNS_BODY_SLACK));
        /* Twice routes.c's exact limit: a hard stop for what does not even parse. No
         * evhttp timeout: conns_request.c gives every step of every connection its deadline. */
        evhttp_set_max_headers_size(w->http, CONNS_EVHTTP_MAX_HEADERS);
        evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                                EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                                EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
        evhttp_set_gencb(w->http, routes_dispatch, w);
        if (conns_init(w) < 0) {
            init_error("cannot set up connection tracking");
            return -1;
        }
        for (int k = 0; k < s->nfds; k++) {
            if (conns_listen(w, s->fds[k]) < 0)
                return -1;
        }
        w->refresh_ms = cfg->refresh_ms;
        struct timeval tv = {cfg->refresh_ms / 1000, (cfg->refresh_ms % 1000) * 1000};
        w->refresh_ev = event_new(w->base, -1, EV_PERSIST, worker_refresh, w);
        w->stop_ev = event_new(w->base, -1, 0, worker_stop, w);
        w->reload_ev = event_new(w->base, -1, 0, worker_reload, w);
        if (!w->refresh_ev || !w->stop_ev || !w->reload_ev || event_add(w->refresh_ev, &tv) < 0) {
            init_error("cannot create events");
            return -1;
        }
    }
    return 0;
}

void server_log(struct server *s, const char *event, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!atomic_load_explicit(&s->live_access_json, memory_order_relaxed)) {
        fprintf(stderr, "quired: %s\n", msg);
        return;
    }
    server_log_json(s, json_pack("{s:s, s:s}", "event", event, "message", msg));
}

/* A JSON array of the names in a comma-separated list ("a, b"); NULL when out of memory
 * (json_pack then fails: routes_send_json answers 500, the log line is left out). */
json_t *server_name_list(const char *list)
{
    json_t *a = json_array();
    for (const char *p = list; a && *p;) {
        size_t n = strcspn(p, ",");
        json_array_append_new(a, json_stringn(p, n));
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return a;
}

void server_log_json(struct server *s, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(obj);
    if (!text)
        return; /* out of memory: no line rather than a broken one */
    if (atomic_load_explicit(&s->live_access_json, memory_order_relaxed))
        fprintf(stderr, "%s\n", text);
    else
        fprintf(stderr, "quired: %s\n", text);
    free(text);
}

/* Logs one line per request: method, path, status, milliseconds (or a JSON object). */
void server_log_request(struct worker *w, const char *method, const char *path, int status,
                        double ms)
{
    if (atomic_load_explicit(&w->srv->live_quiet, memory_order_relaxed))
        return;
    if (atomic_load_explicit(&w->srv->live_access_json, memory_order_relaxed)) {
        /* json_pack refuses a path that is not UTF-8: still one line, saying so. */
        json_t *line = json_pack("{s:s, s:s, s:i, s:f, s:i}", "method", method, "path", path,
                                 "status", status, "ms", ms, "worker", w->id);
        if (!line)
            line = json_pack("{s:s, s:s, s:i, s:f, s:i}", "method", method, "path",
                             "(not UTF-8)", "status", status, "ms", ms, "worker", w->id);
        server_log_json(w->srv, line);
        return;
    }
    fprintf(stderr, "%s %.200s %d %.2fms\n", method, path, status, ms);
}

void server_set_live(struct server *s, const struct server_config *cfg)
{
    struct conn_limits lim = {cfg->max_connections, cfg->header_timeout_ms, cfg->idle_timeout_ms,
                              cfg->body_min_rate};
    conns_configure(&lim);
    atomic_store(&s->live_max_body, cfg->max_body);
    atomic_store(&s->live_max_response, cfg->max_response);
    atomic_store(&s->live_refresh_ms, cfg->refresh_ms);
    atomic_store(&s->live_shard_timeout_ms, cfg->search.shard_timeout_ms);
    atomic_store(&s->live_allow_partial, cfg->search.allow_partial);
    atomic_store(&s->live_split_postings, cfg->search.split_postings);
    atomic_store(&s->live_quiet, cfg->quiet);
    atomic_store(&s->live_access_json, cfg->access_json);
    atomic_store(&s->live_slow_us, (long)(cfg->slow_ms * 1000));
    atomic_store(&s->live_search_timeout_ms, cfg->search_timeout_ms);
    pthread_mutex_lock(&s->admin_lock);
    snprintf(s->admin_token, sizeof s->admin_token, "%s",
             cfg->admin_token ? cfg->admin_token : "");
    s->admin_uid = cfg->admin_uid;
    pthread_mutex_unlock(&s->admin_lock);
}

int server_admin_has_token(struct server *s)
{
    pthread_mutex_lock(&s->admin_lock);
    int has = s->admin_token[0] != '\0';
    pthread_mutex_unlock(&s->admin_lock);
    return has;
}

int server_admin_token_ok(struct server *s, const char *token, size_t len)
{
    /* Both sides padded to the same fixed size and compared whole, so the time taken says
     * nothing about how much of a guess was right. */
    unsigned char want[SERVER_ADMIN_TOKEN_MAX + 1] = {0}, got[SERVER_ADMIN_TOKEN_MAX + 1] = {0};
    pthread_mutex_lock(&s->admin_lock);
    size_t wlen = strlen(s->admin_token);
    memcpy(want, s->admin_token, wlen);
    pthread_mutex_unlock(&s->admin_lock);
    if (len <= SERVER_ADMIN_TOKEN_MAX)
        memcpy(got, token, len);
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < sizeof want; i++)
        diff |= (unsigned char)(want[i] ^ got[i]);
    int ok = wlen > 0 && len == wlen && diff == 0;
    explicit_bzero(want, sizeof want);
    explicit_bzero(got, sizeof got);
    return ok;
}

int server_admin_uid_ok(struct server *s, unsigned long uid)
{
    if (uid == 0 || uid == (unsigned long)geteuid())
        return 1;
    pthread_mutex_lock(&s->admin_lock);
    long allowed = s->admin_uid;
    pthread_mutex_unlock(&s->admin_lock);
    return allowed >= 0 && (unsigned long)allowed == uid;
}

int server_start(struct server *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0) {
            init_error("cannot start worker thread");
            return -1;
        }
    }
    return 0;
}

/* Workers that have finished reload round `round` (under reload_lock). */
static int reloaded_count(const struct server *s, unsigned long round)
{
    int n = 0;
    for (int i = 0; i < s->nworkers; i++)
        n += s->workers[i].reloaded >= round;
    return n;
}

void server_reload(struct server *s, struct worker *self, unsigned wait_ms,
                   struct reload_report *rep)
{
    memset(rep, 0, sizeof *rep);
    pthread_mutex_lock(&s->reload_lock);
    rep->config_rc = s->reconfigure ? s->reconfigure(s, s->reconfigure_arg, rep) : 0;
    unsigned long round = ++s->reload_round;
    for (int i = 0; i < s->nworkers; i++) {
        if (&s->workers[i] != self)
            event_active(s->workers[i].reload_ev, EV_TIMEOUT, 0);
    }
    pthread_mutex_unlock(&s->reload_lock);
    if (!self)
        return;
    /* The caller's own settings and index, here and now: its reload event would only run
     * after the request that asked for the reload. */
    worker_apply(self);
    worker_refresh(-1, 0, self);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->reload_lock);
    if (self->reloaded < round)
        self->reloaded = round;
    /* Bounded: a worker busy waiting on this one in a reload of its own, or one that is
     * stopping, is not waited for forever. */
    while (reloaded_count(s, round) < s->nworkers &&
           pthread_cond_timedwait(&s->reload_done, &s->reload_lock, &deadline) == 0) {
    }
    rep->reopened = reloaded_count(s, round);
    pthread_mutex_unlock(&s->reload_lock);
}

void server_stop(struct server *s)
{
    atomic_store(&s->stopping, 1);
    for (int i = 0; i < s->nworkers; i++)
        event_active(s->workers[i].stop_ev, EV_TIMEOUT, 0);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i].thread, NULL);
    for (int i = 0; i < s->nfds; i++) {
        close(s->fds[i]);
        s->fds[i] = -1;
    }
    if (s->cfg.socket_path)
        unlink(s->cfg.socket_path);
}

void server_free(struct server *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->workers[i];
        if (w->refresh_ev)
            event_free(w->refresh_ev);
        if (w->stop_ev)
            event_free(w->stop_ev);
        if (w->reload_ev)
            event_free(w->reload_ev);
        if (w->http)
            evhttp_free(w->http);
        w->http = NULL;
        conns_free(w);
        if (w->base)
            event_base_free(w->base);
        search_index_close(w->ix);
    }
    for (int i = 0; i < s->nfds; i++) {
        if (s->fds[i] >= 0)
            close(s->fds[i]);
    }
    s->nworkers = 0;
    s->nfds = 0;
    explicit_bzero(s->admin_token, sizeof s->admin_token);
    analytics_free(s->analytics);
    s->analytics = NULL;
    pthread_cond_destroy(&s->reload_done);
    pthread_mutex_destroy(&s->reload_lock);
    pthread_mutex_destroy(&s->admin_lock);
}
