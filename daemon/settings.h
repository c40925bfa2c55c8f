/*
 * settings.h -- quired's settings: one table of options shared by the command line and the
 * configuration file (INI, read with inih), so every setting is both a flag and a key and
 * cannot drift. Flags win over the file: the file is applied first.
 *
 * The one exception is admin_token, a key of the file only: a flag's value is visible to
 * every local user in ps. --admin-token-file PATH names a file holding it instead.
 */
#ifndef QUIRE_SETTINGS_H
#define QUIRE_SETTINGS_H

#include <stddef.h>

#include "server.h"

/* Sets cfg's defaults (listen on 127.0.0.1:7070, one thread per CPU, ...). Returns 0, or
 * -1 when out of memory (cfg is then safe to config_free). */
int config_defaults(struct server_config *cfg);
/* Frees the strings cfg owns and clears them; NULL or a cleared cfg is fine. */
void config_free(struct server_config *cfg);
/* Applies one setting by its long flag name ("threads") or INI key ("threads" or
 * "max_body"). value is NULL for a flag without argument. Returns 0, or -1 with why. */
int config_apply(struct server_config *cfg, const char *name, const char *value, char *why,
                 size_t whylen);
/* Reads an INI file (keys at top level or in [quired]) into cfg. Returns 0, or -1 with
 * why naming the file, line and problem. */
int config_load(struct server_config *cfg, const char *path, char *why, size_t whylen);

#endif
