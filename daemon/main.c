/*
 * quired -- Quire's search daemon: ranked search as JSON over HTTP, on TCP and/or a Unix
 * socket, read-only on the index.
 *
 * The main thread parses settings (settings.c: the configuration file first, then flags,
 * which win), starts the workers (server.c) and then only waits for signals: SIGHUP
 * re-reads the configuration (the settings that can change safely take effect at once;
 * the others are reported as needing a restart) and makes every worker reopen its index;
 * SIGTERM/SIGINT stop accepting, let in-flight requests finish and exit 0. POST
 * /admin/reload (routes.c) does what SIGHUP does, from a worker: both go through
 * server_reload, which calls reconfigure() below.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "settings.h"
#include "server.h"
#include "xapian-c/xc.h"

#include "config.h"

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},   {"check-config", no_argument, NULL, 'C'},
    {"db", required_argument, NULL, 0},         {"listen", required_argument, NULL, 0},
    {"socket", required_argument, NULL, 0},     {"socket-mode", required_argument, NULL, 0},
    {"socket-group", required_argument, NULL, 0}, {"no-tcp", no_argument, NULL, 0},
    {"threads", required_argument, NULL, 0},    {"max-body", required_argument, NULL, 0},
    {"max-response", required_argument, NULL, 0},
    {"refresh-ms", required_argument, NULL, 0}, {"quiet", no_argument, NULL, 0},
    {"max-connections", required_argument, NULL, 0},
    {"header-timeout-ms", required_argument, NULL, 0},
    {"idle-timeout-ms", required_argument, NULL, 0},
    {"body-min-rate", required_argument, NULL, 0},
    {"search-timeout-ms", required_argument, NULL, 0},
    {"access-log", required_argument, NULL, 0}, {"slow-ms", required_argument, NULL, 0},
    {"shard-timeout-ms", required_argument, NULL, 0},
    {"split-postings", required_argument, NULL, 0},
    {"allow-partial", optional_argument, NULL, 0},
    {"admin-token-file", required_argument, NULL, 0},
    {"admin-uid", required_argument, NULL, 0},
    /* Recognised only to be refused with the reason (read_settings). */
    {"admin-token", required_argument, NULL, 'T'},
    {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: quired [OPTIONS]\n"
            "Serve ranked search over an index as JSON over HTTP.\n"
            "\n"
            "Options (each is also a key of the configuration file, flags win):\n"
            "  --config FILE        read settings from an INI file (keys at the top or in a\n"
            "                       [quired] section: db = /var/lib/quire, threads = 4, ...)\n"
            "  --check-config       check the settings and that the index opens, then exit\n"
            "  --db DIR             index directory (default: $QUIRE_DB or ./quire.db)\n"
            "  --listen ADDR:PORT   TCP address (default 127.0.0.1:7070; port 0 picks a free\n"
            "                       port, printed at start)\n"
            "  --socket PATH        also listen on a Unix socket\n"
            "  --socket-mode MODE   its permissions (default 0660)\n"
            "  --socket-group NAME  its group\n"
            "  --no-tcp             no TCP listener (with --socket)\n"
            "  --threads N          worker threads, each with its own index handle\n"
            "                       (default: number of CPUs)\n"
            "  --max-body BYTES     largest POST body (default 65536)\n"
            "  --max-response BYTES  largest response body (default 8388608); a larger\n"
            "                       one is answered 500 response_too_large\n"
            "  --refresh-ms MS      how often workers look for a new commit (default 250)\n"
            "  --max-connections N  open connections before requests get 503 (default 1024;\n"
            "                       0: no cap)\n"
            "  --header-timeout-ms MS  time a client has to send a whole request (10000)\n"
            "  --idle-timeout-ms MS    keep-alive connection left idle (60000)\n"
            "  --body-min-rate BYTES   a request body or a response gets 1 s more than the\n"
            "                       header timeout per BYTES bytes (4096; 0: no more)\n"
            "  --search-timeout-ms MS  time budget of one search (%d; 0: none); past it the\n"
            "                       hits found so far are returned with \"timed_out\": true\n"
            "  --split-postings N   a search whose words index N postings or more runs on\n"
            "                       two cores at once when one is idle (%d; 0: never)\n"
            "  --quiet              no per-request log lines\n"
            "  --access-log FMT     per-request log lines as 'text' (default) or 'json'\n"
            "  --slow-ms MS         log searches slower than MS milliseconds (0: off)\n"
            "  --shard-timeout-ms MS  sharded index: how long a remote shard may take to\n"
            "                       connect or answer before it counts as down (2000)\n"
            "  --allow-partial[=BOOL]  with a shard down, answer from the other shards,\n"
            "                       marked \"shards\": {\"failed\": K} (default: 503 unless\n"
            "                       the request says partial=1)\n"
            "  --admin-token-file PATH  file holding the token for administrative endpoints\n"
            "                       (or admin_token in the configuration file; never a flag)\n"
            "  --admin-uid UID      a uid allowed administrative endpoints over the Unix\n"
            "                       socket, besides the daemon's own and root\n"
            "  -h, --help           this help\n"
            "  -V, --version        version\n"
            "\n"
            "Endpoints: GET / (the search page), GET/POST /search, GET /complete,\n"
            "GET /doc/{id}, GET /doc/{id}/similar, GET /health, GET /metrics; and, with the\n"
            "admin token or from a Unix-socket peer with an allowed uid, POST /admin/reload,\n"
            "GET /admin/queries and POST /admin/queries/reset.\n"
            "Signals: SIGHUP re-reads the configuration and reopens the index; SIGTERM and\n"
            "SIGINT finish in-flight requests and exit 0.\n",
            SEARCH_DEFAULT_TIMEOUT_MS, SEARCH_SPLIT_POSTINGS);
}

