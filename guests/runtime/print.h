/*
 * Formatted console output. Supports %d %i %u %x %X %c %s %p %% with the length
 * modifiers l, ll and z, a width, and the flags '0' (zero padding) and '-'
 * (left-justify): enough for "%016llx" or "%-8s". No floating point.
 */
#ifndef FERRY_PRINT_H
#define FERRY_PRINT_H

#include <stdarg.h>

void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprint(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
