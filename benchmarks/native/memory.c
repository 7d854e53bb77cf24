#define _GNU_SOURCE
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "refvmm.h"

/* ABI.md: slot 0 is [0, min(size, 3 GiB)); the rest sits above the MMIO hole at 4 GiB. */
#define LOW_RAM_LIMIT (3 * GiB)
#define HIGH_RAM_BASE (4 * GiB)

static void add_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
    struct kvm_userspace_memory_region region = {
        .slot = slot,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)host,
    };
    /* Safety: host stays mapped for the life of the VM. */
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION slot %u [0x%llx, +0x%llx)", slot,
            (unsigned long long)gpa, (unsigned long long)size);
}

void ram_create(struct vm *vm, uint64_t size)
{
    int fd = memfd_create("refvmm-ram", MFD_CLOEXEC);
    if (fd < 0)
        die("memfd_create");
    if (ftruncate(fd, (off_t)size) < 0)
        die("ftruncate guest RAM to %llu bytes", (unsigned long long)size);
    void *host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (host == MAP_FAILED)
        die("mmap %llu bytes of guest RAM", (unsigned long long)size);
    close(fd);

    vm->ram = host;
    vm->ram_size = size;
    vm->low_size = size < LOW_RAM_LIMIT ? size : LOW_RAM_LIMIT;
    add_slot(vm, 0, 0, vm->low_size, vm->ram);
    if (size > vm->low_size)
        add_slot(vm, 1, HIGH_RAM_BASE, size - vm->low_size, vm->ram + vm->low_size);
}

void *ram_find(const struct vm *vm, uint64_t gpa, uint64_t len)
{
    if (gpa <= vm->low_size && len <= vm->low_size - gpa)
        return vm->ram + gpa;
    uint64_t high = vm->ram_size - vm->low_size;
    if (gpa >= HIGH_RAM_BASE && gpa - HIGH_RAM_BASE <= high && len <= high - (gpa - HIGH_RAM_BASE))
        return vm->ram + vm->low_size + (gpa - HIGH_RAM_BASE);
    return NULL;
}

void *ram_at(const struct vm *vm, uint64_t gpa, uint64_t len)
{
    void *host = ram_find(vm, gpa, len);
    if (host)
        return host;
    errno = 0;
    die("guest-physical [0x%llx, +0x%llx) is not RAM (RAM is %llu MiB)",
        (unsigned long long)gpa, (unsigned long long)len,
        (unsigned long long)(vm->ram_size / MiB));
}
