/*
 * dbdir.c -- the index directory layout (see dbdir.h).
 */
#include "dbdir.h"
#include "number.h"
#include "util.h"

#include "xapian-c/xc.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Joins dir and name into out; returns 0, or -1 when it does not fit. */
static int join(char *out, size_t outlen, const char *dir, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

void dbdir_reader_path(const char *dir, char *out, size_t outlen)
{
    char cur[4096];
    struct stat st;
    if (join(cur, sizeof cur, dir, DBDIR_CURRENT) == 0 && stat(cur, &st) == 0 &&
        S_ISREG(st.st_mode)) {
        snprintf(out, outlen, "%s", cur);
        return;
    }
    /* A sharded index: its shard map (shardmap.h). */
    if (join(cur, sizeof cur, dir, "shards") == 0 && stat(cur, &st) == 0 &&
        S_ISREG(st.st_mode)) {
        snprintf(out, outlen, "%s", cur);
        return;
    }
    snprintf(out, outlen, "%s", dir);
}

int dbdir_stamp_of(const char *path, struct dbdir_stamp *st)
{
    struct stat s;
    if (stat(path, &s) < 0)
        return -1;
    st->dev = s.st_dev;
    st->ino = s.st_ino;
    st->mtime_ns = (long long)s.st_mtim.tv_sec * 1000000000LL + s.st_mtim.tv_nsec;
    return 0;
}

int dbdir_stamp_equal(const struct dbdir_stamp *a, const struct dbdir_stamp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns;
}

int dbdir_generation(const char *dir, char *out, size_t outlen)
{
    char cur[4096];
    if (join(cur, sizeof cur, dir, DBDIR_CURRENT) < 0)
        return -1;
    FILE *f = fopen(cur, "r");
    if (!f) {
        out[0] = '\0';
        return errno == ENOENT ? 0 : -1;
    }
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        char kind[32], name[256];
        if (sscanf(line, "%31s %255s", kind, name) == 2 && strncmp(name, "gen-", 4) == 0 &&
            !strchr(name, '/')) {
            snprintf(out, outlen, "%s", name);
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

int dbdir_lock(const char *dir, int wait_seconds, char *why, size_t whylen)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
        return -2;
    }
    char path[4096];
    if (join(path, sizeof path, dir, DBDIR_LOCK) < 0) {
        snprintf(why, whylen, "path too long: %s", dir);
        return -2;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return -2;
    }
    /* Poll rather than block so the wait is bounded and the process stays killable. */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) < 0) {
                /* The pid is informational only. */
            }
            return fd;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(why, whylen, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            return -2;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (wait_seconds < 0 || now.tv_sec - start.tv_sec >= wait_seconds) {
            if (wait_seconds < 0)
                snprintf(why, whylen, "index %s is locked by another quire-index (to wait for "
                                      "it, add --wait or --wait=SECONDS)", dir);
            else
                snprintf(why, whylen, "index %s is still locked by another quire-index after "
                                      "%d s of --wait", dir, wait_seconds);
            close(fd);
            errno = EWOULDBLOCK;
            return -1;
        }
        struct timespec pause = {0, 100 * 1000000L};
        nanosleep(&pause, NULL);
    }
}

void dbdir_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Replaces DIR/name with text (written to DIR/name.tmp, synced, renamed over it, and the
 * directory synced): a reader sees the old file or the new one, never half of one.
 * Returns 0, or -1 with a reason. */
