#include "virtio_mmio.h"
#include "mem.h"
#include "print.h"

/* A reset completes at once on the devices Ferry knows; reading Status back a few
 * times is how the specification asks a driver to wait for it. */
#define RESET_POLLS 1000

const char *virtio_error_name(int code)
{
    switch (code) {
    case VIRTIO_OK:          return "ok";
    case VIRTIO_E_NO_DEVICE: return "no virtio-mmio device (MagicValue is not 0x74726976)";
    case VIRTIO_E_VERSION:   return "not a virtio 1.x MMIO transport (Version is not 2)";
    case VIRTIO_E_DEVICE_ID: return "another kind of virtio device (DeviceID differs)";
    case VIRTIO_E_RESET:     return "the device did not reset (Status did not read back 0)";
    case VIRTIO_E_FEATURES:  return "feature negotiation failed (a required feature is missing "
                                    "or FEATURES_OK was refused)";
    case VIRTIO_E_QUEUE:     return "the queue is absent, already live or unusable";
    default:                 return "unknown virtio error";
    }
}

int virtio_mmio_probe(struct virtio_mmio *dev, uintptr_t base, uint32_t device_id)
{
    dev->base = base;
    if (virtio_mmio_read(dev, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
        return VIRTIO_E_NO_DEVICE;
    if (virtio_mmio_read(dev, VIRTIO_MMIO_VERSION) != VIRTIO_MMIO_VERSION_MODERN)
        return VIRTIO_E_VERSION;
    if (virtio_mmio_read(dev, VIRTIO_MMIO_DEVICE_ID) != device_id)
        return VIRTIO_E_DEVICE_ID;
    return VIRTIO_OK;
}

static void add_status(struct virtio_mmio *dev, uint32_t bits)
{
    uint32_t status = virtio_mmio_read(dev, VIRTIO_MMIO_STATUS);
    virtio_mmio_write(dev, VIRTIO_MMIO_STATUS, status | bits);
}

void virtio_mmio_fail(struct virtio_mmio *dev)
{
    add_status(dev, VIRTIO_STATUS_FAILED);
}

static int fail_with(struct virtio_mmio *dev, int code)
{
    virtio_mmio_fail(dev);
    return code;
}

static uint64_t read_features(const struct virtio_mmio *dev)
{
    virtio_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t low = virtio_mmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    virtio_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint64_t high = virtio_mmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    return high << 32 | low;
}

static void write_features(const struct virtio_mmio *dev, uint64_t features)
{
    virtio_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    virtio_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    virtio_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    virtio_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
}

int virtio_mmio_negotiate(struct virtio_mmio *dev, uint64_t wanted, uint64_t required,
                          uint64_t *accepted)
{
    virtio_mmio_write(dev, VIRTIO_MMIO_STATUS, 0);
    int polls = 0;
    while (virtio_mmio_read(dev, VIRTIO_MMIO_STATUS) != 0)
        if (++polls == RESET_POLLS)
            return fail_with(dev, VIRTIO_E_RESET);
    add_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(dev, VIRTIO_STATUS_DRIVER);

    required |= 1ull << VIRTIO_F_VERSION_1;
    wanted |= required;
    uint64_t offered = read_features(dev);
    if ((offered & required) != required)
        return fail_with(dev, VIRTIO_E_FEATURES);
    write_features(dev, offered & wanted);
    add_status(dev, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_mmio_read(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
        return fail_with(dev, VIRTIO_E_FEATURES);
    *accepted = offered & wanted;
    return VIRTIO_OK;
}

void virtio_mmio_driver_ok(struct virtio_mmio *dev)
{
    add_status(dev, VIRTIO_STATUS_DRIVER_OK);
}

uint32_t virtio_mmio_config32(const struct virtio_mmio *dev, uint32_t offset)
{
    return virtio_mmio_read(dev, VIRTIO_MMIO_CONFIG + offset);
}

uint64_t virtio_mmio_config64(const struct virtio_mmio *dev, uint32_t offset)
{
    uint32_t before, after;
    uint64_t low, high;
    do {
        before = virtio_mmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION);
        low = virtio_mmio_read(dev, VIRTIO_MMIO_CONFIG + offset);
        high = virtio_mmio_read(dev, VIRTIO_MMIO_CONFIG + offset + 4);
        after = virtio_mmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION);
    } while (before != after);
    return high << 32 | low;
}

static void write_address(const struct virtio_mmio *dev, uint32_t low_reg, const volatile void *p)
{
    uint64_t addr = (uintptr_t)p; /* guest-physical = guest-virtual (identity paging) */
    virtio_mmio_write(dev, low_reg, (uint32_t)addr);
    virtio_mmio_write(dev, low_reg + 4, (uint32_t)(addr >> 32));
}

int virtq_setup(struct virtq *q, struct virtio_mmio *dev, uint16_t index, void *mem, uint16_t want)
{
    virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, index);
    if (virtio_mmio_read(dev, VIRTIO_MMIO_QUEUE_READY) != 0)
        return VIRTIO_E_QUEUE;
    uint32_t limit = virtio_mmio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (want < limit)
        limit = want;
    if (limit > VIRTQ_MAX_SIZE)
        limit = VIRTQ_MAX_SIZE;
    if (limit == 0)
        return VIRTIO_E_QUEUE;
    uint16_t size = 1;
    while (size * 2u <= limit)
        size *= 2;

    memset(mem, 0, VIRTQ_RING_BYTES(size));
    q->dev = dev;
    q->index = index;
    q->size = size;
    q->desc = (volatile struct virtq_desc *)mem;
    q->avail = (volatile struct virtq_avail *)((uintptr_t)mem + VIRTQ_AVAIL_OFFSET(size));
    q->used = (volatile struct virtq_used *)((uintptr_t)mem + VIRTQ_USED_OFFSET(size));
    for (uint16_t i = 0; i < size; i++) {
        q->free_next[i] = (uint16_t)(i + 1);
        q->chain_len[i] = 0;
    }
    q->free_head = 0;
    q->num_free = size;
    q->next_avail = q->published = q->last_used = 0;
    q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;

    virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_NUM, size);
    write_address(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, q->desc);
    write_address(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, q->avail);
    write_address(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, q->used);
    virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
    if (virtio_mmio_read(dev, VIRTIO_MMIO_QUEUE_READY) != 1)
        return VIRTIO_E_QUEUE;
    return VIRTIO_OK;
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n)
{
    if (n == 0 || n > q->num_free)
        return -1;
    uint16_t head = q->free_head, d = head;
    for (unsigned i = 0; i < n; i++) {
        bool more = i + 1 < n;
        q->desc[d].addr = (uintptr_t)bufs[i].addr;
        q->desc[d].len = bufs[i].len;
        q->desc[d].flags = (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
                                      (more ? VIRTQ_DESC_F_NEXT : 0));
        q->desc[d].next = more ? q->free_next[d] : 0;
        d = q->free_next[d];
    }
    q->free_head = d;
    q->num_free = (uint16_t)(q->num_free - n);
    q->chain_len[head] = (uint16_t)n;
    q->avail->ring[q->next_avail & (q->size - 1)] = head;
    q->next_avail++;
    return head;
}

