/*
 * settings.c -- quired's settings from flags and the configuration file (see settings.h).
 *
 * A struct server_config owns its strings: a setting given twice (file, then flag) frees
 * the first value, and config_free frees the rest. A reload builds a whole new struct,
 * compares it with the running one and frees it, so reloading leaks nothing however often
 * it is asked for.
 */
#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "number.h"

/* Replaces the string *field with a copy of value (NULL clears it). Returns 0 or -1. */
static int set_string(char **field, const char *value, char *why, size_t whylen)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    free(*field);
    *field = copy;
    return 0;
}

/* Replaces the admin token, wiping the old one from memory first. */
static int set_admin_token(struct server_config *cfg, const char *token)
{
    char *copy = NULL;
    if (token && !(copy = strdup(token)))
        return -1;
    if (cfg->admin_token) {
        explicit_bzero(cfg->admin_token, strlen(cfg->admin_token));
        free(cfg->admin_token);
    }
    cfg->admin_token = copy;
    return 0;
}

int config_defaults(struct server_config *cfg)
{
    char why[32];
    memset(cfg, 0, sizeof *cfg);
    const char *db = getenv("QUIRE_DB");
    if (set_string(&cfg->db, db && *db ? db : "quire.db", why, sizeof why) < 0 ||
        set_string(&cfg->listen, "127.0.0.1:7070", why, sizeof why) < 0)
        return -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = ncpu > 0 ? (int)(ncpu < SERVER_MAX_THREADS ? ncpu : SERVER_MAX_THREADS) : 2;
    cfg->max_body = 65536;
    cfg->max_response = 8u << 20;
    cfg->refresh_ms = 250;
    cfg->socket_mode = 0660;
    cfg->max_connections = 1024;
    cfg->header_timeout_ms = 10000;
    cfg->idle_timeout_ms = 60000;
    cfg->body_min_rate = 4096;
    search_options_init(&cfg->search);
    cfg->search_timeout_ms = SEARCH_DEFAULT_TIMEOUT_MS;
    cfg->admin_uid = -1;
    return 0;
}

void config_free(struct server_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->db);
    free(cfg->listen);
    free(cfg->socket_path);
    free(cfg->socket_group);
    set_admin_token(cfg, NULL);
    cfg->db = cfg->listen = cfg->socket_path = cfg->socket_group = NULL;
}

/* Checks an admin token: SERVER_ADMIN_TOKEN_MIN to _MAX visible ASCII characters. */
static int check_admin_token(const char *token, size_t len, const char *from, char *why,
                             size_t whylen)
{
    int visible = 1;
    for (size_t i = 0; i < len; i++)
        visible &= token[i] > ' ' && token[i] < 0x7f;
    if (len < SERVER_ADMIN_TOKEN_MIN || len > SERVER_ADMIN_TOKEN_MAX || !visible) {
        snprintf(why, whylen,
                 "%s must be %d to %d visible ASCII characters (no spaces); "
                 "e.g. the output of: head -c 32 /dev/urandom | base64",
                 from, SERVER_ADMIN_TOKEN_MIN, SERVER_ADMIN_TOKEN_MAX);
        return -1;
    }
    return 0;
}

/* Reads the admin token from path: a regular file that other users cannot read, holding the
 * token on its first line (a trailing newline and spaces are dropped). */
static int read_admin_token_file(struct server_config *cfg, const char *path, char *why,
                                 size_t whylen)
{
    if (!path || !*path) {
        snprintf(why, whylen, "admin-token-file needs a path");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "cannot read admin token file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & S_IROTH)) {
        snprintf(why, whylen,
                 S_ISREG(st.st_mode) ? "admin token file %s is readable by other users "
                                       "(chmod o-r it)"
                                     : "admin token file %s is not a regular file",
                 path);
        close(fd);
        return -1;
    }
    char buf[SERVER_ADMIN_TOKEN_MAX + 2];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int saved = errno;
    close(fd);
    if (n < 0) {
        snprintf(why, whylen, "cannot read admin token file %s: %s", path, strerror(saved));
        return -1;
    }
    buf[n] = '\0';
    size_t len = strcspn(buf, "\n");
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    int rc = check_admin_token(buf, len, "the token in admin-token-file", why, whylen);
    if (rc == 0 && set_admin_token(cfg, buf) < 0) {
        snprintf(why, whylen, "out of memory");
        rc = -1;
    }
    explicit_bzero(buf, sizeof buf);
    return rc;
}

