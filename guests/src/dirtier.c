/*
 * dirtier: keeps a working set of `workset` MiB (default 64) dirty, walking it page
 * by page in a cycle, `rate` pages per second (default 0 = as fast as it can).
 * mode=word writes one 8-byte word per page; mode=page writes all of it with
 * 8-byte stores, so its MB/s is the guest's memory write bandwidth. Every
 * `report_ms` (default 1000) it prints the rate achieved over that interval; after
 * `seconds` (default 0 = never) it exits 0.
 */
#include <stdbool.h>
#include "ferry.h"

#define MIB          (1024ul * 1024)
#define PAGE_SIZE    4096ul
#define PAGE_WORDS   (PAGE_SIZE / sizeof(uint64_t))
#define SET_ALIGN    (2 * MIB)
#define FREE_BATCH   256  /* pages between clock checks when not rate-limited */
#define PACED_BATCHES_PER_S 100
#define MAX_PACED_BATCH 4096
#define MAX_LAG_MS   100  /* further behind than this, the schedule restarts */

struct workset {
    volatile uint64_t *base;
    uint64_t pages;
    uint64_t cursor;
    bool whole_page;
};

static void dirty_pages(struct workset *ws, uint64_t n, uint64_t stamp)
{
    for (uint64_t i = 0; i < n; i++) {
        volatile uint64_t *page = ws->base + ws->cursor * PAGE_WORDS;
        if (ws->whole_page) {
            for (uint64_t w = 0; w < PAGE_WORDS; w++)
                page[w] = stamp + i;
        } else {
            page[0] = stamp + i;
        }
        if (++ws->cursor == ws->pages)
            ws->cursor = 0;
    }
}

/* Places the working set at the first 2 MiB boundary after the image; 0 if it
 * does not fit in RAM region 0. */
static uint64_t place(const struct ferry_boot *boot, uint64_t workset_mib)
{
    uint64_t base = (heap_start() + SET_ALIGN - 1) & ~(SET_ALIGN - 1);
    uint64_t end = boot->regions[0].base + boot->regions[0].size;
    if (workset_mib == 0 || base >= end || workset_mib > (end - base) / MIB) {
        print("dirtier: a working set of %lu MiB at 0x%lx does not fit in RAM region 0 "
              "[0x%lx, 0x%lx); give a smaller workset or more RAM\n",
              workset_mib, base, boot->regions[0].base, end);
        return 0;
    }
    return base;
}

static void report(uint64_t pages, uint64_t cycles, uint64_t total)
{
    uint64_t us = tsc_to_us(cycles);
    uint64_t per_s = us ? muldiv64(pages, 1000000, us) : 0;
    print("dirtier pages_per_s=%lu mb_per_s=%lu total_pages=%lu\n", per_s,
          per_s * PAGE_SIZE / 1000000, total);
}

int main(const struct ferry_boot *boot)
{
    uint64_t workset_mib = param_u64("workset", 64);
    uint64_t rate = param_u64("rate", 0);
    uint64_t report_every = ms_to_tsc(param_u64("report_ms", 1000));
    uint64_t seconds = param_u64("seconds", 0);
    const char *mode = param_str("mode", "word");
    bool whole_page = str_eq(mode, "page");

    if (!whole_page && !str_eq(mode, "word")) {
        print("dirtier: mode=%s is not word or page\n", mode);
        return FERRY_EXIT_BAD_CONFIG;
    }
    uint64_t base = place(boot, workset_mib);
    if (!base)
        return FERRY_EXIT_BAD_CONFIG;

    struct workset ws = {
        .base = (volatile uint64_t *)base,
        .pages = workset_mib * MIB / PAGE_SIZE,
        .whole_page = whole_page,
    };
    print("dirtier workset_mib=%lu base=0x%lx mode=%s rate=%lu\n", workset_mib, base, mode, rate);

    uint64_t hz = tsc_khz() * 1000;
    uint64_t batch = FREE_BATCH;
    if (rate) {
        batch = rate / PACED_BATCHES_PER_S;
        batch = batch < 1 ? 1 : batch > MAX_PACED_BATCH ? MAX_PACED_BATCH : batch;
    }
    uint64_t start = rdtsc();
    uint64_t total = 0;
    uint64_t report_at = start, report_total = 0;
    uint64_t pace_at = start, pace_total = 0;

    for (;;) {
        dirty_pages(&ws, batch, total + 1);
        total += batch;
        uint64_t now = rdtsc();

        if (rate) {
            uint64_t due = pace_at + muldiv64(total - pace_total, hz, rate);
            if (tsc_before(now, due)) {
                sleep_until(due);
                now = rdtsc();
            } else if (now - due > ms_to_tsc(MAX_LAG_MS)) {
                pace_at = now;
                pace_total = total;
            }
        }
        if (now - report_at >= report_every) {
            report(total - report_total, now - report_at, total);
            report_at = now;
            report_total = total;
        }
        if (seconds && now - start >= seconds * hz)
            return FERRY_EXIT_OK;
    }
}
