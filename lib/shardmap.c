/*
 * shardmap.c -- reading and writing shard maps (see shardmap.h).
 */
#include "shardmap.h"

#include "number.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Splits line into at most 4 blank-separated words; returns how many. */
static int words(char *line, char *w[4])
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 4;
         t = strtok_r(NULL, " \t\r\n", &save))
        w[n++] = t;
    return n;
}

static int parse_port(const char *s, unsigned *port)
{
    long p;
    if (num_parse_long(s, 1, 65535, &p) != NUM_OK)
        return -1;
    *port = (unsigned)p;
    return 0;
}

/* Parses one non-comment line into e; returns 0, or -1 with why filled. */
static int parse_entry(char *line, const char *base, struct shard_entry *e, char *why,
                       size_t whylen)
{
    char *w[4];
    int n = words(line, w);
    memset(e, 0, sizeof *e);
    if (n == 2 && (strcmp(w[0], "auto") == 0 || strcmp(w[0], "glass") == 0 ||
                   strcmp(w[0], "chert") == 0)) {
        int len = w[1][0] == '/' ? snprintf(e->path, sizeof e->path, "%s", w[1])
                                 : snprintf(e->path, sizeof e->path, "%s/%s", base, w[1]);
        if (len < 0 || (size_t)len >= sizeof e->path) {
            snprintf(why, whylen, "path too long");
            return -1;
        }
        /* Name a local shard by its directory: "DIR/shard-0-of-3/current" -> that dir. */
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", w[1]);
        size_t tl = strlen(tmp);
        if (tl > 8 && strcmp(tmp + tl - 8, "/current") == 0)
            tmp[tl - 8] = '\0';
        const char *slash = strrchr(tmp, '/');
        snprintf(e->name, sizeof e->name, "%.*s", (int)sizeof e->name - 1,
                 slash ? slash + 1 : tmp);
        return 0;
    }
    if (n >= 2 && strcmp(w[0], "remote") == 0) {
        e->remote = 1;
        if (n == 4 && strcmp(w[1], "tcp") == 0) {
            snprintf(e->host, sizeof e->host, "%s", w[2]);
            if (strlen(w[2]) >= sizeof e->host || parse_port(w[3], &e->port) < 0) {
                snprintf(why, whylen, "bad host or port in \"remote tcp HOST PORT\"");
                return -1;
            }
        } else if (n == 2 && w[1][0] != ':') {
            char *colon = strrchr(w[1], ':');
            if (!colon || colon == w[1] || parse_port(colon + 1, &e->port) < 0 ||
                (size_t)(colon - w[1]) >= sizeof e->host) {
                snprintf(why, whylen, "bad \"remote HOST:PORT\" entry");
                return -1;
            }
            memcpy(e->host, w[1], (size_t)(colon - w[1]));
        } else {
            snprintf(why, whylen, "only TCP remotes (\"remote HOST:PORT\") are supported");
            return -1;
        }
        snprintf(e->name, sizeof e->name, "%s:%u", e->host, e->port);
        return 0;
    }
    snprintf(why, whylen, "not a database entry (want \"auto PATH\" or \"remote HOST:PORT\")");
    return -1;
}

int shardmap_read(const char *file, struct shard_entry **out, char *spelling,
                  size_t spellinglen, char *why, size_t whylen)
{
    if (spelling && spellinglen)
        spelling[0] = '\0';
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(why, whylen, "cannot read %s: %s", file, strerror(errno));
        return -1;
    }
    char base[4096];
    snprintf(base, sizeof base, "%s", file);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(base, sizeof base, ".");
    struct shard_entry *v = NULL;
    int n = 0, rc = 0;
    char line[8192];
    unsigned long lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (strncmp(p, "#quire-spelling", 15) == 0 && isspace((unsigned char)p[15])) {
            char *w[4];
            if (words(p + 15, w) != 1) {
                snprintf(why, whylen, "%s:%lu: want \"#quire-spelling PATH\"", file, lineno);
                rc = -1;
                break;
            }
            if (spelling && spellinglen) {
                int len = w[0][0] == '/' ? snprintf(spelling, spellinglen, "%s", w[0])
                                         : snprintf(spelling, spellinglen, "%s/%s", base, w[0]);
                if (len < 0 || (size_t)len >= spellinglen)
                    spelling[0] = '\0';
            }
            continue;
        }
        if (!*p || *p == '#')
            continue;
        if (n == SHARDMAP_MAX) {
            snprintf(why, whylen, "%s: more than %d shards", file, SHARDMAP_MAX);
            rc = -1;
            break;
        }
        struct shard_entry *nv = realloc(v, (size_t)(n + 1) * sizeof *v);
        if (!nv) {
            snprintf(why, whylen, "out of memory");
            rc = -1;
            break;
        }
        v = nv;
        char reason[200];
        if (parse_entry(p, base, &v[n], reason, sizeof reason) < 0) {
            snprintf(why, whylen, "%s:%lu: %s", file, lineno, reason);
            rc = -1;
            break;
        }
        n++;
    }
    fclose(f);
    if (rc == 0 && n == 0) {
        snprintf(why, whylen, "%s lists no database", file);
        rc = -1;
    }
    if (rc < 0) {
        free(v);
        return -1;
    }
    *out = v;
    return n;
}

int shardmap_is_sharded(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    struct shard_entry *v = NULL;
    char why[256];
    int n = shardmap_read(path, &v, NULL, 0, why, sizeof why);
    int sharded = n > 1 || (n == 1 && v[0].remote);
    free(v);
    return sharded;
}

unsigned shardmap_shard_of(const char *id, unsigned n)
{
    if (n <= 1)
        return 0;
    return (unsigned)(util_hash64(id, strlen(id)) % n);
}

void shardmap_dir_name(unsigned k, unsigned n, char *out, size_t outlen)
{
    snprintf(out, outlen, "shard-%u-of-%u", k, n);
}

unsigned shardmap_local_count(const char *dir)
{
    char file[4096];
    snprintf(file, sizeof file, "%s/%s", dir, SHARDMAP_FILE);
    struct shard_entry *v = NULL;
    char why[256];
    int n = shardmap_read(file, &v, NULL, 0, why, sizeof why);
    if (n < 0)
        return 0;
    /* Local shards only, each entry named as shardmap_write names the i-th of n: compared
     * with that name rather than parsed, so nothing else can pass for it. */
    unsigned count = (unsigned)n;
    for (int i = 0; i < n && count; i++) {
        char want[64];
        shardmap_dir_name((unsigned)i, (unsigned)n, want, sizeof want);
        if (v[i].remote || strcmp(v[i].name, want) != 0)
            count = 0;
    }
    free(v);
    return count;
}

int shardmap_write(const char *dir, unsigned n, char *why, size_t whylen)
{
    char tmp[4096], file[4096];
    snprintf(file, sizeof file, "%s/%s", dir, SHARDMAP_FILE);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, SHARDMAP_FILE);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# Quire shard map, written by quire-index --shards %u: a Xapian stub\n"
               "# database. Serve a shard elsewhere by replacing its line with\n"
               "# \"remote HOST:PORT\" (see the README, \"Running on several machines\").\n",
            n);
    for (unsigned k = 0; k < n; k++) {
        char name[64];
        shardmap_dir_name(k, n, name, sizeof name);
        fprintf(f, "auto %s/current\n", name);
    }
    int bad = ferror(f);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        bad = 1;
    if (fclose(f) != 0)
        bad = 1;
    if (bad || rename(tmp, file) < 0) {
        snprintf(why, whylen, "cannot write %s: %s", file, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
