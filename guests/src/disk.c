/*
 * disk: writes and verifies records on the virtio-blk disk (ABI.md, "Devices in the
 * MMIO hole"), so whoever runs it can tell whether writes were lost, torn, reordered or
 * corrupted, also across a pause, a restore or a migration.
 *
 * Record i is sector i. Pass p writes every record with generation p (keeping `depth`
 * requests in flight), flushes, then reads every record back and checks it. Before
 * pass p overwrites anything it checks that the disk still holds pass p-1; at start-up
 * it finds the generation already on the disk and goes on from there, so a second run
 * on the same image (or a restored guest) checks what the first one left.
 */
#include "ferry.h"

#define RECORD_MAGIC  0x4b53494459525246ull /* "FRRYDISK" */
#define PAYLOAD_WORDS 59
#define RECORD_WORDS  64
/* At start-up, how many records to read looking for one that says which pass wrote
 * the disk; a disk with no valid record among them is taken as blank. */
#define DETECT_RECORDS 64

#define EXIT_ERRORS  1
#define EXIT_NO_DISK 2

struct record {
    uint64_t magic;
    uint64_t index;
    uint64_t generation; /* the pass that wrote it */
    uint64_t count;      /* records that pass wrote */
    uint64_t payload[PAYLOAD_WORDS];
    uint64_t checksum;   /* of the 63 words above */
};
_Static_assert(sizeof(struct record) == BLK_SECTOR, "a record is one sector");

enum phase { WRITE, CHECK };

static struct blk disk;
static struct record slots[BLK_MAX_IN_FLIGHT];
static uint64_t slot_record[BLK_MAX_IN_FLIGHT];

static struct {
    unsigned depth;
    uint64_t report_every; /* TSC cycles; 0 = only at the end of each pass */
    uint64_t next_report;
    uint64_t pass;
    uint64_t written;
    uint64_t verified;
    uint64_t errors;
} run;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t record_checksum(const struct record *r)
{
    const uint64_t *w = (const uint64_t *)r;
    uint64_t h = 0x6a09e667f3bcc909ull;
    for (int i = 0; i < RECORD_WORDS - 1; i++)
        h = mix64(h ^ w[i]) + (uint64_t)i;
    return h;
}

/* Record `index` as pass `generation` writes it; generation 0 is a blank sector. */
static void make_record(struct record *r, uint64_t index, uint64_t generation, uint64_t count)
{
    if (generation == 0) {
        memset(r, 0, sizeof(*r));
        return;
    }
    r->magic = RECORD_MAGIC;
    r->index = index;
    r->generation = generation;
    r->count = count;
    uint64_t seed = mix64(index * 0x9e3779b97f4a7c15ull + mix64(generation));
    for (int w = 0; w < PAYLOAD_WORDS; w++)
        r->payload[w] = mix64(seed + (uint64_t)w);
    r->checksum = record_checksum(r);
}

static void report(void)
{
    print("disk pass=%lu written=%lu verified=%lu errors=%lu\n",
          run.pass, run.written, run.verified, run.errors);
}

static void maybe_report(void)
{
    if (!run.report_every)
        return;
    uint64_t now = rdtsc();
    if (tsc_before(now, run.next_report))
        return;
    report();
    run.next_report = now + run.report_every;
}

static void error_dec(uint64_t index, const char *what, uint64_t expected, uint64_t got)
{
    run.errors++;
    print("disk ERROR record=%lu %s expected=%lu got=%lu\n", index, what, expected, got);
}

static void error_hex(uint64_t index, const char *what, uint64_t expected, uint64_t got)
{
    run.errors++;
    print("disk ERROR record=%lu %s expected=0x%016lx got=0x%016lx\n", index, what, expected, got);
}

static bool is_zero(const struct record *r)
{
    const uint64_t *w = (const uint64_t *)r;
    for (int i = 0; i < RECORD_WORDS; i++)
        if (w[i])
            return false;
    return true;
}

