/*
 * reader: boots like an OS from its disk. It prints "reader up" first thing, then
 * reads the first boot_mib MiB of the virtio-blk disk (as a kernel and its early
 * userland would), prints a checksum of what it read, and idles, printing
 * "reader alive seq=N" every alive_ms (0: never).
 *
 * The checksum is FNV-1a over the little-endian 64-bit words of the bytes read:
 * h = 0xcbf29ce484222325; for each word w: h = (h ^ w) * 0x100000001b3.
 *
 * Disk throughput: with mode=throughput it reads the whole disk (or read_mib MiB of
 * it) sequentially, passes times (0: forever), and prints
 * "reader throughput pass=P bytes=B us=U mibs=M" after each pass. In the default
 * mode, a 't' received on the console (COM1) starts the same passes from the idle
 * loop, so a host can time the disk at a moment it chooses.
 */
#include "ferry.h"

#define MIB          ((uint64_t)1024 * 1024)
#define CHUNK        (256u * 1024u)
#define DEPTH        8u
#define UART_LSR     0x3FD
#define UART_RBR     0x3F8
#define LSR_DR       0x01

#define EXIT_NO_DISK 2
#define EXIT_IO      1

static struct blk disk;

static uint64_t fnv_words(uint64_t h, const uint64_t *w, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        h ^= w[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Reads bytes [0, len) of the disk in CHUNK requests, DEPTH in flight; folds them
 * into *sum when sum is not NULL. Returns the number of failed requests. */
static uint64_t read_range(uint64_t len, uint64_t *sum)
{
    enum { FREE, IN_FLIGHT, DONE };
    uint8_t *buf = (uint8_t *)((heap_start() + 4095) & ~4095ull);
    uint64_t off[DEPTH];
    int state[DEPTH];
    for (unsigned s = 0; s < DEPTH; s++)
        state[s] = FREE;

    /* Completions may come out of order; the checksum needs the bytes in order, so a
     * chunk is folded (and its slot freed) only when it is the next one. */
    uint64_t next = 0, fold = 0, errors = 0;
    unsigned in_flight = 0;
    while (fold < len) {
        bool queued = false;
        for (unsigned s = 0; s < DEPTH && next < len; s++) {
            if (state[s] != FREE)
                continue;
            uint32_t n = len - next < CHUNK ? (uint32_t)(len - next) : CHUNK;
            if (blk_submit(&disk, VIRTIO_BLK_T_IN, next / BLK_SECTOR, buf + (uint64_t)s * CHUNK, n, s) != 0)
                break;
            state[s] = IN_FLIGHT;
            off[s] = next;
            next += n;
            in_flight++;
            queued = true;
        }
        if (queued)
            blk_kick(&disk);

        struct blk_done done;
        if (in_flight > 0 && blk_wait(&disk, &done)) {
            do {
                in_flight--;
                if (done.status != VIRTIO_BLK_S_OK)
                    errors++;
                state[done.tag] = DONE;
            } while (blk_poll(&disk, &done));
        }
        for (bool progressed = true; progressed && fold < len;) {
            progressed = false;
            for (unsigned s = 0; s < DEPTH; s++) {
                if (state[s] == DONE && off[s] == fold) {
                    uint64_t n = len - fold < CHUNK ? len - fold : CHUNK;
                    if (sum)
                        *sum = fnv_words(*sum, (const uint64_t *)(buf + (uint64_t)s * CHUNK), n / 8);
                    fold += n;
                    state[s] = FREE;
                    progressed = true;
                }
            }
        }
    }
    return errors;
}

static void throughput(uint64_t len, uint64_t passes)
{
    for (uint64_t p = 1; passes == 0 || p <= passes; p++) {
        uint64_t t0 = rdtsc();
        uint64_t errors = read_range(len, NULL);
        uint64_t us = tsc_to_us(rdtsc() - t0);
        if (us == 0)
            us = 1;
        print("reader throughput pass=%lu bytes=%lu us=%lu mibs=%lu errors=%lu\n", p, len, us,
              len * 1000000 / MIB / us, errors);
    }
}

static int console_byte(void)
{
    if (!(inb(UART_LSR) & LSR_DR))
        return -1;
    return inb(UART_RBR);
}

int main(const struct ferry_boot *boot)
{
    (void)boot;
    print("reader up\n");
    uint64_t boot_mib = param_u64("boot_mib", 16);
    uint64_t alive_ms = param_u64("alive_ms", 1000);
    uint64_t passes = param_u64("passes", 3);
    uint64_t read_mib = param_u64("read_mib", 0);
    const char *mode = param_str("mode", "boot");

    int rc = blk_init(&disk, BLK_MMIO_BASE);
    if (rc != VIRTIO_OK) {
        print("reader: no usable virtio-blk device at 0x%lx: %s\n", BLK_MMIO_BASE, virtio_error_name(rc));
        return EXIT_NO_DISK;
    }
    uint64_t size = disk.capacity * BLK_SECTOR;
    uint64_t span = read_mib ? read_mib * MIB : size;
    if (span > size)
        span = size;
    uint64_t ram = ferry_boot_info()->regions[0].size;
    if (heap_start() + DEPTH * CHUNK + 4096 > ram) {
        print("reader: %lu bytes of RAM leave no room for %u KiB of buffers\n", ram, DEPTH * CHUNK / 1024);
        return FERRY_EXIT_BAD_CONFIG;
    }

    if (str_eq(mode, "throughput")) {
        throughput(span, passes);
        return FERRY_EXIT_OK;
    }

    uint64_t want = boot_mib * MIB;
    if (want > size)
        want = size;
    uint64_t t0 = rdtsc();
    uint64_t sum = 0xcbf29ce484222325ull;
    uint64_t errors = read_range(want, &sum);
    print("reader read=%lu bytes sum=%016lx ms=%lu errors=%lu\n", want, sum, tsc_to_ms(rdtsc() - t0), errors);
    if (errors)
        return EXIT_IO;

    uint64_t every = alive_ms ? ms_to_tsc(alive_ms) : 0;
    uint64_t next = rdtsc() + every;
    for (uint64_t seq = 0;;) {
        idle_us(10000);
        int c = console_byte();
        if (c == 't')
            throughput(span, passes);
        if (every && !tsc_before(rdtsc(), next)) {
            print("reader alive seq=%lu\n", seq++);
            next = rdtsc() + every;
        }
    }
}
