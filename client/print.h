/*
 * print.h -- quire's output for people (print.c): search results, an article, health and
 * completions, made safe for a terminal.
 */
#ifndef QUIRE_CLIENT_PRINT_H
#define QUIRE_CLIENT_PRINT_H

#include <stddef.h>

#include <jansson.h>

/* Prints a search (or similar) result and returns the number of hits in it. bold: ANSI
 * bold for titles and matched terms (a terminal). */
size_t print_search(json_t *res, int bold);
/* Prints one article: the title, the fields that are present, then the text. */
void print_doc(json_t *doc, int bold);
/* Prints health on one line: "ok: 1234 docs, revision 5, generation gen-000042, ...". */
void print_health(json_t *h);
/* Prints completions one a line, then the titles ("title  [id]"). Returns how many. */
size_t print_complete(json_t *j);

#endif
