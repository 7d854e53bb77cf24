/* The boot-info page the VMM writes before entry (ABI.md, "Boot-info page"). */
#ifndef FERRY_BOOT_H
#define FERRY_BOOT_H

#include <stddef.h>
#include <stdint.h>

#define FERRY_BOOT_MAGIC   0x59525246u /* "FRRY" */
#define FERRY_ABI_VERSION  1u
#define FERRY_MAX_REGIONS  4
#define FERRY_ARGS_SIZE    2048

struct ferry_region {
    uint64_t base;
    uint64_t size;
};

struct ferry_boot {
    uint32_t magic;
    uint32_t version;
    uint64_t tsc_khz;
    uint64_t ram_size;
    uint32_t nregions;
    uint32_t reserved;
    struct ferry_region regions[FERRY_MAX_REGIONS];
    uint8_t unused[256 - 96];
    char args[FERRY_ARGS_SIZE];
};

_Static_assert(offsetof(struct ferry_boot, tsc_khz) == 8, "ABI offset");
_Static_assert(offsetof(struct ferry_boot, nregions) == 24, "ABI offset");
_Static_assert(offsetof(struct ferry_boot, regions) == 32, "ABI offset");
_Static_assert(offsetof(struct ferry_boot, args) == 256, "ABI offset");

/* The page handed to _start; valid once main runs. */
const struct ferry_boot *ferry_boot_info(void);

#endif
