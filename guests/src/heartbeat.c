/*
 * heartbeat: one line every interval_ms (default 250) with a sequence number, the
 * TSC and a checksum of 64 KiB of guest memory, so whoever watches the console can
 * tell that a paused, restored or migrated guest goes on where it left off.
 * Each beat changes one word of the region before summing it, so the sum printed
 * with seq=n depends only on n. After count beats (0 = forever) it exits 0.
 */
#include "ferry.h"

#define REGION_BYTES (64 * 1024)
#define REGION_WORDS (REGION_BYTES / sizeof(uint64_t))

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int main(const struct ferry_boot *boot)
{
    (void)boot;
    uint64_t interval = ms_to_tsc(param_u64("interval_ms", 250));
    uint64_t count = param_u64("count", 0);
    uint64_t *region = (uint64_t *)heap_start();

    for (size_t i = 0; i < REGION_WORDS; i++)
        region[i] = (i + 1) * 0x9e3779b97f4a7c15ull;

    uint64_t next = rdtsc();
    for (uint64_t seq = 0; count == 0 || seq < count; seq++) {
        sleep_until(next);
        uint64_t t = rdtsc();
        region[seq % REGION_WORDS] += seq + 1;
        print("heartbeat seq=%lu tsc=%lu sum=%016lx\n", seq, t,
              fnv1a64((const uint8_t *)region, REGION_BYTES));

        /* Keep the cadence, but after a pause (or a TSC that moved backwards on
         * restore) start again from now instead of catching up in a burst. */
        next += interval;
        uint64_t now = rdtsc();
        if (tsc_before(next, now) || tsc_before(now + interval, next))
            next = now + interval;
    }
    return FERRY_EXIT_OK;
}
