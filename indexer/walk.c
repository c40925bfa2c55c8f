/*
 * walk.c -- the input files of a run: the PATHs given, the directory trees below them, and
 * the ids their files get.
 *
 * Ids. A text, Markdown, HTML or .json file's id is its path relative to the ids' base
 * (without a ".gz" ending: a.txt.gz is a.txt; a .json file's records use it only when the
 * file is one object without an "id"):
 *   - one directory PATH: that directory (`quire-index news` gives news/a.txt the id a.txt);
 *   - otherwise the deepest directory holding every PATH (a file PATH counts by the
 *     directory it is in): `quire-index news/2024 news/2025` gives 2024/01.txt and
 *     2025/01.txt, so two roots can never give two files one id.
 * The list is sorted by abspath (the real path of the PATH given, then the path below it;
 * symbolic links to files are not resolved, so a link is a file of its own) and holds each
 * file once, however many PATHs reach it. Hidden entries and symlinked directories are not
 * walked, so a symlink loop cannot trap the walk.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "article.h"
#include "run.h"

#define MAX_DEPTH 64

static int file_list_add(struct file_list *fl, const char *path, const char *abspath,
                         const char *relid, const struct stat *st)
{
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 256;
        struct file_entry *v = realloc(fl->v, cap * sizeof *v);
        if (!v)
            return -1;
        fl->v = v;
        fl->cap = cap;
    }
    struct file_entry *e = &fl->v[fl->n];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    /* A compressed file has the id its uncompressed name would have: gzip a.txt, and
     * a.txt.gz is still the article a.txt. */
    size_t idlen = strlen(relid);
    if (article_path_gz(relid) && idlen > 3)
        idlen -= 3;
    e->relid = strndup(relid, idlen);
    e->abspath = strdup(abspath);
    if (!e->path || !e->relid || !e->abspath) {
        free(e->path);
        free(e->relid);
        free(e->abspath);
        return -1;
    }
    e->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    e->size = (long long)st->st_size;
    fl->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_entries(const void *a, const void *b)
{
    return strcmp(((const struct file_entry *)a)->abspath, ((const struct file_entry *)b)->abspath);
}

/* Counts a file that is not an article file, by extension, for the summary. */
static void count_ignored(struct ignored *ig, const char *name)
{
    const char *dot = strrchr(name, '.');
    char ext[16];
    if (!dot || dot == name || strlen(dot) >= sizeof ext)
        snprintf(ext, sizeof ext, "(none)");
    else
        snprintf(ext, sizeof ext, "%s", dot);
    ig->total++;
    for (size_t i = 0; i < ig->n; i++) {
        if (strcmp(ig->ext[i], ext) == 0) {
            ig->count[i]++;
            return;
        }
    }
    if (ig->n < IGNORED_KINDS) {
        snprintf(ig->ext[ig->n], sizeof ig->ext[0], "%s", ext);
        ig->count[ig->n++] = 1;
    }
}

/* Adds the indexable files below dir (abs: its canonical path; rel: its path relative to
 * the ids' base, "" for the base itself). Returns -1 only when out of memory; unreadable
 * entries are reported and counted as skipped. */
