#include <stdbool.h>
#include "boot.h"
#include "params.h"
#include "platform.h"
#include "print.h"
#include "status.h"
#include "str.h"

#define MAX_PARAMS 64

static char store[FERRY_ARGS_SIZE];
static const char *keys[MAX_PARAMS];
static const char *values[MAX_PARAMS];
static int count;

void params_init(const char *args)
{
    size_t n = 0;
    while (n < sizeof(store) - 1 && args[n]) {
        store[n] = args[n];
        n++;
    }
    store[n] = '\0';

    char *p = store;
    while (*p) {
        if (*p == ' ') {
            *p++ = '\0';
            continue;
        }
        char *key = p, *value = NULL;
        for (; *p && *p != ' '; p++)
            if (*p == '=' && !value) {
                *p = '\0';
                value = p + 1;
            }
        if (count == MAX_PARAMS) {
            print("ferry runtime: more than %d boot parameters, ignoring %s\n", MAX_PARAMS, key);
            continue;
        }
        keys[count] = key;
        values[count] = value ? value : p;
        count++;
    }
}

const char *param_str(const char *name, const char *def)
{
    for (int i = count - 1; i >= 0; i--)
        if (str_eq(keys[i], name))
            return values[i];
    return def;
}

static int digit_value(char c, unsigned base)
{
    int d = -1;
    if (c >= '0' && c <= '9')
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    return d >= 0 && (unsigned)d < base ? d : -1;
}

uint64_t param_u64(const char *name, uint64_t def)
{
    const char *text = param_str(name, NULL);
    if (!text)
        return def;

    unsigned base = 10;
    const char *p = text;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    uint64_t value = 0;
    bool ok = *p != '\0';
    for (; ok && *p; p++) {
        int d = digit_value(*p, base);
        if (d < 0 || value > (UINT64_MAX - (uint64_t)d) / base)
            ok = false;
        else
            value = value * base + (uint64_t)d;
    }
    if (!ok) {
        print("ferry runtime: boot parameter %s=%s is not a number "
              "(decimal, or hexadecimal with 0x, below 2^64)\n", name, text);
        ferry_exit(FERRY_EXIT_BAD_CONFIG);
    }
    return value;
}
