/*
 * The disk of guests/ABI.md: virtio-blk (virtio 1.2, section 5.2) over virtio-mmio
 * (section 4.2, register layout version 2) with one split virtqueue, backed by a file.
 * A QueueNotify write serves every available request at once, on the vCPU thread, with
 * pread/pwrite to the file (through the page cache) and fdatasync for FLUSH; no
 * interrupts are raised (the guest polls the used ring). This is the plain-KVM baseline
 * for disk throughput, so it does nothing more than the ABI asks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "refvmm.h"

#define MMIO_MAGIC      0x74726976u /* "virt" */
#define MMIO_VERSION    2u
#define VENDOR_ID       0x59525246u /* "FRRY" */
#define QUEUE_NUM_MAX   256u
#define SECTOR          512u
#define DEVICE_ID_TEXT  "refvmm-virtio-blk"

#define OFFERED_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH))

struct vblk {
    struct vm *vm;
    const char *path;
    int fd;
    struct virtio_blk_config config;

    /* Registers the guest can see. */
    uint32_t status;
    uint32_t device_features_sel;
    uint32_t driver_features_sel;
    uint64_t driver_features;
    uint32_t queue_sel;
    uint32_t interrupt_status;

    /* Queue 0, the only one. */
    uint32_t queue_num;
    bool queue_ready;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    volatile struct vring_desc *desc;
    volatile struct vring_avail *avail;
    volatile struct vring_used *used;
    uint16_t next_avail;

    /* Counts for vblk_report. */
    uint64_t notifies, reads, writes, flushes, others, errors;
    uint64_t bytes_read, bytes_written;
};