/* A sector of which some words are from `want` and the others from `old`. */
static bool is_torn(const struct record *r, const struct record *want, const struct record *old)
{
    const uint64_t *w = (const uint64_t *)r, *n = (const uint64_t *)want, *o = (const uint64_t *)old;
    int only_new = 0, only_old = 0;
    for (int i = 0; i < RECORD_WORDS; i++) {
        if (w[i] != n[i] && w[i] != o[i])
            return false;
        only_new += w[i] == n[i] && w[i] != o[i];
        only_old += w[i] == o[i] && w[i] != n[i];
    }
    return only_new > 0 && only_old > 0;
}

/* Checks record `index` read with status `status` against generation `gen` of a pass
 * that wrote `count` records; reports the first thing wrong with it. */
static void verify(uint64_t index, const struct record *r, int status, uint64_t gen, uint64_t count)
{
    run.verified++;
    if (status != VIRTIO_BLK_S_OK) {
        error_dec(index, "io_status", VIRTIO_BLK_S_OK, (uint64_t)status);
        return;
    }
    struct record want, old;
    make_record(&want, index, gen, count);
    if (memcmp(r, &want, sizeof(want)) == 0)
        return;
    make_record(&old, index, gen - 1, count);

    uint64_t sum = record_checksum(r);
    if (is_zero(r))
        error_dec(index, "lost_write", gen, 0);
    else if (is_torn(r, &want, &old))
        error_dec(index, "torn_write", gen, gen - 1);
    else if (r->magic != RECORD_MAGIC)
        error_hex(index, "magic", RECORD_MAGIC, r->magic);
    else if (r->checksum != sum)
        error_hex(index, "checksum", sum, r->checksum);
    else if (r->index != index)
        error_dec(index, "index", index, r->index);
    else if (r->generation != gen)
        error_dec(index, r->generation == gen - 1 ? "lost_write" : "generation", gen, r->generation);
    else if (r->count != count)
        error_dec(index, "count", count, r->count);
    else {
        int w = 0;
        while (w < PAYLOAD_WORDS - 1 && r->payload[w] == want.payload[w])
            w++;
        error_hex(index, "payload", want.payload[w], r->payload[w]);
    }
}

static void complete(enum phase phase, const struct blk_done *done, uint64_t gen, uint64_t count)
{
    uint64_t index = slot_record[done->tag];
    if (phase == CHECK) {
        verify(index, &slots[done->tag], done->status, gen, count);
    } else if (done->status != VIRTIO_BLK_S_OK) {
        error_dec(index, "write_status", VIRTIO_BLK_S_OK, done->status);
    } else {
        run.written++;
    }
}

/* Writes records [0, n) as generation gen of a pass of `count` records, or reads them
 * back and checks them against it, with up to run.depth requests in flight. */
static void run_phase(enum phase phase, uint64_t n, uint64_t gen, uint64_t count)
{
    unsigned free_slots[BLK_MAX_IN_FLIGHT], nfree = 0;
    for (unsigned s = 0; s < run.depth; s++)
        free_slots[nfree++] = s;

    uint64_t next = 0;
    while (next < n || nfree < run.depth) {
        bool queued = false;
        while (next < n && nfree > 0) {
            unsigned s = free_slots[nfree - 1];
            if (phase == WRITE)
                make_record(&slots[s], next, gen, count);
            else
                memset(&slots[s], 0, sizeof(slots[s])); /* a read that moves no data shows */
            uint32_t type = phase == WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
            if (blk_submit(&disk, type, next, &slots[s], BLK_SECTOR, s) != 0)
                break; /* cannot happen: depth <= disk.max_in_flight */
            nfree--;
            slot_record[s] = next++;
            queued = true;
        }
        if (queued)
            blk_kick(&disk);

        struct blk_done done;
        if (!blk_wait(&disk, &done))
            break;
        do {
            complete(phase, &done, gen, count);
            free_slots[nfree++] = done.tag;
        } while (blk_poll(&disk, &done));
        maybe_report();
    }
}

/* Reads records from the start of the disk until one is valid and returns its
 * generation and count; 0 when none is (a blank disk, or not one of ours). */
