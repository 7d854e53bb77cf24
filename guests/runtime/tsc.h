/*
 * Time from the TSC, whose frequency the VMM passes in the boot-info page.
 * Deadlines are TSC values; compare them with tsc_before() so a wrapped or
 * restored TSC cannot make a comparison lie.
 */
#ifndef FERRY_TSC_H
#define FERRY_TSC_H

#include <stdbool.h>
#include <stdint.h>

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline bool tsc_before(uint64_t a, uint64_t b)
{
    return (int64_t)(a - b) < 0;
}

uint64_t tsc_khz(void);

/* a * b / c, exact while b * c < 2^64. */
uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c);

uint64_t tsc_to_ms(uint64_t cycles);
uint64_t tsc_to_us(uint64_t cycles);
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t ms_to_tsc(uint64_t ms);
uint64_t us_to_tsc(uint64_t us);

/* Returns at or soon after deadline, parking the vCPU through the platform
 * IDLE_US port and spinning only for the last few microseconds. */
void sleep_until(uint64_t deadline);

#endif