/* Settings from defaults, then the file (when --config is given), then the flags. Returns
 * 0, 1 to exit 0 (help, version), or -1 with the problem in why. cfg is filled in every
 * case: the caller config_free()s it. Not reentrant (getopt): reloads are serialised by
 * the server's reload_lock. */
static int read_settings(int argc, char **argv, struct server_config *cfg, const char **config,
                         int *check, char *why, size_t whylen)
{
    char inner[384];
    if (config_defaults(cfg) < 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    /* First pass: only --config, so the file is applied before the flags. */
    int c, idx;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "hV", longopts, &idx)) != -1) {
        if (c == 'c')
            *config = optarg;
    }
    if (*config && config_load(cfg, *config, why, whylen) < 0)
        return -1;
    optind = 0;
    while ((c = getopt_long(argc, argv, "hV", longopts, &idx)) != -1) {
        switch (c) {
        case 0:
            if (config_apply(cfg, longopts[idx].name, optarg, inner, sizeof inner) < 0) {
                /* Most messages open with the setting's name ("threads must be ..."); the
                 * others ("cannot read admin token file ...") get the flag in front. */
                const char *name = longopts[idx].name;
                size_t n = strlen(name);
                if (strncmp(inner, name, n) == 0 && (inner[n] == ' ' || inner[n] == '\0'))
                    snprintf(why, whylen, "--%s", inner);
                else
                    snprintf(why, whylen, "--%s: %s", name, inner);
                return -1;
            }
            break;
        case 'c': break;
        case 'C': *check = 1; break;
        case 'T':
            snprintf(why, whylen, "--admin-token is not accepted: every local user can read a "
                                  "command line (ps); put admin_token in the configuration "
                                  "file or use --admin-token-file");
            return -1;
        case 'h': usage(stdout); return 1;
        case 'V': printf("quired %s (Xapian %s)\n", PACKAGE_VERSION, xc_version()); return 1;
        default:
            snprintf(why, whylen, "unknown option or missing value: '%s' (try --help)",
                     argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(why, whylen, "unexpected argument '%s' (try --help)", argv[optind]);
        return -1;
    }
    if (!cfg->listen && !cfg->socket_path) {
        snprintf(why, whylen, "nothing to listen on: give --listen or --socket");
        return -1;
    }
    return 0;
}

struct sigctx {
    struct server *srv;
    struct event_base *base;
    int argc;
    char **argv;
};

/* Appends name to the comma-separated list buf. */
static void list_add(char *buf, size_t len, const char *name)
{
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
}

static int str_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* server->reconfigure, for SIGHUP and POST /admin/reload: re-read the settings; apply
 * every one that can change while running, name those that need a restart. Runs under the
 * server's reload_lock, on the main thread or a worker. */
static int reconfigure(struct server *srv, void *arg, struct reload_report *rep)
{
    struct sigctx *c = arg;
    struct server_config cfg;
    const char *config = NULL;
    int check = 0;
    if (read_settings(c->argc, c->argv, &cfg, &config, &check, rep->why, sizeof rep->why) != 0) {
        config_free(&cfg);
        server_log(srv, "reload", "reload: configuration not reloaded (%s); keeping the old one",
                   rep->why);
        return -1;
    }
    struct server_config *old = &srv->cfg;
    char *ch = rep->changed, *rs = rep->restart;
    size_t chl = sizeof rep->changed, rsl = sizeof rep->restart;
    /* Need a restart: they shape sockets, threads and index handles made at start. */
    if (str_differs(cfg.db, old->db))
        list_add(rs, rsl, "db");
    if (str_differs(cfg.listen, old->listen))
        list_add(rs, rsl, "listen");
    if (str_differs(cfg.socket_path, old->socket_path))
        list_add(rs, rsl, "socket");
    if (cfg.socket_mode != old->socket_mode)
        list_add(rs, rsl, "socket_mode");
    if (str_differs(cfg.socket_group, old->socket_group))
        list_add(rs, rsl, "socket_group");
    if (cfg.threads != old->threads)
        list_add(rs, rsl, "threads");
    /* Apply now: compared with the running values, which then become the new ones. */
#define LIVE(field, name)                                                                  \
    do {                                                                                   \
        if (cfg.field != old->field) {                                                     \
            list_add(ch, chl, name);                                                       \
            old->field = cfg.field;                                                        \
        }                                                                                  \
    } while (0)
    LIVE(max_connections, "max_connections");
    LIVE(header_timeout_ms, "header_timeout_ms");
    LIVE(idle_timeout_ms, "idle_timeout_ms");
    LIVE(body_min_rate, "body_min_rate");
    LIVE(max_body, "max_body");
    LIVE(max_response, "max_response");
    LIVE(refresh_ms, "refresh_ms");
    LIVE(search.shard_timeout_ms, "shard_timeout_ms");
    LIVE(search.allow_partial, "allow_partial");
    LIVE(search.split_postings, "split_postings");
    LIVE(search_timeout_ms, "search_timeout_ms");
    LIVE(slow_ms, "slow_ms");
    LIVE(quiet, "quiet");
    LIVE(access_json, "access_log");
    LIVE(admin_uid, "admin_uid");
#undef LIVE
    pthread_mutex_lock(&srv->admin_lock);
    int token_changed = strcmp(srv->admin_token, cfg.admin_token ? cfg.admin_token : "") != 0;
    pthread_mutex_unlock(&srv->admin_lock);
    if (token_changed)
        list_add(ch, chl, "admin_token");
    server_set_live(srv, old);
    /* Strings and the token are not kept in srv->cfg (it borrows main's): set directly. */
    pthread_mutex_lock(&srv->admin_lock);
    snprintf(srv->admin_token, sizeof srv->admin_token, "%s",
             cfg.admin_token ? cfg.admin_token : "");
    pthread_mutex_unlock(&srv->admin_lock);
    json_t *line = json_pack("{s:s, s:s, s:o*, s:o*}", "event", "reload", "message",
                             "configuration reloaded", "changed", server_name_list(ch),
                             "needs_restart", server_name_list(rs));
    server_log_json(srv, line);
    config_free(&cfg);
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct sigctx *c = arg;
    if (sig == SIGHUP) {
        struct reload_report rep;
        server_log(c->srv, "sighup", "SIGHUP: re-reading configuration, reopening the index");
        server_reload(c->srv, NULL, 0, &rep);
        return;
    }
    server_log(c->srv, "stopping", "%s: finishing in-flight requests and stopping",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopbreak(c->base);
}

int main(int argc, char **argv)
{
    struct server_config cfg;
    const char *config = NULL;
    int check = 0;
    char why[512];
    int rc = read_settings(argc, argv, &cfg, &config, &check, why, sizeof why);
    if (rc != 0) {
        if (rc < 0 && cfg.access_json) { /* one JSON object, as every line in this mode */
            json_t *o = json_pack("{s:s, s:s}", "event", "error", "message", why);
            char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
            fprintf(stderr, "%s\n", text ? text : "{\"event\":\"error\"}");
            free(text);
            json_decref(o);
        } else if (rc < 0) {
            fprintf(stderr, "quired: %s\n", why);
        }
        config_free(&cfg);
        return rc > 0 ? 0 : 2;
    }
    if (check) {
        struct search_error err;
        struct search_index *ix = search_index_open_with(cfg.db, &cfg.search, &err);
        if (!ix) {
            fprintf(stderr, "quired: configuration is valid, but %s\n", err.message);
            config_free(&cfg);
            return 1;
        }
        printf("configuration OK: db %s (%u documents), listen %s, socket %s, %d thread%s\n",
               cfg.db, search_index_doccount(ix), cfg.listen ? cfg.listen : "none",
               cfg.socket_path ? cfg.socket_path : "none", cfg.threads,
               cfg.threads == 1 ? "" : "s");
        search_index_close(ix);
        config_free(&cfg);
        return 0;
    }

    /* Writes to a client that went away must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);

    static struct server srv;
    if (server_init(&srv, &cfg) < 0) {
        server_free(&srv);
        config_free(&cfg);
        return 1;
    }
    struct event_base *base = event_base_new();
    struct sigctx sc = {&srv, base, argc, argv};
    srv.reconfigure = reconfigure;
    srv.reconfigure_arg = &sc;
    struct event *ev_hup = evsignal_new(base, SIGHUP, on_signal, &sc);
    struct event *ev_term = evsignal_new(base, SIGTERM, on_signal, &sc);
    struct event *ev_int = evsignal_new(base, SIGINT, on_signal, &sc);
    if (!ev_hup || !ev_term || !ev_int || event_add(ev_hup, NULL) < 0 ||
        event_add(ev_term, NULL) < 0 || event_add(ev_int, NULL) < 0) {
        server_log(&srv, "error", "cannot install signal handlers");
        return 1;
    }
    if (cfg.listen)
        server_log(&srv, "listening", "listening on %.*s:%d",
                   (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen, srv.tcp_port);
    if (cfg.socket_path)
        server_log(&srv, "listening", "listening on unix:%s", cfg.socket_path);
    server_log(&srv, "serving", "serving %s (%u documents) with %d thread%s", cfg.db,
               search_index_doccount(srv.workers[0].ix), srv.nworkers,
               srv.nworkers == 1 ? "" : "s");
    if (server_start(&srv) < 0)
        return 1;

    event_base_dispatch(base);

    server_stop(&srv);
    server_free(&srv);
    event_free(ev_hup);
    event_free(ev_term);
    event_free(ev_int);
    event_base_free(base);
    int json = atomic_load(&srv.live_access_json);
    config_free(&cfg); /* after server_free: the server borrowed its strings */
    fprintf(stderr, json ? "{\"event\":\"stopped\",\"message\":\"stopped\"}\n" : "quired: stopped\n");
    return 0;
}
