/*
 * refvmm: the smallest VMM that runs Ferry guests (guests/ABI.md) straight on
 * /dev/kvm, with no Ferry features. It is the baseline "plain KVM guest" and the
 * C reference figure for VM exits per second.
 */
#ifndef REFVMM_H
#define REFVMM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#define GiB (1024ull * 1024 * 1024)
#define MiB (1024ull * 1024)

/* Exit statuses of refvmm itself; a guest's own exit code passes through as is. */
#define STATUS_TIMEOUT     124 /* -t elapsed */
#define STATUS_VMM_ERROR   125 /* a KVM call or the setup failed */
#define STATUS_GUEST_DIED  126 /* shutdown, emulation failure, failed entry */

struct vm {
    int kvm;
    int fd;
    int vcpu;
    struct kvm_run *run;
    uint8_t *ram;       /* all guest RAM, slot 0 then slot 1 */
    uint64_t ram_size;
    uint64_t low_size;  /* bytes of RAM in slot 0, at guest-physical 0 */
};

/* Prints the message and strerror(errno) when errno is set, then exits 125. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* memory.c: RAM in one memfd, registered as one or two KVM memory slots. */
void ram_create(struct vm *vm, uint64_t size);
/* The host address of guest-physical [gpa, gpa + len), which must lie in one slot:
 * ram_find returns NULL otherwise, ram_at dies. */
void *ram_find(const struct vm *vm, uint64_t gpa, uint64_t len);
void *ram_at(const struct vm *vm, uint64_t gpa, uint64_t len);

/* boot.c: guest-physical layout and vCPU state at entry, per ABI.md. */
void boot_write_memory(struct vm *vm, const char *image_path, const char *args, uint64_t tsc_khz);
void boot_set_vcpu_state(struct vm *vm);

/* virtio_blk.c: the disk of ABI.md ("Devices in the MMIO hole"), virtio-blk over
 * virtio-mmio, backed by a file and served on the vCPU thread. */
#define VBLK_BASE 0xd0000000ull
#define VBLK_SIZE 0x200ull
struct vblk;
struct vblk *vblk_open(struct vm *vm, const char *path);
/* One guest access at VBLK_BASE + offset; data is kvm_run's mmio.data. */
void vblk_mmio(struct vblk *blk, uint64_t offset, uint8_t *data, uint32_t len, int is_write);
/* One line of request counts, on stderr. */
void vblk_report(const struct vblk *blk);

/* dump.c: what a VM looked like when it died. */
void dump_vcpu(const struct vm *vm);

#endif
