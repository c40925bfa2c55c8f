/*
 * options.c -- quire-index's command line: --help, and every flag checked before anything
 * is touched (a refused combination is a usage error, exit 2).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "number.h"
#include "shardmap.h"
#include "run.h"
#include "xapian-c/xc.h"

#include "config.h"

/* Reads flag's argument as a whole number from lo to hi into *out; otherwise says what it
 * must be (the value given included) and returns -1. */
static int flag_long(const char *flag, const char *arg, long lo, long hi, long *out)
{
    if (num_parse_long(arg, lo, hi, out) == NUM_OK)
        return 0;
    fprintf(stderr, "%s: %s must be a whole number from %ld to %ld, not '%s'\n", progname, flag,
            lo, hi, arg);
    return -1;
}

void options_usage(FILE *out)
{
    fprintf(out,
            "Usage: quire-index [OPTIONS] PATH...\n"
            "Index article files (.txt, .md, .html, .json, .jsonl, .ndjson, each also as .gz)\n"
            "and directory trees. A file's id is its path (without .gz) relative to the one\n"
            "directory PATH, or to the deepest directory holding all PATHs; a JSON record's\n"
            "is its \"id\".\n"
            "\n"
            "Options:\n"
            "  --db DIR         index directory (default: $QUIRE_DB or ./quire.db)\n"
            "  --batch N        commit every N changed documents (default %d), or sooner\n"
            "                   once %u MiB of article text is waiting\n"
            "  --wait[=SECS]    wait for another writer's lock (default: fail at once;\n"
            "                   --wait alone waits up to 3600 s)\n"
            "  --rebuild        build a new generation beside the live one, check it and\n"
            "                   swap it in atomically\n"
            "  --max-drop F     with --rebuild: refuse a rebuild with fewer than (1-F) x the live documents\n"
            "                   (default 0.5)\n"
            "  --force          with --rebuild: swap it in even when it lost more than\n"
            "                   --max-drop, or some inputs could not be read\n"
            "  --keep K         with --rebuild: live generations kept (the top K of the\n"
            "                   stack, the new one included; default 2)\n"
            "  --rollback       pop the live generation: the one below it goes live again\n"
            "  --rollback --list  show the stack of live generations, newest first\n"
            "  -n, --dry-run    report what would change; write nothing\n"
            "  --json           print the run summary as one JSON object\n"
            "  --no-spelling    keep no spelling data (no \"did you mean\" suggestions;\n"
            "                   indexing is faster)\n"
            "  --shards N       a sharded index: N databases DIR/shard-K-of-N, written in\n"
            "                   parallel, each document in shard hash(id) mod N, listed in\n"
            "                   the shard map DIR/shards (quired and quire open DIR as usual).\n"
            "                   A changed N moves every document to its new shard.\n"
            "  --shard K        with --shards N: write only shard K (0..N-1), e.g. on the\n"
            "                   machine that serves it\n"
            "  --jobs J         processes that write a full build (a first build or\n"
            "                   --rebuild; 1: one process), or shards written at once\n"
            "                   (default: the number of CPUs; small builds use one)\n"
            "  -q, --quiet      no progress bar and no summary line\n"
            "  -h, --help       this help\n"
            "  -V, --version    version\n"
            "\n"
            "Runs are incremental: unchanged files are skipped, changed files replace their\n"
            "documents, and documents of files that disappeared from PATH are deleted.\n"
            "\n"
            "Exit status:\n"
            "  0  success\n"
            "  1  finished, but some inputs were skipped, could not be read (their documents\n"
            "     are kept) or hold an id another record holds (each reported on stderr)\n"
            "  2  usage error\n"
            "  3  the index is locked by another quire-index\n"
            "  4  I/O or index error (the index stays at its last commit)\n"
            "  5  --rebuild refused by its checks (the live index is untouched), or nothing\n"
            "     to --rollback to\n",
            DEFAULT_BATCH, BATCH_TEXT_BYTES >> 20);
}

