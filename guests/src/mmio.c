/*
 * mmio: touches the MMIO hole with accesses of each width so a VMM's MMIO exit
 * path can be checked: a 32-bit store and load, then an 8-bit and a 64-bit store.
 */
#include "ferry.h"

#define MMIO_BASE 0xD0000000ul

int main(const struct ferry_boot *boot)
{
    (void)boot;
    *(volatile uint32_t *)(MMIO_BASE + 0x0) = 0xC0FFEE01u;
    uint32_t value = *(volatile uint32_t *)(MMIO_BASE + 0x4);
    print("mmio read=0x%x\n", value);
    *(volatile uint8_t *)(MMIO_BASE + 0x10) = 0xA5;
    *(volatile uint64_t *)(MMIO_BASE + 0x10) = 0x1122334455667788ull;
    return FERRY_EXIT_OK;
}
