/*
 * stats.c -- `quire stats` (see stats.h): the most frequent queries and the most frequent
 * queries that found nothing, as quired counted them since it started or since the last
 * reset.
 *
 * The report is an administrative endpoint: over TCP it needs the admin token, read from
 * a file (--admin-token-file; never the command line, where other users see it in ps),
 * over the Unix socket an allowed uid is enough. --reset asks POST /admin/queries/reset,
 * which answers the report and empties the tables in one step, so that no search counted
 * between a read and a reset is lost.
 *
 * Queries are what anyone typed: printed through cliout's cleaning, never raw.
 */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cliout.h"

#define EXIT_OK 0
#define EXIT_ERROR 2

/* Reads the admin token: the file's first line without its end-of-line and surrounding
 * blanks (as quired reads admin_token_file). Returns a malloc'd token, or NULL after
 * printing why. */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "quire: cannot read the admin token file '%s': ", path);
        perror(NULL);
        return NULL;
    }
    char buf[QC_MAX_ADMIN_TOKEN_BYTES + 64];
    char *line = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!line) {
        fprintf(stderr, "quire: the admin token file '%s' is empty\n", path);
        return NULL;
    }
    size_t n = strlen(line);
    while (n > 0 && strchr(" \t\r\n", line[n - 1]))
        line[--n] = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    char *token = *line ? strdup(line) : NULL;
    memset(buf, 0, sizeof buf);
    if (!token)
        fprintf(stderr, "quire: the admin token file '%s' holds no token\n", path);
    return token;
}

/* Prints one list: "  COUNT  QUERY", with "(at least MIN)" when the count is a bound. */
static void print_list(const char *heading, json_t *list)
{
    printf("%s\n", heading);
    if (json_array_size(list) == 0) {
        printf("  (none)\n");
        return;
    }
    int width = 1;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        int w =
            snprintf(NULL, 0, "%lld", (long long)json_integer_value(json_object_get(e, "count")));
        if (w > width)
            width = w;
    }
    json_array_foreach(list, i, e)
    {
        printf("  %*lld  ", width, (long long)json_integer_value(json_object_get(e, "count")));
        cliout_puts_clean(stdout, json_string_value(json_object_get(e, "q")));
        json_t *min = json_object_get(e, "count_min");
        if (json_is_integer(min))
            printf("  (at least %lld)", (long long)json_integer_value(min));
        putchar('\n');
    }
}

/* The report for people. */
static void print_report(json_t *j, int reset)
{
    const char *since = json_string_value(json_object_get(j, "since"));
    json_int_t searches = json_integer_value(json_object_get(j, "searches"));
    printf("%lld search%s since %s", (long long)searches, searches == 1 ? "" : "es",
           since ? since : "?");
    if (!json_is_true(json_object_get(j, "exact")))
        printf(" (more distinct queries than the table's %lld: counts are upper bounds)",
               (long long)json_integer_value(json_object_get(j, "capacity")));
    printf("\n\n");
    print_list("Top queries:", json_object_get(j, "top"));
    putchar('\n');
    print_list("Queries that found nothing:", json_object_get(j, "zero_hits"));
    if (reset)
        printf("\nThe counts were reset: they start again from zero.\n");
}

int stats_main(qc_client *c, const struct stats_options *o)
{
    if (o->token_file) {
        char *token = read_token(o->token_file);
        if (!token)
            return EXIT_ERROR;
        qc_code rc = qc_client_set_admin_token(c, token);
        memset(token, 0, strlen(token));
        free(token);
        if (rc != QC_OK) {
            fputs("quire: ", stderr);
            cliout_puts_clean(stderr, qc_client_error(c));
            fputs(" (in the admin token file)\n", stderr);
            return EXIT_ERROR;
        }
    }
    char path[64];
    snprintf(path, sizeof path, "/admin/queries%s", o->reset ? "/reset" : "");
    if (o->limit >= 0)
        snprintf(path + strlen(path), sizeof path - strlen(path), "?limit=%ld", o->limit);
    qc_response *r = NULL;
    qc_code rc = o->reset ? qc_post(c, path, &r) : qc_get(c, path, &r);
    long status = r ? qc_response_status(r) : 0;
    json_t *j = cliout_answer(c, rc, r);
    qc_response_free(r);
    if (!j) {
        if (status == 401 && !o->token_file)
            fputs("quire: over TCP, stats needs --admin-token-file FILE (the daemon's "
                  "admin_token), or use --socket as an allowed user\n",
                  stderr);
        return EXIT_ERROR;
    }
    if (o->json)
        cliout_json(j);
    else
        print_report(j, o->reset);
    json_decref(j);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("quire: cannot write the output\n", stderr);
        return EXIT_ERROR;
    }
    return EXIT_OK;
}
