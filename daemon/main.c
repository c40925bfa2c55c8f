/*
 * quired -- Quire's search daemon: ranked search as JSON over HTTP, on TCP and/or a Unix
 * socket, read-only on the index.
 *
 * The main thread parses flags, starts the workers (server.c) and then only waits for
 * signals: SIGHUP makes every worker reopen its index, SIGTERM/SIGINT stop accepting,
 * let in-flight requests finish and exit 0.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "server.h"
#include "xapian-c/xc.h"

#include "config.h"

#define DEFAULT_LISTEN "127.0.0.1:7070"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: quired [OPTIONS]\n"
            "Serve ranked search over an index as JSON over HTTP.\n"
            "\n"
            "Options:\n"
            "  --db DIR            index directory (default: $QUIRE_DB or ./quire.db)\n"
            "  --listen ADDR:PORT  TCP address (default " DEFAULT_LISTEN "; port 0 picks a\n"
            "                      free port, printed at start)\n"
            "  --socket PATH       also (or, with --no-tcp, only) listen on a Unix socket\n"
            "  --no-tcp            no TCP listener (use with --socket)\n"
            "  --threads N         worker threads, each with its own index handle\n"
            "                      (default: number of CPUs)\n"
            "  --max-body BYTES    largest POST body (default 65536)\n"
            "  --quiet             no per-request log lines\n"
            "  --access-log FMT    per-request log lines as 'text' (default) or 'json'\n"
            "  --slow-ms MS        log searches slower than MS milliseconds (default 0: off)\n"
            "  -h, --help          this help\n"
            "  -V, --version       version\n"
            "\n"
            "Endpoints: GET/POST /search, GET /doc/{id}, GET /health, GET /metrics.\n"
            "Signals: SIGHUP reopens the index; SIGTERM/SIGINT finish in-flight requests and "
            "exit.\n");
}

struct sigctx {
    struct server *srv;
    struct event_base *base;
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct sigctx *c = arg;
    if (sig == SIGHUP) {
        fprintf(stderr, "quired: SIGHUP: reopening the index\n");
        server_reload(c->srv);
        return;
    }
    fprintf(stderr, "quired: %s: finishing in-flight requests and stopping\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopbreak(c->base);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},       {"listen", required_argument, NULL, 'l'},
        {"socket", required_argument, NULL, 's'},   {"no-tcp", no_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},  {"max-body", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {"slow-ms", required_argument, NULL, 'S'},  {"access-log", required_argument, NULL, 'A'},
        {"version", no_argument, NULL, 'V'},        {NULL, 0, NULL, 0}};
    struct server_config cfg = {0};
    cfg.db = getenv("QUIRE_DB");
    if (!cfg.db || !*cfg.db)
        cfg.db = "quire.db";
    cfg.listen = DEFAULT_LISTEN;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.threads = ncpu > 0 ? (int)(ncpu < SERVER_MAX_THREADS ? ncpu : SERVER_MAX_THREADS) : 2;
    cfg.max_body = 65536;
    cfg.refresh_ms = 250;
    int no_tcp = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hVq", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'd': cfg.db = optarg; break;
        case 'l': cfg.listen = optarg; break;
        case 's': cfg.socket_path = optarg; break;
        case 'n': no_tcp = 1; break;
        case 't':
            cfg.threads = (int)strtol(optarg, &end, 10);
            if (*end || cfg.threads < 1 || cfg.threads > SERVER_MAX_THREADS) {
                fprintf(stderr, "quired: --threads must be from 1 to %d\n", SERVER_MAX_THREADS);
                return 2;
            }
            break;
        case 'm': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 16 || v > (64L << 20)) {
                fprintf(stderr, "quired: --max-body must be from 16 to %ld bytes\n", 64L << 20);
                return 2;
            }
            cfg.max_body = (size_t)v;
            break;
        }
        case 'q': cfg.quiet = 1; break;
        case 'S':
            cfg.slow_ms = strtod(optarg, &end);
            if (*end || cfg.slow_ms < 0) {
                fprintf(stderr, "quired: --slow-ms takes milliseconds (0 turns it off)\n");
                return 2;
            }
            break;
        case 'A':
            if (strcmp(optarg, "json") == 0)
                cfg.access_json = 1;
            else if (strcmp(optarg, "text") == 0)
                cfg.access_json = 0;
            else {
                fprintf(stderr, "quired: --access-log is 'text' or 'json'\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("quired %s (Xapian %s)\n", PACKAGE_VERSION, xc_version()); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "quired: unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
    if (no_tcp) {
        if (!cfg.socket_path) {
            fprintf(stderr, "quired: --no-tcp needs --socket PATH\n");
            return 2;
        }
        cfg.listen = NULL;
    }

    /* Writes to a client that went away must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);

    static struct server srv;
    if (server_init(&srv, &cfg) < 0) {
        server_free(&srv);
        return 1;
    }
    struct event_base *base = event_base_new();
    struct sigctx sc = {&srv, base};
    struct event *ev_hup = evsignal_new(base, SIGHUP, on_signal, &sc);
    struct event *ev_term = evsignal_new(base, SIGTERM, on_signal, &sc);
    struct event *ev_int = evsignal_new(base, SIGINT, on_signal, &sc);
    if (!ev_hup || !ev_term || !ev_int || event_add(ev_hup, NULL) < 0 ||
        event_add(ev_term, NULL) < 0 || event_add(ev_int, NULL) < 0) {
        fprintf(stderr, "quired: cannot install signal handlers\n");
        return 1;
    }
    if (cfg.listen)
        fprintf(stderr, "quired: listening on %.*s:%d\n",
                (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen, srv.tcp_port);
    if (cfg.socket_path)
        fprintf(stderr, "quired: listening on unix:%s\n", cfg.socket_path);
    fprintf(stderr, "quired: serving %s (%u documents) with %d threads\n", cfg.db,
            search_index_doccount(srv.workers[0].ix), srv.nworkers);
    if (server_start(&srv) < 0)
        return 1;

    event_base_dispatch(base);

    server_stop(&srv);
    server_free(&srv);
    event_free(ev_hup);
    event_free(ev_term);
    event_free(ev_int);
    event_base_free(base);
    fprintf(stderr, "quired: stopped\n");
    return 0;
}