static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void complain(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("refvmm: virtio-blk: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

struct vblk *vblk_open(struct vm *vm, const char *path)
{
    struct vblk *blk = calloc(1, sizeof(*blk));
    if (!blk)
        die("allocating the virtio-blk device");
    blk->vm = vm;
    blk->path = path;
    blk->fd = open(path, O_RDWR | O_CLOEXEC);
    if (blk->fd < 0)
        die("open disk image %s", path);
    off_t size = lseek(blk->fd, 0, SEEK_END);
    if (size < 0)
        die("size of disk image %s", path);
    if (size % SECTOR)
        fprintf(stderr, "refvmm: disk image %s is %lld bytes, not a multiple of %u; "
                "the last %lld bytes are not part of the disk\n",
                path, (long long)size, SECTOR, (long long)(size % SECTOR));
    blk->config.capacity = (uint64_t)size / SECTOR;
    return blk;
}

void vblk_report(const struct vblk *blk)
{
    fprintf(stderr, "refvmm: virtio-blk: %llu notifies, %llu reads (%.1f MiB), %llu writes "
            "(%.1f MiB), %llu flushes, %llu other, %llu failed\n",
            (unsigned long long)blk->notifies, (unsigned long long)blk->reads,
            (double)blk->bytes_read / MiB, (unsigned long long)blk->writes,
            (double)blk->bytes_written / MiB, (unsigned long long)blk->flushes,
            (unsigned long long)blk->others, (unsigned long long)blk->errors);
}

static void reset(struct vblk *blk)
{
    blk->status = 0;
    blk->device_features_sel = blk->driver_features_sel = 0;
    blk->driver_features = 0;
    blk->queue_sel = 0;
    blk->interrupt_status = 0;
    blk->queue_num = 0;
    blk->queue_ready = false;
    blk->desc_gpa = blk->avail_gpa = blk->used_gpa = 0;
    blk->desc = NULL;
    blk->avail = NULL;
    blk->used = NULL;
    blk->next_avail = 0;
}

/* The device cannot go on (a malformed ring): the guest must reset it. */
static void needs_reset(struct vblk *blk)
{
    blk->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
}

static void set_queue_ready(struct vblk *blk, bool ready)
{
    if (!ready) {
        blk->queue_ready = false;
        return;
    }
    uint32_t n = blk->queue_num;
    if (n == 0 || n > QUEUE_NUM_MAX || (n & (n - 1))) {
        complain("QueueReady with QueueNum %u (a power of 2 up to %u is needed)", n, QUEUE_NUM_MAX);
        needs_reset(blk);
        return;
    }
    blk->desc = ram_find(blk->vm, blk->desc_gpa, 16ull * n);
    blk->avail = ram_find(blk->vm, blk->avail_gpa, 6 + 2ull * n);
    blk->used = ram_find(blk->vm, blk->used_gpa, 6 + 8ull * n);
    if (!blk->desc || !blk->avail || !blk->used || blk->desc_gpa % 16 || blk->avail_gpa % 2 ||
        blk->used_gpa % 4) {
        complain("QueueReady with rings outside RAM or misaligned: desc 0x%llx avail 0x%llx "
                 "used 0x%llx, %u entries",
                 (unsigned long long)blk->desc_gpa, (unsigned long long)blk->avail_gpa,
                 (unsigned long long)blk->used_gpa, n);
        needs_reset(blk);
        return;
    }
    /* ABI.md: resume where the guest's used ring says the device is. */
    blk->next_avail = blk->used->idx;
    blk->queue_ready = true;
}

struct segment {
    uint8_t *host;
    uint32_t len;
    bool device_writes;
};

/* Moves the data of an IN or OUT request; returns the status byte. */
static uint8_t transfer(struct vblk *blk, bool in, uint64_t sector, const struct segment *seg,
                        unsigned nseg, uint32_t *written)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < nseg; i++) {
        if (seg[i].device_writes != in)
            return VIRTIO_BLK_S_IOERR;
        total += seg[i].len;
    }
    if (total % SECTOR || sector > blk->config.capacity ||
        total / SECTOR > blk->config.capacity - sector)
        return VIRTIO_BLK_S_IOERR;

    off_t at = (off_t)(sector * SECTOR);
    for (unsigned i = 0; i < nseg; i++) {
        for (uint32_t done = 0; done < seg[i].len;) {
            ssize_t n = in ? pread(blk->fd, seg[i].host + done, seg[i].len - done, at)
                           : pwrite(blk->fd, seg[i].host + done, seg[i].len - done, at);
            if (n <= 0) {
                complain("%s %s at byte %lld: %s", in ? "reading" : "writing", blk->path,
                         (long long)at, n < 0 ? strerror(errno) : "end of file");
                return VIRTIO_BLK_S_IOERR;
            }
            done += (uint32_t)n;
            at += n;
        }
    }
    if (in) {
        blk->reads++;
        blk->bytes_read += total;
        *written = (uint32_t)total;
    } else {
        blk->writes++;
        blk->bytes_written += total;
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t get_id(const struct segment *seg, unsigned nseg, uint32_t *written)
{
    if (nseg != 1 || !seg[0].device_writes)
        return VIRTIO_BLK_S_IOERR;
    char id[VIRTIO_BLK_ID_BYTES] = {0};
    strncpy(id, DEVICE_ID_TEXT, sizeof(id));
    uint32_t n = seg[0].len < sizeof(id) ? seg[0].len : (uint32_t)sizeof(id);
    memcpy(seg[0].host, id, n);
    *written = n;
    return VIRTIO_BLK_S_OK;
}

/* Serves the chain starting at head; returns the bytes written into the guest's
 * buffers (the used element's len). */
static uint32_t serve(struct vblk *blk, uint16_t head)
{
    struct segment seg[QUEUE_NUM_MAX];
    unsigned n = 0;
    for (uint16_t d = head;;) {
        if (d >= blk->queue_num || n == blk->queue_num) {
            complain("descriptor chain from %u is broken (index %u, %u descriptors)", head, d, n);
            needs_reset(blk);
            return 0;
        }
        volatile struct vring_desc *desc = &blk->desc[d];
        uint16_t flags = desc->flags;
        uint64_t addr = desc->addr;
        uint32_t len = desc->len;
        seg[n].host = ram_find(blk->vm, addr, len);
        seg[n].len = len;
        seg[n].device_writes = flags & VRING_DESC_F_WRITE;
        if (!seg[n].host || (flags & VRING_DESC_F_INDIRECT)) {
            complain("descriptor %u: buffer 0x%llx+%u is not in RAM, or indirect (flags 0x%x)",
                     d, (unsigned long long)addr, len, flags);
            needs_reset(blk);
            return 0;
        }
        n++;
        if (!(flags & VRING_DESC_F_NEXT))
            break;
        d = desc->next;
    }

    struct segment *hdr = &seg[0], *st = &seg[n - 1];
    if (n < 2 || hdr->device_writes || hdr->len < sizeof(struct virtio_blk_outhdr) ||
        !st->device_writes || st->len < 1) {
        complain("request at descriptor %u is not header, data, status (%u descriptors)", head, n);
        needs_reset(blk);
        return 0;
    }
    struct virtio_blk_outhdr h;
    memcpy(&h, hdr->host, sizeof(h));
    struct segment *data = &seg[1];
    unsigned ndata = n - 2;
    uint32_t written = 0;
    uint8_t status;
    switch (h.type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        status = transfer(blk, h.type == VIRTIO_BLK_T_IN, h.sector, data, ndata, &written);
        break;
    case VIRTIO_BLK_T_FLUSH:
        blk->flushes++;
        status = fdatasync(blk->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_GET_ID:
        blk->others++;
        status = get_id(data, ndata, &written);
        break;
    default:
        blk->others++;
        status = VIRTIO_BLK_S_UNSUPP;
    }
    if (status != VIRTIO_BLK_S_OK)
        blk->errors++;
    *st->host = status;
    return written + 1;
}

static void notify(struct vblk *blk, uint32_t queue)
{
    blk->notifies++;
    if (queue != 0 || !blk->queue_ready || !(blk->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
        (blk->status & VIRTIO_CONFIG_S_NEEDS_RESET))
        return;
    uint16_t num = (uint16_t)blk->queue_num;
    for (;;) {
        uint16_t avail_idx = blk->avail->idx;
        if (avail_idx == blk->next_avail)
            break;
        if ((uint16_t)(avail_idx - blk->next_avail) > num) {
            complain("available index %u is more than %u ahead of %u", avail_idx, num,
                     blk->next_avail);
            needs_reset(blk);
            return;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE); /* ring entries after the index */
        while (blk->next_avail != avail_idx) {
            uint16_t head = blk->avail->ring[blk->next_avail % num];
            uint32_t len = serve(blk, head);
            if (blk->status & VIRTIO_CONFIG_S_NEEDS_RESET)
                return;
            uint16_t used_idx = blk->used->idx;
            blk->used->ring[used_idx % num].id = head;
            blk->used->ring[used_idx % num].len = len;
            __atomic_thread_fence(__ATOMIC_RELEASE); /* the element before the index */
            blk->used->idx = (uint16_t)(used_idx + 1);
            blk->next_avail++;
        }
        blk->interrupt_status |= VIRTIO_MMIO_INT_VRING;
    }
}

static void write_status(struct vblk *blk, uint32_t value)
{
    if (value == 0) {
        reset(blk);
        return;
    }
    if ((value & VIRTIO_CONFIG_S_FEATURES_OK) && !(blk->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        bool ok = !(blk->driver_features & ~OFFERED_FEATURES) &&
                  (blk->driver_features & (1ull << VIRTIO_F_VERSION_1));
        if (!ok)
            value &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    }
    blk->status = value | (blk->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static uint32_t read_register(struct vblk *blk, uint32_t reg)
{
    switch (reg) {
    case VIRTIO_MMIO_MAGIC_VALUE:     return MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:         return MMIO_VERSION;
    case VIRTIO_MMIO_DEVICE_ID:       return VIRTIO_ID_BLOCK;
    case VIRTIO_MMIO_VENDOR_ID:       return VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return blk->device_features_sel < 2
            ? (uint32_t)(OFFERED_FEATURES >> (32 * blk->device_features_sel)) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:   return blk->queue_sel == 0 ? QUEUE_NUM_MAX : 0;
    case VIRTIO_MMIO_QUEUE_READY:     return blk->queue_sel == 0 && blk->queue_ready;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return blk->interrupt_status;
    case VIRTIO_MMIO_STATUS:          return blk->status;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:   return 0xffffffffu; /* no shared memory regions */
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0;      /* the config never changes */
    default:                          return 0;        /* write-only or reserved */
    }
}

static void set_low(uint64_t *field, uint32_t value)
{
    *field = (*field & ~0xffffffffull) | value;
}

static void set_high(uint64_t *field, uint32_t value)
{
    *field = (*field & 0xffffffffull) | (uint64_t)value << 32;
}

static void write_register(struct vblk *blk, uint32_t reg, uint32_t value)
{
    /* Queue layout registers count only for queue 0 while it is not live. */
    bool queue_setup = blk->queue_sel == 0 && !blk->queue_ready;
    switch (reg) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: blk->device_features_sel = value; break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: blk->driver_features_sel = value; break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (blk->driver_features_sel == 0)
            set_low(&blk->driver_features, value);
        else if (blk->driver_features_sel == 1)
            set_high(&blk->driver_features, value);
        break;
    case VIRTIO_MMIO_QUEUE_SEL:       blk->queue_sel = value; break;
    case VIRTIO_MMIO_QUEUE_NUM:       if (queue_setup) blk->queue_num = value; break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:  if (queue_setup) set_low(&blk->desc_gpa, value); break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: if (queue_setup) set_high(&blk->desc_gpa, value); break;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW: if (queue_setup) set_low(&blk->avail_gpa, value); break;
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: if (queue_setup) set_high(&blk->avail_gpa, value); break;
    case VIRTIO_MMIO_QUEUE_USED_LOW:  if (queue_setup) set_low(&blk->used_gpa, value); break;
    case VIRTIO_MMIO_QUEUE_USED_HIGH: if (queue_setup) set_high(&blk->used_gpa, value); break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (blk->queue_sel == 0)
            set_queue_ready(blk, value & 1);
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:    notify(blk, value); break;
    case VIRTIO_MMIO_INTERRUPT_ACK:   blk->interrupt_status &= ~value; break;
    case VIRTIO_MMIO_STATUS:          write_status(blk, value); break;
    default:
        complain("write of 0x%x to read-only or reserved register 0x%03x ignored", value, reg);
    }
}

void vblk_mmio(struct vblk *blk, uint64_t offset, uint8_t *data, uint32_t len, int is_write)
{
    if (offset < VIRTIO_MMIO_CONFIG) {
        if (len != 4 || offset % 4) {
            complain("%u-byte %s at register offset 0x%llx ignored (registers take aligned "
                     "32-bit accesses)", len, is_write ? "write" : "read",
                     (unsigned long long)offset);
            if (!is_write)
                memset(data, 0xff, len);
            return;
        }
        uint32_t value;
        if (is_write) {
            memcpy(&value, data, 4);
            write_register(blk, (uint32_t)offset, value);
        } else {
            value = read_register(blk, (uint32_t)offset);
            memcpy(data, &value, 4);
        }
        return;
    }

    /* Device configuration: read-only; fields read at their own width, 64-bit ones
     * also as two 32-bit halves. Bytes past the structure read as 0. */
    uint64_t at = offset - VIRTIO_MMIO_CONFIG;
    if (is_write) {
        complain("write to configuration offset 0x%llx ignored (it is read-only)",
                 (unsigned long long)at);
        return;
    }
    memset(data, 0, len);
    if (at < sizeof(blk->config)) {
        uint64_t n = sizeof(blk->config) - at < len ? sizeof(blk->config) - at : len;
        memcpy(data, (const uint8_t *)&blk->config + at, n);
    }
}