/* Parses the command line into o; returns -1 to exit with *code. */
int options_parse(int argc, char **argv, struct options *o, int *code)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},    {"batch", required_argument, NULL, 'b'},
        {"wait", optional_argument, NULL, 'w'},  {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'j'},        {"dry-run", no_argument, NULL, 'n'},
        {"rebuild", no_argument, NULL, 'R'},     {"rollback", no_argument, NULL, 'B'},
        {"force", no_argument, NULL, 'f'},       {"keep", required_argument, NULL, 'k'},
        {"max-drop", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},     {"no-spelling", no_argument, NULL, 'S'},
        {"shards", required_argument, NULL, 'N'}, {"shard", required_argument, NULL, 'K'},
        {"jobs", required_argument, NULL, 'J'},  {"list", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->dbdir = getenv("QUIRE_DB");
    if (!o->dbdir || !*o->dbdir)
        o->dbdir = "quire.db";
    o->batch = DEFAULT_BATCH;
    o->wait_seconds = -1;
    o->keep = 2;
    o->max_drop = 0.5;
    o->shard_only = -1;
    o->summary_fd = -1;
    int c;
    *code = EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "qhVn", longopts, NULL)) != -1) {
        long n;
        switch (c) {
        case 'd': o->dbdir = optarg; break;
        case 'b':
            if (flag_long("--batch", optarg, 1, 10000000, &o->batch) < 0)
                return -1;
            break;
        case 'w':
            if (!optarg) {
                o->wait_seconds = 3600;
                break;
            }
            if (flag_long("--wait", optarg, 0, 86400, &n) < 0)
                return -1;
            o->wait_seconds = (int)n;
            break;
        case 'k':
            if (flag_long("--keep", optarg, 1, 100, &n) < 0)
                return -1;
            o->keep = (unsigned)n;
            o->keep_set = 1;
            break;
        case 'm':
            if (num_parse_double(optarg, 0, 1, &o->max_drop) != NUM_OK) {
                fprintf(stderr,
                        "%s: --max-drop is a fraction from 0 to 1 (such as 0.25), not '%s'\n",
                        progname, optarg);
                return -1;
            }
            o->max_drop_set = 1;
            break;
        case 'L': o->list = 1; break;
        case 'q': o->quiet = 1; break;
        case 'j': o->json = 1; break;
        case 'n': o->dry_run = 1; break;
        case 'R': o->rebuild = 1; break;
        case 'B': o->rollback = 1; break;
        case 'f': o->force = 1; break;
        case 'S': o->no_spelling = 1; break;
        case 'N':
            if (flag_long("--shards", optarg, 1, SHARDMAP_MAX, &n) < 0)
                return -1;
            o->shards = (unsigned)n;
            break;
        case 'K':
            if (flag_long("--shard", optarg, 0, SHARDMAP_MAX - 1, &n) < 0)
                return -1;
            o->shard_only = (int)n;
            break;
        case 'J':
            if (flag_long("--jobs", optarg, 1, SHARDMAP_MAX, &n) < 0)
                return -1;
            o->jobs = (unsigned)n;
            break;
        case 'h': options_usage(stdout); *code = EXIT_OK; return -1;
        case 'V':
            printf("quire-index %s (Xapian %s)\n", PACKAGE_VERSION, xc_version());
            *code = EXIT_OK;
            return -1;
        default: options_usage(stderr); return -1;
        }
    }
    if ((o->keep_set || o->force || o->max_drop_set) && !o->rebuild) {
        fprintf(stderr, "%s: %s only goes with --rebuild\n", progname,
                o->keep_set ? "--keep" : o->force ? "--force" : "--max-drop");
        return -1;
    }
    if (o->list && !o->rollback) {
        fprintf(stderr, "%s: --list goes with --rollback (--rollback --list shows the "
                        "generations)\n", progname);
        return -1;
    }
    /* `--wait 5` would take 5 as a PATH (an optional argument must be attached): a number
     * where no such path exists is almost certainly meant as seconds. */
    for (int i = optind; i < argc; i++) {
        struct stat st;
        long secs;
        if (i > 1 && strcmp(argv[i - 1], "--wait") == 0 &&
            num_parse_long(argv[i], LONG_MIN, LONG_MAX, &secs) == NUM_OK &&
            stat(argv[i], &st) < 0) {
            fprintf(stderr, "%s: --wait %s: %s is not a path; did you mean --wait=%s?\n",
                    progname, argv[i], argv[i], argv[i]);
            return -1;
        }
    }
    if (o->rollback && (o->rebuild || o->dry_run || optind < argc)) {
        fprintf(stderr, "%s: --rollback takes no PATH and no other mode\n", progname);
        return -1;
    }
    if (o->rebuild && o->dry_run) {
        fprintf(stderr, "%s: --rebuild and --dry-run do not go together\n", progname);
        return -1;
    }
    if (o->shard_only >= 0 && !o->shards) {
        fprintf(stderr, "%s: --shard goes with --shards N\n", progname);
        return -1;
    }
    if (o->shard_only >= 0 && (unsigned)o->shard_only >= o->shards) {
        fprintf(stderr, "%s: --shard %d: shards are numbered 0 to %u\n", progname,
                o->shard_only, o->shards - 1);
        return -1;
    }
    if (!o->rollback && optind >= argc) {
        fprintf(stderr, "%s: no PATH given (try --help)\n", progname);
        return -1;
    }
    o->first_path = optind;
    return 0;
}