/* Parses a whole number in [lo, hi] (a bare name, with no value, is not one). */
static int parse_long(const char *name, const char *value, long lo, long hi, long *out,
                      char *why, size_t whylen)
{
    if (!value || num_parse_long(value, lo, hi, out) != NUM_OK) {
        snprintf(why, whylen, "%s must be a whole number from %ld to %ld, not '%.40s'", name, lo,
                 hi, value ? value : "");
        return -1;
    }
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
        return set_string(&cfg->db, value ? value : "", why, whylen);
    } else if (!strcmp(name, "listen")) {
        return set_string(&cfg->listen, value && *value && strcmp(value, "none") ? value : NULL,
                          why, whylen);
    } else if (!strcmp(name, "socket")) {
        return set_string(&cfg->socket_path, value && *value ? value : NULL, why, whylen);
    } else if (!strcmp(name, "no-tcp")) {
        int on;
        if (parse_flag(name, value, &on, why, whylen) < 0)
            return -1;
        if (on)
            return set_string(&cfg->listen, NULL, why, whylen);
    } else if (!strcmp(name, "socket-mode")) {
        if (!value || num_parse_span(value, strlen(value), 8, 0, 0777, &v) != NUM_OK) {
            snprintf(why, whylen, "socket-mode must be an octal mode such as 0660, not '%.40s'",
                     value ? value : "");
            return -1;
        }
        cfg->socket_mode = (unsigned)v;
    } else if (!strcmp(name, "socket-group")) {
        return set_string(&cfg->socket_group, value && *value ? value : NULL, why, whylen);
    } else if (!strcmp(name, "threads")) {
        if (parse_long(name, value, 1, SERVER_MAX_THREADS, &v, why, whylen) < 0)
            return -1;
        cfg->threads = (int)v;
    } else if (!strcmp(name, "max-body")) {
        if (parse_long(name, value, 16, 64L << 20, &v, why, whylen) < 0)
            return -1;
        cfg->max_body = (size_t)v;
    } else if (!strcmp(name, "max-response")) {
        if (parse_long(name, value, 4096, 1L << 30, &v, why, whylen) < 0)
            return -1;
        cfg->max_response = (size_t)v;
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
    } else if (!strcmp(name, "body-min-rate")) {
        if (parse_long(name, value, 0, 1L << 30, &v, why, whylen) < 0)
            return -1;
        cfg->body_min_rate = (unsigned)v;
    } else if (!strcmp(name, "shard-timeout-ms")) {
        if (parse_long(name, value, 10, 600000, &v, why, whylen) < 0)
            return -1;
        cfg->search.shard_timeout_ms = (unsigned)v;
    } else if (!strcmp(name, "split-postings")) {
        if (parse_long(name, value, 0, 1L << 40, &v, why, whylen) < 0)
            return -1;
        cfg->search.split_postings = (unsigned long)v;
    } else if (!strcmp(name, "allow-partial")) {
        return parse_flag(name, value, &cfg->search.allow_partial, why, whylen);
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
    } else if (!strcmp(name, "admin-token")) {
        /* Only from the file: main.c refuses it as a flag, since argv is visible to every
         * local user (ps). */
        if (!value || !*value)
            return set_admin_token(cfg, NULL) < 0 ? -1 : 0;
        if (check_admin_token(value, strlen(value), "admin_token", why, whylen) < 0)
            return -1;
        if (set_admin_token(cfg, value) < 0) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
    } else if (!strcmp(name, "admin-token-file")) {
        return read_admin_token_file(cfg, value, why, whylen);
    } else if (!strcmp(name, "admin-uid")) {
        if (parse_long(name, value, 0, 0x7fffffffL, &v, why, whylen) < 0)
            return -1;
        cfg->admin_uid = v;
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
