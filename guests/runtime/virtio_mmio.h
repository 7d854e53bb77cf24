/*
 * A virtio 1.x driver core for the MMIO transport (virtio 1.2, section 4.2, register
 * layout version 2) with split virtqueues (section 2.7), for guests that poll: no
 * interrupts, so every queue is set up with VIRTQ_AVAIL_F_NO_INTERRUPT and completions
 * are found by reading the used ring.
 *
 * All driver state (free descriptors, the next available index, the last used index
 * seen) lives in guest RAM, in struct virtq; the device learns of it only through the
 * rings and registers, so a restored guest and device agree on where they are.
 */
#ifndef FERRY_VIRTIO_MMIO_H
#define FERRY_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

/* Registers (section 4.2.2); the device takes aligned 32-bit accesses only. */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000
#define VIRTIO_MMIO_VERSION             0x004
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100

#define VIRTIO_MMIO_MAGIC   0x74726976u /* "virt" */
#define VIRTIO_MMIO_VERSION_MODERN 2u

/* Device status bits (section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        1u
#define VIRTIO_STATUS_DRIVER             2u
#define VIRTIO_STATUS_DRIVER_OK          4u
#define VIRTIO_STATUS_FEATURES_OK        8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED             128u

#define VIRTIO_F_VERSION_1 32

/* Results of the set-up calls: 0, or one of these. */
#define VIRTIO_OK             0
#define VIRTIO_E_NO_DEVICE   (-1) /* MagicValue is not "virt": nothing there */
#define VIRTIO_E_VERSION     (-2) /* a legacy (version 1) or unknown transport */
#define VIRTIO_E_DEVICE_ID   (-3) /* another kind of device */
#define VIRTIO_E_RESET       (-4) /* Status did not read back 0 after reset */
#define VIRTIO_E_FEATURES    (-5) /* a required feature is missing or FEATURES_OK was refused */
#define VIRTIO_E_QUEUE       (-6) /* the queue is absent, already live, or too small */

/* A message for one of the codes above. */
const char *virtio_error_name(int code);

struct virtio_mmio {
    uintptr_t base;
};

static inline uint32_t virtio_mmio_read(const struct virtio_mmio *dev, uint32_t reg)
{
    return *(volatile uint32_t *)(dev->base + reg);
}

static inline void virtio_mmio_write(const struct virtio_mmio *dev, uint32_t reg, uint32_t value)
{
    *(volatile uint32_t *)(dev->base + reg) = value;
}

/* Checks MagicValue, Version 2 and DeviceID at base; touches nothing else. */
int virtio_mmio_probe(struct virtio_mmio *dev, uintptr_t base, uint32_t device_id);

/* Section 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, then accepts the features of
 * `wanted` the device offers (VIRTIO_F_VERSION_1 is always required, `required` adds
 * more), sets FEATURES_OK and checks that it stuck. *accepted gets the features in
 * force. On failure the device is left with FAILED set. */
int virtio_mmio_negotiate(struct virtio_mmio *dev, uint64_t wanted, uint64_t required,
                          uint64_t *accepted);

/* Step 8: DRIVER_OK, after the queues are set up. */
void virtio_mmio_driver_ok(struct virtio_mmio *dev);

/* Tells the device the driver gave up (Status |= FAILED). */
void virtio_mmio_fail(struct virtio_mmio *dev);

/* Device configuration space, at 0x100 + offset. 64-bit fields are read as two 32-bit
 * halves, repeated until ConfigGeneration is the same before and after. */
uint32_t virtio_mmio_config32(const struct virtio_mmio *dev, uint32_t offset);
uint64_t virtio_mmio_config64(const struct virtio_mmio *dev, uint32_t offset);

/* Split virtqueues (section 2.7). */
#define VIRTQ_MAX_SIZE 256

#define VIRTQ_DESC_F_NEXT        1
#define VIRTQ_DESC_F_WRITE       2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY   1

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[]; /* size entries, then used_event (unused: no VIRTIO_F_EVENT_IDX) */
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[]; /* size entries, then avail_event */
};

/* Bytes of ring memory a queue of n entries needs: the descriptor table, the available
 * ring, then the used ring at the next 4-byte boundary. Give it page-aligned memory. */
#define VIRTQ_AVAIL_OFFSET(n) (16u * (n))
#define VIRTQ_USED_OFFSET(n)  ((VIRTQ_AVAIL_OFFSET(n) + 6u + 2u * (n) + 3u) & ~3u)
#define VIRTQ_RING_BYTES(n)   (VIRTQ_USED_OFFSET(n) + 6u + 8u * (n))

struct virtq {
    struct virtio_mmio *dev;
    uint16_t index;
    uint16_t size;                /* a power of 2 */
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t free_head;           /* first free descriptor; chained through free_next */
    uint16_t num_free;
    uint16_t next_avail;          /* the avail idx the next kick publishes */
    uint16_t published;           /* the avail idx last written to the ring */
    uint16_t last_used;           /* used idx up to which completions were taken */
    uint16_t free_next[VIRTQ_MAX_SIZE];
    uint16_t chain_len[VIRTQ_MAX_SIZE]; /* descriptors in the chain a head starts; 0 = free */
};

/* Section 4.2.3.2: selects queue `index`, checks it is not live, picks the largest
 * power of 2 <= min(want, QueueNumMax), zeroes ring memory `mem` (VIRTQ_RING_BYTES of
 * that size, page-aligned, guest RAM), hands the rings to the device and sets
 * QueueReady. The driver asks for no interrupts. */
int virtq_setup(struct virtq *q, struct virtio_mmio *dev, uint16_t index, void *mem, uint16_t want);

/* One buffer of a chain: device-readable, or device-writable when `device_writes`. */
struct virtq_buf {
    const void *addr;
    uint32_t len;
    bool device_writes;
};

/* Puts a chain of n buffers (readable ones first) in the available ring without telling
 * the device yet. Returns the head descriptor's index, or -1 when fewer than n
 * descriptors are free. */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n);

/* Publishes every chain added since the last kick (barrier, then avail idx) and writes
 * QueueNotify unless the device asked not to be notified. */
void virtq_kick(struct virtq *q);

/* Takes the next completed chain from the used ring: returns its head and stores the
 * bytes the device wrote in *len; returns -1 when none is ready yet, or -2 (after
 * printing why) when the device returned a descriptor that was not in flight. */
int virtq_get_used(struct virtq *q, uint32_t *len);

/* Descriptors not in any chain in flight. */
static inline unsigned virtq_num_free(const struct virtq *q)
{
    return q->num_free;
}

#endif