static int replace_file(const char *dir, const char *name, const char *text, char *why,
                        size_t whylen)
{
    char tmp[4096], path[4096], tmpname[256];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", name);
    if (join(tmp, sizeof tmp, dir, tmpname) < 0 || join(path, sizeof path, dir, name) < 0) {
        snprintf(why, whylen, "path too long: %s", dir);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    int ok = fputs(text, f) >= 0;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        snprintf(why, whylen, "cannot update %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* Make the rename itself durable. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int dbdir_set_current(const char *dir, const char *name, char *why, size_t whylen)
{
    char text[DBDIR_NAME_MAX + 16];
    snprintf(text, sizeof text, "auto %.*s\n", DBDIR_NAME_MAX, name);
    return replace_file(dir, DBDIR_CURRENT, text, why, whylen);
}

int dbdir_writer_path(const char *dir, int create, char *out, size_t outlen, char *why,
                      size_t whylen)
{
    char gen[256], probe[4096];
    if (dbdir_generation(dir, gen, sizeof gen) < 0) {
        snprintf(why, whylen, "%s/%s names no local generation", dir, DBDIR_CURRENT);
        return -1;
    }
    if (gen[0]) {
        if (join(out, outlen, dir, gen) < 0) {
            snprintf(why, whylen, "path too long: %s", dir);
            return -1;
        }
        return 0;
    }
    /* No `current`: a plain glass database is written in place. */
    struct stat st;
    if (join(probe, sizeof probe, dir, "iamglass") == 0 && stat(probe, &st) == 0) {
        snprintf(out, outlen, "%s", dir);
        return 0;
    }
    if (!create) {
        out[0] = '\0';
        return 0;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    const char *first = "gen-000001";
    if (join(out, outlen, dir, first) < 0) {
        snprintf(why, whylen, "path too long: %s", dir);
        return -1;
    }
    /* Create the database before `current` names it, so a reader never finds a pointer
     * to nothing. */
    /* What a run killed while creating it left (no `current` named it yet, so it was never
     * live and holds no document): it goes. */
    if (dbdir_remove_generation(dir, first) < 0 && errno != ENOENT) {
        snprintf(why, whylen, "cannot remove an unfinished index %s: %s", out, strerror(errno));
        return -1;
    }
    xc_error *err = NULL;
    xc_wdb *wdb = xc_wdb_open(out, 1, &err);
    if (!wdb) {
        snprintf(why, whylen, "cannot create index %s: %s", out,
                 err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        return -1;
    }
    int rc = xc_wdb_commit(wdb, &err);
    xc_wdb_free(wdb);
    if (rc < 0) {
        snprintf(why, whylen, "cannot create index %s: %s", out,
                 err && err->message ? err->message : "unknown error");
        xc_error_free(err);
        return -1;
    }
    return dbdir_set_current(dir, first, why, whylen);
}

size_t dbdir_list_generations(const char *dir, unsigned *nums, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < max) {
        unsigned num;
        if (dbdir_generation_number(de->d_name, &num) == 0)
            nums[n++] = num;
    }
    closedir(d);
    if (n > 1)
        qsort(nums, n, sizeof *nums, util_cmp_unsigned);
    return n;
}

int dbdir_generation_number(const char *name, unsigned *num)
{
    long n;
    if (strncmp(name, "gen-", 4) != 0 || strlen(name) != 10 ||
        num_parse_span(name + 4, 6, 10, 1, 999999, &n) != NUM_OK)
        return -1;
    *num = (unsigned)n;
    return 0;
}

void dbdir_generation_name(unsigned n, char *out, size_t outlen)
{
    snprintf(out, outlen, "gen-%06u", n);
}

int dbdir_next_generation(const char *dir, unsigned *num, char *why, size_t whylen)
{
    unsigned nums[1024];
    size_t k = dbdir_list_generations(dir, nums, 1024);
    unsigned next = k ? nums[k - 1] + 1 : 1;
    char path[4096], buf[32];
    long last = 0;
    if (join(path, sizeof path, dir, DBDIR_SEQ) == 0) {
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(buf, sizeof buf, f)) {
                buf[strcspn(buf, "\n")] = '\0';
                if (num_parse_long(buf, 1, 999998, &last) != NUM_OK)
                    last = 0;
            }
            fclose(f);
        }
    }
    if ((unsigned long)last >= next)
        next = (unsigned)last + 1;
    if (next > 999999) {
        snprintf(why, whylen, "%s has used every generation number", dir);
        return -1;
    }
    snprintf(buf, sizeof buf, "%u\n", next);
    if (replace_file(dir, DBDIR_SEQ, buf, why, whylen) < 0)
        return -1;
    *num = next;
    return 0;
}

/* nftw callback: removes one entry, children before their directory. */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

int dbdir_remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int dbdir_stack(const char *dir, char (*names)[DBDIR_NAME_MAX], size_t max)
{
    char cur[256], path[4096];
    if (dbdir_generation(dir, cur, sizeof cur) < 0)
        return -1;
    size_t n = 0;
    if (join(path, sizeof path, dir, DBDIR_STACK) < 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (f) {
        char line[256];
        while (n < max && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            unsigned num;
            char gen[4096];
            struct stat st;
            if (dbdir_generation_number(line, &num) < 0 || join(gen, sizeof gen, dir, line) < 0 ||
                stat(gen, &st) < 0)
                continue; /* not a generation, or gone */
            snprintf(names[n++], DBDIR_NAME_MAX, "%.*s", DBDIR_NAME_MAX - 1, line);
        }
        fclose(f);
    } else if (cur[0]) {
        /* Written before the stack file existed: the generations up to the live one. */
        unsigned nums[1024], live = 0;
        if (dbdir_generation_number(cur, &live) < 0)
            live = 0;
        size_t k = dbdir_list_generations(dir, nums, 1024);
        for (size_t i = 0; i < k && n < max; i++) {
            if (nums[i] <= live)
                dbdir_generation_name(nums[i], names[n++], DBDIR_NAME_MAX);
        }
    }
    if (cur[0]) {
        /* `current` is the truth (it changes first): a push or pop cut short is finished
         * here. */
        size_t k = 0;
        while (k < n && strcmp(names[k], cur) != 0)
            k++;
        if (k < n)
            n = k + 1;
        else if (n < max)
            snprintf(names[n++], DBDIR_NAME_MAX, "%.31s", cur);
    }
    return (int)n;
}

int dbdir_stack_write(const char *dir, char (*names)[DBDIR_NAME_MAX], size_t n, char *why,
                      size_t whylen)
{
    struct strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < n; i++)
        sb_printf(&sb, "%s\n", names[i]);
    int rc = sb.failed ? -1 : replace_file(dir, DBDIR_STACK, sb_cstr(&sb), why, whylen);
    if (sb.failed)
        snprintf(why, whylen, "out of memory");
    sb_free(&sb);
    return rc;
}

int dbdir_remove_generation(const char *dir, const char *name)
{
    char path[4096];
    if ((strncmp(name, "gen-", 4) != 0 && strncmp(name, "shard-", 6) != 0 &&
         strncmp(name, ".spelling", 9) != 0 && strncmp(name, DBDIR_PART_PREFIX, 6) != 0 &&
         strcmp(name, DBDIR_BUILD) != 0 && strcmp(name, DBDIR_COMPACT) != 0) ||
        strchr(name, '/') ||
        join(path, sizeof path, dir, name) < 0) {
        errno = EINVAL;
        return -1;
    }
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
