/*
 * failjson.c -- an LD_PRELOAD shim for tests/integration/limits.sh: json_dumps returns NULL
 * (as when out of memory) while the file named by $QUIRE_FAIL_JSON exists, so the test
 * can check that quired answers a 500 JSON error from its prepared body, never its status
 * with an empty body. json_dump_callback fails likewise, and so does realloc: quired writes
 * a response's JSON (lib/json_write.c) into a buffer of its own, the one user of realloc
 * on its request path.
 */
/* _GNU_SOURCE (RTLD_NEXT) comes from AM_CPPFLAGS. */
#include <dlfcn.h>
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

char *json_dumps(const json_t *json, size_t flags)
{
    const char *flag = getenv("QUIRE_FAIL_JSON");
    if (flag && access(flag, F_OK) == 0)
        return NULL;
    char *(*real)(const json_t *, size_t) =
        (char *(*)(const json_t *, size_t))dlsym(RTLD_NEXT, "json_dumps");
    return real ? real(json, flags) : NULL;
}

int json_dump_callback(const json_t *json, json_dump_callback_t callback, void *data,
                       size_t flags)
{
    const char *flag = getenv("QUIRE_FAIL_JSON");
    if (flag && access(flag, F_OK) == 0)
        return -1;
    int (*real)(const json_t *, json_dump_callback_t, void *, size_t) =
        (int (*)(const json_t *, json_dump_callback_t, void *, size_t))dlsym(RTLD_NEXT,
                                                                             "json_dump_callback");
    return real ? real(json, callback, data, flags) : -1;
}

void *realloc(void *p, size_t n)
{
    const char *flag = getenv("QUIRE_FAIL_JSON");
    if (flag && access(flag, F_OK) == 0)
        return NULL;
    static void *(*real)(void *, size_t);
    if (!real)
        real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    return real ? real(p, n) : NULL;
}