static uint64_t detect_generation(uint64_t records, uint64_t *count)
{
    uint64_t limit = records < DETECT_RECORDS ? records : DETECT_RECORDS;
    bool blank = true;
    for (uint64_t i = 0; i < limit; i++) {
        struct record *r = &slots[0];
        int status = blk_read(&disk, i, r, 1);
        if (status != VIRTIO_BLK_S_OK) {
            error_dec(i, "io_status", VIRTIO_BLK_S_OK, (uint64_t)status);
            continue;
        }
        if (r->magic == RECORD_MAGIC && r->index == i && r->generation != 0 &&
            r->checksum == record_checksum(r)) {
            if (i > 0)
                print("disk: record 0 is not valid; record %lu is\n", i);
            *count = r->count;
            return r->generation;
        }
        blank = blank && is_zero(r);
    }
    if (blank)
        print("disk: the disk is blank\n");
    else
        print("disk: no valid record among the first %lu sectors; treating the disk as blank\n",
              limit);
    return 0;
}

static uint64_t per_second(uint64_t n, uint64_t cycles)
{
    uint64_t us = tsc_to_us(cycles);
    return n * 1000000 / (us ? us : 1);
}

int main(const struct ferry_boot *boot)
{
    (void)boot;
    uint64_t records = param_u64("records", 256);
    uint64_t passes = param_u64("passes", 0);
    uint64_t depth = param_u64("depth", 4);
    uint64_t report_ms = param_u64("report_ms", 500);
    uint64_t pause_ms = param_u64("pause_ms", 0);
    if (records == 0 || depth == 0) {
        print("disk: records and depth must be at least 1 (records=%lu depth=%lu)\n", records, depth);
        return FERRY_EXIT_BAD_CONFIG;
    }

    int rc = blk_init(&disk, BLK_MMIO_BASE);
    if (rc == VIRTIO_E_NO_DEVICE) {
        print("disk: no virtio-blk device at 0x%lx\n", BLK_MMIO_BASE);
        return EXIT_NO_DISK;
    }
    if (rc != VIRTIO_OK) {
        print("disk: the virtio-blk device at 0x%lx is unusable: %s\n", BLK_MMIO_BASE,
              virtio_error_name(rc));
        return EXIT_NO_DISK;
    }
    if (disk.capacity == 0) {
        print("disk: the disk has no sectors\n");
        return EXIT_NO_DISK;
    }
    if (records > disk.capacity) {
        print("disk: records=%lu does not fit the disk's %lu sectors; using records=%lu\n",
              records, disk.capacity, disk.capacity);
        records = disk.capacity;
    }
    if (depth > disk.max_in_flight) {
        print("disk: depth=%lu is more than the queue holds; using depth=%u\n", depth,
              disk.max_in_flight);
        depth = disk.max_in_flight;
    }
    run.depth = (unsigned)depth;
    run.report_every = ms_to_tsc(report_ms);
    run.next_report = rdtsc() + run.report_every;
    print("disk records=%lu depth=%u passes=%lu capacity=%lu flush=%s queue=%u\n", records,
          run.depth, passes, disk.capacity, blk_has_flush(&disk) ? "yes" : "no", disk.vq.size);

    uint64_t prev_count = 0;
    uint64_t prev = detect_generation(records, &prev_count);
    if (prev)
        print("disk: found generation %lu (%lu records) on the disk; checking it, then pass %lu\n",
              prev, prev_count, prev + 1);

    for (uint64_t done = 0; passes == 0 || done < passes; done++) {
        uint64_t p = prev + 1;
        run.pass = p;
        if (prev)
            run_phase(CHECK, records < prev_count ? records : prev_count, prev, prev_count);

        uint64_t t0 = rdtsc();
        run_phase(WRITE, records, p, records);
        int status = blk_flush(&disk);
        if (status != VIRTIO_BLK_S_OK) {
            run.errors++;
            print("disk ERROR record=all flush_status expected=0 got=%d\n", status);
        }
        uint64_t t1 = rdtsc();
        run_phase(CHECK, records, p, records);
        uint64_t t2 = rdtsc();

        report();
        print("disk rate pass=%lu written_per_s=%lu verified_per_s=%lu\n", p,
              per_second(records, t1 - t0), per_second(records, t2 - t1));
        run.next_report = rdtsc() + run.report_every;
        prev = p;
        prev_count = records;
        if (pause_ms && (passes == 0 || done + 1 < passes))
            sleep_until(rdtsc() + ms_to_tsc(pause_ms));
    }
    return run.errors ? EXIT_ERRORS : FERRY_EXIT_OK;
}
