#include "boot.h"
#include "platform.h"
#include "tsc.h"

/* Below this a VM exit costs more than it saves (one exit is 10-35 us here). */
#define SPIN_BELOW_US 20

uint64_t tsc_khz(void)
{
    return ferry_boot_info()->tsc_khz;
}

uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
    return a / c * b + a % c * b / c;
}

uint64_t tsc_to_ms(uint64_t cycles)
{
    return cycles / tsc_khz();
}

uint64_t tsc_to_us(uint64_t cycles)
{
    return muldiv64(cycles, 1000, tsc_khz());
}

uint64_t tsc_to_ns(uint64_t cycles)
{
    return muldiv64(cycles, 1000000, tsc_khz());
}

uint64_t ms_to_tsc(uint64_t ms)
{
    return ms * tsc_khz();
}

uint64_t us_to_tsc(uint64_t us)
{
    return muldiv64(us, tsc_khz(), 1000);
}

void sleep_until(uint64_t deadline)
{
    for (;;) {
        uint64_t now = rdtsc();
        if (!tsc_before(now, deadline))
            return;
        uint64_t left_us = tsc_to_us(deadline - now);
        if (left_us < SPIN_BELOW_US)
            break;
        idle_us(left_us > UINT32_MAX ? UINT32_MAX : (uint32_t)left_us);
    }
    while (tsc_before(rdtsc(), deadline))
        __asm__ volatile("pause");
}
