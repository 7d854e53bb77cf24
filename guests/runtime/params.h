/*
 * Boot parameters: the boot-info argument string "k=v k=v" (ABI.md), split once at
 * start-up. A key given twice takes its last value; a word without '=' has the
 * value "".
 */
#ifndef FERRY_PARAMS_H
#define FERRY_PARAMS_H

#include <stdint.h>

void params_init(const char *args);

/* The value of name, or def when it was not given. */
const char *param_str(const char *name, const char *def);

/* The value of name as a decimal or 0x-prefixed hexadecimal number, or def when it
 * was not given. A value that is not such a number ends the guest (exit code 2). */
uint64_t param_u64(const char *name, uint64_t def);

#endif
