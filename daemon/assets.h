/*
 * assets.h -- the search page's static files (daemon/assets/), compiled into quired by
 * daemon/assets/embed.sh at build time (daemon/assets.c is generated).
 */
#ifndef QUIRE_ASSETS_H
#define QUIRE_ASSETS_H

#include <stddef.h>

struct page_asset {
    const char *path; /* "/assets/page.css" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
};

/* Every asset, ended by an entry with a NULL path. */
extern const struct page_asset page_assets[];

#endif
