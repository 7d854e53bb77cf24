#include <stddef.h>
#include "virtio_blk.h"
#include "platform.h"
#include "print.h"

#define CONFIG_CAPACITY 0x00

/* Before parking the vCPU, poll this many times: a device that works in another
 * thread usually answers within a few microseconds, and one idle is a VM exit. */
#define SPIN_POLLS 4096
#define IDLE_US    20
/* After this many idles without a completion (>= 5 s), say so once. */
#define IDLES_BEFORE_COMPLAINT 250000u

/* A status the device never writes: it shows a completion that left the byte alone. */
#define STATUS_UNSET 0xff

int blk_init(struct blk *b, uintptr_t base)
{
    b->in_flight = 0;
    int rc = virtio_mmio_probe(&b->dev, base, VIRTIO_ID_BLOCK);
    if (rc != VIRTIO_OK)
        return rc;
    rc = virtio_mmio_negotiate(&b->dev, 1ull << VIRTIO_BLK_F_FLUSH, 0, &b->features);
    if (rc != VIRTIO_OK)
        return rc;
    rc = virtq_setup(&b->vq, &b->dev, 0, b->rings, BLK_QUEUE_SIZE);
    if (rc != VIRTIO_OK || b->vq.size < 3) {
        virtio_mmio_fail(&b->dev);
        return VIRTIO_E_QUEUE;
    }
    b->max_in_flight = b->vq.size / 3;
    b->capacity = virtio_mmio_config64(&b->dev, CONFIG_CAPACITY);
    virtio_mmio_driver_ok(&b->dev);
    return VIRTIO_OK;
}

int blk_submit(struct blk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len, uint32_t tag)
{
    /* The head is only known once the chain is in the ring, so fill the request block
     * of the descriptor that will be the head: the first free one. */
    if (virtq_num_free(&b->vq) < (len ? 3u : 2u))
        return BLK_E_BUSY;
    struct blk_request *r = &b->req[b->vq.free_head];
    r->header = (struct blk_header){ .type = type, .reserved = 0, .sector = sector };
    r->status = STATUS_UNSET;
    r->tag = tag;

    struct virtq_buf bufs[3];
    unsigned n = 0;
    bufs[n++] = (struct virtq_buf){ &r->header, sizeof(r->header), false };
    if (len)
        bufs[n++] = (struct virtq_buf){ buf, len, type != VIRTIO_BLK_T_OUT };
    bufs[n++] = (struct virtq_buf){ &r->status, 1, true };
    if (virtq_add(&b->vq, bufs, n) < 0)
        return BLK_E_BUSY;
    b->in_flight++;
    return 0;
}

void blk_kick(struct blk *b)
{
    virtq_kick(&b->vq);
}

bool blk_poll(struct blk *b, struct blk_done *done)
{
    for (;;) {
        uint32_t len;
        int head = virtq_get_used(&b->vq, &len);
        if (head == -1)
            return false;
        if (head < 0)
            continue; /* a bogus used entry, reported by virtq_get_used */
        struct blk_request *r = &b->req[head];
        done->tag = r->tag;
        done->status = *(volatile uint8_t *)&r->status;
        done->len = len;
        b->in_flight--;
        return true;
    }
}

bool blk_wait(struct blk *b, struct blk_done *done)
{
    if (b->in_flight == 0)
        return false;
    for (int i = 0; i < SPIN_POLLS; i++) {
        if (blk_poll(b, done))
            return true;
        __asm__ volatile("pause");
    }
    for (uint32_t idles = 1;; idles++) {
        if (blk_poll(b, done))
            return true;
        idle_us(IDLE_US);
        if (idles == IDLES_BEFORE_COMPLAINT)
            print("virtio-blk: no completion after %u idles of %u us: %u requests in flight, "
                  "avail idx %u, used idx %u, device status 0x%x\n",
                  idles, IDLE_US, b->in_flight, b->vq.published, b->vq.used->idx,
                  virtio_mmio_read(&b->dev, VIRTIO_MMIO_STATUS));
    }
}

static int one_request(struct blk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
    if (b->in_flight != 0)
        return BLK_E_USAGE;
    if (blk_submit(b, type, sector, buf, len, 0) != 0)
        return BLK_E_BUSY;
    blk_kick(b);
    struct blk_done done;
    blk_wait(b, &done);
    return done.status;
}

int blk_read(struct blk *b, uint64_t sector, void *buf, uint32_t nsectors)
{
    return one_request(b, VIRTIO_BLK_T_IN, sector, buf, nsectors * BLK_SECTOR);
}

int blk_write(struct blk *b, uint64_t sector, const void *buf, uint32_t nsectors)
{
    /* Device-readable: the device does not write through this pointer. */
    return one_request(b, VIRTIO_BLK_T_OUT, sector, (void *)(uintptr_t)buf, nsectors * BLK_SECTOR);
}

int blk_flush(struct blk *b)
{
    if (!blk_has_flush(b))
        return VIRTIO_BLK_S_OK;
    return one_request(b, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
}