static int walk_dir(struct run *r, struct file_list *fl, const char *dir, const char *abs,
                    const char *rel, int depth)
{
    if (depth > MAX_DEPTH) {
        input_problem(r, skipped, "%s: directory tree deeper than %d levels, not descending", dir,
                     MAX_DEPTH);
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        /* Its files' documents stay: an unreadable directory is not an empty one. */
        input_problem(r, unreadable,
                      "%s: cannot read directory: %s; the documents of its files are kept", dir,
                      strerror(errno));
        char **v = realloc(r->unread_dirs, (r->nunread_dirs + 1) * sizeof *v);
        if (!v)
            return -1;
        r->unread_dirs = v;
        if (!(v[r->nunread_dirs] = strdup(abs)))
            return -1;
        r->nunread_dirs++;
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* hidden files, ".", ".." */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 0 && rc == 0)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[PATH_MAX], apath[PATH_MAX], relid[PATH_MAX];
        int l1 = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int l2 = rel[0] ? snprintf(relid, sizeof relid, "%s/%s", rel, names[i])
                        : snprintf(relid, sizeof relid, "%s", names[i]);
        int l3 = snprintf(apath, sizeof apath, "%s/%s", strcmp(abs, "/") ? abs : "", names[i]);
        if (l1 < 0 || (size_t)l1 >= sizeof path || l2 < 0 || (size_t)l2 >= sizeof relid ||
            l3 < 0 || (size_t)l3 >= sizeof apath) {
            input_problem(r, skipped, "%s/%s: path too long, skipped", dir, names[i]);
            continue;
        }
        struct stat lst, st;
        if (lstat(path, &lst) < 0) {
            input_problem(r, skipped, "%s: %s, skipped", path, strerror(errno));
            continue;
        }
        if (S_ISLNK(lst.st_mode)) {
            /* Follow links to files; never to directories (no loops, no escaping). */
            if (stat(path, &st) < 0) {
                input_problem(r, skipped, "%s: broken symbolic link, skipped", path);
                continue;
            }
            if (S_ISDIR(st.st_mode))
                continue;
        } else {
            st = lst;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(r, fl, path, apath, relid, depth + 1);
        } else if (article_format_for_path(path) == ARTICLE_UNKNOWN) {
            if (S_ISREG(st.st_mode))
                count_ignored(&r->ignored, names[i]);
        } else if (S_ISREG(st.st_mode)) {
            if (file_list_add(fl, path, apath, relid, &st) < 0)
                rc = -1;
        } else {
            /* FIFOs, sockets and devices are never opened (one could block forever). */
            input_problem(r, skipped, "%s: not a regular file (a FIFO, socket or device), skipped", path);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* The canonical form of a PATH: realpath of a directory; for a file, realpath of its
 * directory + its name (a link named on the command line stays itself). NULL + errno. */
static char *canonical(const char *path, int is_dir)
{
    if (is_dir)
        return realpath(path, NULL);
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    char *rdir = realpath(dir, NULL);
    if (!rdir)
        return NULL;
    size_t len = strlen(rdir) + strlen(base) + 2;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s/%s", strcmp(rdir, "/") ? rdir : "", base);
    free(rdir);
    return out;
}

/* Shortens base (a canonical directory) to the deepest directory holding dir too. */
static void common_dir(char *base, const char *dir)
{
    size_t i = 0, last = 0;
    while (base[i] && base[i] == dir[i]) {
        if (base[i] == '/')
            last = i;
        i++;
    }
    if (base[i] == '\0' && (dir[i] == '/' || dir[i] == '\0'))
        return; /* dir is base or below it */
    if (dir[i] == '\0' && base[i] == '/') {
        base[i] = '\0'; /* dir is above base */
        return;
    }
    base[last ? last : 1] = '\0'; /* "/" stays "/" */
}

/* path relative to the directory base (path lies below base). */
static const char *relative_to(const char *path, const char *base)
{
    size_t len = strlen(base);
    if (strcmp(base, "/") == 0)
        return path + 1;
    if (strncmp(path, base, len) == 0 && path[len] == '/')
        return path + len + 1;
    return strncmp(path, base, len) == 0 && path[len] == '\0' ? "" : path;
}

int walk_inputs(struct run *r, struct file_list *fl, int first, int argc, char **argv)
{
    int npaths = argc - first, code = 0;
    char **canon = calloc((size_t)npaths + 1, sizeof *canon);
    int *isdir = calloc((size_t)npaths + 1, sizeof *isdir);
    r->roots = calloc((size_t)npaths + 1, sizeof *r->roots);
    char base[PATH_MAX] = "";
    if (!canon || !isdir || !r->roots) {
        fprintf(stderr, "%s: out of memory\n", progname);
        code = EXIT_IO;
        goto out;
    }
    /* Check every PATH before anything is walked, so a typo cannot delete anything. */
    for (int i = 0; i < npaths; i++) {
        const char *p = argv[first + i];
        struct stat st;
        if (stat(p, &st) < 0) {
            fprintf(stderr, "%s: %s: %s\n", progname, p, strerror(errno));
            code = EXIT_USAGE;
            goto out;
        }
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
            fprintf(stderr, "%s: %s: not a regular file or directory\n", progname, p);
            code = EXIT_USAGE;
            goto out;
        }
        isdir[i] = S_ISDIR(st.st_mode);
        canon[i] = canonical(p, isdir[i]);
        if (!canon[i] || strlen(canon[i]) >= sizeof base) {
            fprintf(stderr, "%s: %s: %s\n", progname, p, canon[i] ? "path too long" : strerror(errno));
            code = EXIT_USAGE;
            goto out;
        }
        /* The directory that counts for the base: a directory itself, a file's parent. */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", canon[i]);
        if (!isdir[i]) {
            char *slash = strrchr(dir, '/');
            if (slash == dir)
                dir[1] = '\0';
            else if (slash)
                *slash = '\0';
        }
        if (i == 0)
            snprintf(base, sizeof base, "%s", dir);
        else
            common_dir(base, dir);
    }
    for (int i = 0; i < npaths && code == 0; i++) {
        const char *p = argv[first + i];
        if (isdir[i]) {
            r->roots[r->nroots++] = canon[i];
            canon[i] = NULL;
            const char *abs = r->roots[r->nroots - 1];
            if (walk_dir(r, fl, p, abs, relative_to(abs, base), 0) < 0) {
                fprintf(stderr, "%s: out of memory\n", progname);
                code = EXIT_IO;
            }
        } else if (article_format_for_path(p) == ARTICLE_UNKNOWN) {
            input_problem(r, skipped, "%s: unknown file type (want .txt, .md, .html, .json, "
                          ".jsonl, .ndjson, optionally .gz), skipped", p);
        } else {
            struct stat st;
            if (stat(p, &st) < 0 || file_list_add(fl, p, canon[i], relative_to(canon[i], base), &st) < 0) {
                fprintf(stderr, "%s: %s: %s\n", progname, p, strerror(errno));
                code = EXIT_IO;
            }
        }
    }
    if (code == 0 && fl->n > 1) {
        /* Sorted by abspath, each file once (two PATHs may reach it, e.g. a and a/b). */
        qsort(fl->v, fl->n, sizeof *fl->v, cmp_entries);
        size_t w = 1;
        for (size_t i = 1; i < fl->n; i++) {
            if (strcmp(fl->v[i].abspath, fl->v[w - 1].abspath) == 0) {
                free(fl->v[i].path);
                free(fl->v[i].abspath);
                free(fl->v[i].relid);
                continue;
            }
            fl->v[w++] = fl->v[i];
        }
        fl->n = w;
    }
    fl->bytes = 0;
    for (size_t i = 0; i < fl->n; i++)
        fl->bytes += fl->v[i].size;
out:
    for (int i = 0; canon && i < npaths; i++)
        free(canon[i]);
    free(canon);
    free(isdir);
    return code;
}

void walk_free(struct file_list *fl)
{
    for (size_t i = 0; i < fl->n; i++) {
        free(fl->v[i].path);
        free(fl->v[i].abspath);
        free(fl->v[i].relid);
    }
    free(fl->v);
    memset(fl, 0, sizeof *fl);
}

struct file_entry *walk_find(struct file_list *fl, const char *abspath)
{
    struct file_entry key = {0};
    key.abspath = (char *)abspath;
    return fl->n ? bsearch(&key, fl->v, fl->n, sizeof *fl->v, cmp_entries) : NULL;
}
