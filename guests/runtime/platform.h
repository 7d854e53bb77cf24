/* The Ferry platform device (ABI.md, ports 0x500..0x508): idle, exit, ping. */
#ifndef FERRY_PLATFORM_H
#define FERRY_PLATFORM_H

#include <stdint.h>
#include "portio.h"

#define FERRY_PORT_IDLE_US 0x500
#define FERRY_PORT_EXIT    0x504
#define FERRY_PORT_PING    0x508

/* Parks the vCPU for at most us microseconds; the VMM may wake it earlier. */
static inline void idle_us(uint32_t us)
{
    outl(FERRY_PORT_IDLE_US, us);
}

static inline void ferry_ping(void)
{
    outl(FERRY_PORT_PING, 0);
}

/* Stops the VM with this exit code (0 = success). */
static inline __attribute__((noreturn)) void ferry_exit(uint32_t code)
{
    for (;;)
        outl(FERRY_PORT_EXIT, code);
}

#endif