void virtq_kick(struct virtq *q)
{
    if (q->next_avail == q->published)
        return;
    /* The descriptors and ring entries must be visible before the new index... */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->avail->idx = q->next_avail;
    q->published = q->next_avail;
    /* ...and the index before we read whether the device wants a notification. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!(q->used->flags & VIRTQ_USED_F_NO_NOTIFY))
        virtio_mmio_write(q->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

int virtq_get_used(struct virtq *q, uint32_t *len)
{
    if (q->used->idx == q->last_used)
        return -1;
    /* Read the element only after seeing the index that covers it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    volatile struct virtq_used_elem *elem = &q->used->ring[q->last_used & (q->size - 1)];
    uint32_t id = elem->id;
    *len = elem->len;
    q->last_used++;
    if (id >= q->size || q->chain_len[id] == 0) {
        print("virtio: queue %u: the device completed descriptor %u, which is not the head "
              "of a chain in flight (used entry %u)\n", q->index, id, (uint16_t)(q->last_used - 1));
        return -2;
    }
    uint16_t n = q->chain_len[id], tail = (uint16_t)id;
    for (uint16_t i = 1; i < n; i++)
        tail = q->free_next[tail];
    q->free_next[tail] = q->free_head;
    q->free_head = (uint16_t)id;
    q->num_free = (uint16_t)(q->num_free + n);
    q->chain_len[id] = 0;
    return (int)id;
}
