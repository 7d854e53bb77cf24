/*
 * A polling virtio-blk driver (virtio 1.2, section 5.2) on the MMIO transport, for the
 * disk ABI.md places at 0xD000_0000. One request queue; several requests may be in
 * flight: blk_submit() queues, blk_kick() tells the device, blk_poll()/blk_wait()
 * collect completions. blk_read/blk_write/blk_flush do one request synchronously and
 * may only be called with nothing else in flight.
 */
#ifndef FERRY_VIRTIO_BLK_H
#define FERRY_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include "virtio_mmio.h"

#define BLK_MMIO_BASE 0xD0000000ul
#define BLK_SECTOR    512u

#define VIRTIO_ID_BLOCK     2
#define VIRTIO_BLK_F_FLUSH  9

/* Request types and status bytes (section 5.2.6). */
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

/* Driver-side results, apart from the device's status bytes. */
#define BLK_E_BUSY  (-1) /* no free descriptors: collect completions first */
#define BLK_E_USAGE (-2) /* a synchronous call while other requests are in flight */

/* The queue size the driver asks for; each request takes three descriptors. */
#define BLK_QUEUE_SIZE   64
#define BLK_MAX_IN_FLIGHT (BLK_QUEUE_SIZE / 3)

struct blk_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* What blk_submit needs to remember per request; indexed by the chain's head. */
struct blk_request {
    struct blk_header header; /* device-readable */
    uint8_t status;           /* device-writable */
    uint32_t tag;
};

struct blk_done {
    uint32_t tag;    /* as given to blk_submit */
    uint8_t status;  /* VIRTIO_BLK_S_* */
    uint32_t len;    /* bytes the device wrote, status byte included */
};

struct blk {
    /* Ring memory, page-aligned; a struct blk therefore belongs in static storage. */
    uint8_t rings[VIRTQ_RING_BYTES(BLK_QUEUE_SIZE)] __attribute__((aligned(4096)));
    struct virtio_mmio dev;
    struct virtq vq;
    uint64_t capacity;   /* 512-byte sectors */
    uint64_t features;   /* accepted */
    unsigned in_flight;
    unsigned max_in_flight;
    struct blk_request req[VIRTQ_MAX_SIZE];
};

/* Probes and initializes the device at base (section 3.1.1). Returns VIRTIO_OK or a
 * VIRTIO_E_* code; VIRTIO_E_NO_DEVICE means there is no disk. */
int blk_init(struct blk *b, uintptr_t base);

static inline bool blk_has_flush(const struct blk *b)
{
    return b->features & (1ull << VIRTIO_BLK_F_FLUSH);
}

/* Queues one request: `len` bytes at `buf` (a multiple of 512 for IN and OUT; 0 and
 * NULL for FLUSH), read into buf for IN and GET_ID, written from it for OUT. Returns 0
 * or BLK_E_BUSY. The device sees it at the next blk_kick(). */
int blk_submit(struct blk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len, uint32_t tag);

/* Tells the device about every request submitted since the last kick. */
void blk_kick(struct blk *b);

/* Takes one completion if there is one. Returns true and fills *done, or false. */
bool blk_poll(struct blk *b, struct blk_done *done);

/* Waits for one completion; there must be a request in flight (and kicked). Spins
 * first, then parks the vCPU in short idles. Returns false if nothing is in flight. */
bool blk_wait(struct blk *b, struct blk_done *done);

/* One request, waited for: the status byte (VIRTIO_BLK_S_*), or BLK_E_USAGE. */
int blk_read(struct blk *b, uint64_t sector, void *buf, uint32_t nsectors);
int blk_write(struct blk *b, uint64_t sector, const void *buf, uint32_t nsectors);
/* Without VIRTIO_BLK_F_FLUSH the device writes through, so this returns OK at once. */
int blk_flush(struct blk *b);

#endif
