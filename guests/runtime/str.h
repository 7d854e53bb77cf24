/* NUL-terminated string helpers (the runtime has no libc). */
#ifndef FERRY_STR_H
#define FERRY_STR_H

#include <stdbool.h>
#include <stddef.h>

size_t str_len(const char *s);
bool str_eq(const char *a, const char *b);

#endif
