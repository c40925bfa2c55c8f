/*
 * settings.c -- quired's settings from flags and the configuration file (see settings.h).
 *
 * Strings from the file are duplicated and never freed: a daemon reads its configuration
 * a handful of times in its life, and settings may still be referenced by workers. They
 * stay reachable from `kept`.
 */
#include "settings.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void config_defaults(struct server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->db = getenv("QUIRE_DB");
    if (!cfg->db || !*cfg->db)
        cfg->db = "quire.db";
    cfg->listen = "127.0.0.1:7070";
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = ncpu > 0 ? (int)(ncpu < SERVER_MAX_THREADS ? ncpu : SERVER_MAX_THREADS) : 2;
    cfg->max_body = 65536;
    cfg->refresh_ms = 250;
    cfg->socket_mode = 0660;
    cfg->max_connections = 1024;
    cfg->header_timeout_ms = 10000;
    cfg->idle_timeout_ms = 60000;
    cfg->search_timeout_ms = SEARCH_DEFAULT_TIMEOUT_MS;
}

/* Parses a whole number in [lo, hi]. */
static int parse_long(const char *name, const char *value, long lo, long hi, long *out,
                      char *why, size_t whylen)
{
    char *end;
    errno = 0;
    long v = value ? strtol(value, &end, 10) : 0;
    if (!value || !*value || *end || errno || v < lo || v > hi) {
        snprintf(why, whylen, "%s must be a whole number from %ld to %ld", name, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parses a boolean setting; a bare flag (NULL) means true. */
static int parse_flag(const char *name, const char *value, int *out, char *why, size_t whylen)
{
    if (!value || !strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes") ||
        !strcmp(value, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no") ||
        !strcmp(value, "off")) {
        *out = 0;
        return 0;
    }
    snprintf(why, whylen, "%s must be true or false", name);
    return -1;
}

/* Copies of string settings, reachable for the life of the process (a leak checker sees
 * them as in use, which they may be). */
static char *kept[512];
static size_t nkept;

/* A copy of a string setting that outlives the file's parse. */
static const char *keep(const char *value)
{
    char *s = strdup(value ? value : "");
    if (!s)
        return "";
    if (nkept < sizeof kept / sizeof kept[0])
        kept[nkept++] = s;
    return s;
}

int config_apply(struct server_config *cfg, const char *name_in, const char *value, char *why,
                 size_t whylen)
{
    char name[64];
    snprintf(name, sizeof name, "%s", name_in);
    for (char *p = name; *p; p++) {
        if (*p == '_')
            *p = '-';
    }
    long v;
    if (!strcmp(name, "db")) {
        cfg->db = keep(value);
    } else if (!strcmp(name, "listen")) {
        cfg->listen = value && *value && strcmp(value, "none") ? keep(value) : NULL;
    } else if (!strcmp(name, "socket")) {
        cfg->socket_path = value && *value ? keep(value) : NULL;
    } else if (!strcmp(name, "no-tcp")) {
        int on;
        if (parse_flag(name, value, &on, why, whylen) < 0)
            return -1;
        if (on)
            cfg->listen = NULL;
    } else if (!strcmp(name, "socket-mode")) {
        char *end;
        v = value ? strtol(value, &end, 8) : -1;
        if (!value || !*value || *end || v < 0 || v > 0777) {
            snprintf(why, whylen, "socket-mode must be an octal mode such as 0660");
            return -1;
        }
        cfg->socket_mode = (unsigned)v;
    } else if (!strcmp(name, "socket-group")) {
        cfg->socket_group = value && *value ? keep(value) : NULL;
    } else if (!strcmp(name, "threads")) {
        if (parse_long(name, value, 1, SERVER_MAX_THREADS, &v, why, whylen) < 0)
            return -1;
        cfg->threads = (int)v;
    } else if (!strcmp(name, "max-body")) {
        if (parse_long(name, value, 16, 64L << 20, &v, why, whylen) < 0)
            return -1;
        cfg->max_body = (size_t)v;
    } else if (!strcmp(name, "refresh-ms")) {
        if (parse_long(name, value, 10, 60000, &v, why, whylen) < 0)
            return -1;
        cfg->refresh_ms = (unsigned)v;
    } else if (!strcmp(name, "max-connections")) {
        if (parse_long(name, value, 0, 1000000, &v, why, whylen) < 0)
            return -1;
        cfg->max_connections = (unsigned)v;
    } else if (!strcmp(name, "header-timeout-ms")) {
        if (parse_long(name, value, 100, 3600000, &v, why, whylen) < 0)
            return -1;
        cfg->header_timeout_ms = (unsigned)v;
    } else if (!strcmp(name, "idle-timeout-ms")) {
        if (parse_long(name, value, 100, 86400000, &v, why, whylen) < 0)
            return -1;
        cfg->idle_timeout_ms = (unsigned)v;
    } else if (!strcmp(name, "search-timeout-ms")) {
        if (parse_long(name, value, 0, 3600000, &v, why, whylen) < 0)
            return -1;
        cfg->search_timeout_ms = (unsigned)v;
    } else if (!strcmp(name, "quiet")) {
        return parse_flag(name, value, &cfg->quiet, why, whylen);
    } else if (!strcmp(name, "access-log")) {
        if (value && !strcmp(value, "json"))
            cfg->access_json = 1;
        else if (value && !strcmp(value, "text"))
            cfg->access_json = 0;
        else {
            snprintf(why, whylen, "access-log is 'text' or 'json'");
            return -1;
        }
    } else if (!strcmp(name, "slow-ms")) {
        if (parse_long(name, value, 0, 3600000, &v, why, whylen) < 0)
            return -1;
        cfg->slow_ms = (double)v;
    } else {
        snprintf(why, whylen, "unknown setting '%s'", name_in);
        return -1;
    }
    return 0;
}

struct load_ctx {
    struct server_config *cfg;
    char *why;
    size_t whylen;
    int failed;
};

/* inih callback: one key of the file. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *c = user;
    if (c->failed)
        return 0;
    if (section[0] && strcmp(section, "quired") != 0)
        return 1; /* other programs' sections */
    if (config_apply(c->cfg, name, value, c->why, c->whylen) < 0) {
        c->failed = 1;
        return 0;
    }
    return 1;
}

int config_load(struct server_config *cfg, const char *path, char *why, size_t whylen)
{
    struct load_ctx c = {cfg, why, whylen, 0};
    char inner[256] = "";
    c.why = inner;
    c.whylen = sizeof inner;
    int rc = ini_parse(path, on_key, &c);
    if (rc == -1) {
        snprintf(why, whylen, "cannot read configuration %s: %s", path, strerror(errno));
        return -1;
    }
    if (rc == -2) {
        snprintf(why, whylen, "out of memory reading %s", path);
        return -1;
    }
    if (rc > 0) {
        snprintf(why, whylen, "%s:%d: %s", path, rc, inner[0] ? inner : "syntax error");
        return -1;
    }
    return 0;
}
