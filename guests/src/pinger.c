/*
 * pinger: measures the cost of one VM exit round trip by writing count times
 * (default 100000) to the platform PING port, then reports the average and exits 0.
 */
#include "ferry.h"

int main(const struct ferry_boot *boot)
{
    (void)boot;
    uint64_t count = param_u64("count", 100000);

    uint64_t start = rdtsc();
    for (uint64_t i = 0; i < count; i++)
        ferry_ping();
    uint64_t cycles = rdtsc() - start;

    print("pinger exits=%lu tsc_cycles=%lu ns_per_exit=%lu\n", count, cycles,
          count ? tsc_to_ns(cycles) / count : 0);
    return FERRY_EXIT_OK;
}
