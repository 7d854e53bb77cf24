/* Everything ABI.md promises a guest at entry: memory layout and vCPU state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "refvmm.h"

#define GDT_ADDR        0x1000
#define TSS_ADDR        0x2000
#define BOOT_INFO_ADDR  0x8000
#define PML4_ADDR       0x10000
#define PDPT_ADDR       0x11000
#define PD_ADDR         0x12000
#define STACK_BOTTOM    0x80000
#define IMAGE_ADDR      0x100000

#define SEL_USER_DATA   0x1b /* GDT entry 3, RPL 3 */
#define SEL_USER_CODE   0x23 /* GDT entry 4, RPL 3 */
#define SEL_TSS         0x28
#define GDT_ENTRIES     7    /* five segments and a 16-byte TSS descriptor */
#define TSS_SIZE        104
#define IO_BITMAP_BYTES (65536 / 8)
#define TSS_LIMIT       (TSS_SIZE + IO_BITMAP_BYTES) /* offset of the bitmap's 0xff end byte */

#define PTE_PRESENT     0x1ull
#define PTE_WRITE       0x2ull
#define PTE_USER        0x4ull
#define PTE_HUGE        0x80ull
#define PTE_TABLE       (PTE_PRESENT | PTE_WRITE | PTE_USER)

#define CR0_PE  (1ull << 0)
#define CR0_MP  (1ull << 1)
#define CR0_ET  (1ull << 4)
#define CR0_NE  (1ull << 5)
#define CR0_WP  (1ull << 16)
#define CR0_PG  (1ull << 31)
#define CR4_PAE        (1ull << 5)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE    (1ull << 18)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define RFLAGS_IOPL3   0x3002ull /* IOPL 3, reserved bit 1; IF clear */

#define XCR0_X87 1ull
#define XCR0_SSE 2ull
#define XCR0_AVX 4ull

#define BOOT_MAGIC 0x59525246u /* "FRRY" */
#define ABI_VERSION 1u
#define BOOT_ARGS_OFFSET 256
#define BOOT_ARGS_SIZE 2048

static void put64(void *at, uint64_t v) { memcpy(at, &v, 8); }
static void put32(void *at, uint32_t v) { memcpy(at, &v, 4); }
static void put16(void *at, uint16_t v) { memcpy(at, &v, 2); }

static void write_gdt(struct vm *vm)
{
    uint64_t tss_low = TSS_LIMIT | ((uint64_t)(TSS_ADDR & 0xffffff) << 16)
                     | (0x8bull << 40) /* present, 64-bit TSS, busy as after ltr */
                     | ((uint64_t)(TSS_ADDR >> 24 & 0xff) << 56);
    const uint64_t gdt[GDT_ENTRIES] = {
        0,
        0x00af9a000000ffffull, /* 0x08 kernel code64 */
        0x00cf92000000ffffull, /* 0x10 kernel data */
        0x00cff2000000ffffull, /* 0x18 user data, DPL 3 */
        0x00affa000000ffffull, /* 0x20 user code64, DPL 3 */
        tss_low,               /* 0x28 TSS, low half */
        (uint64_t)TSS_ADDR >> 32,
    };
    memcpy(ram_at(vm, GDT_ADDR, sizeof(gdt)), gdt, sizeof(gdt));

    uint8_t *tss = ram_at(vm, TSS_ADDR, TSS_LIMIT + 1);
    memset(tss, 0, TSS_LIMIT + 1);
    /* An all-zero I/O bitmap allows every port: the nested KVM here drops IOPL at
     * CPL 3, so this bitmap, not IOPL, is what lets the guest's in/out exit to us. */
    put16(tss + 102, TSS_SIZE);
    tss[TSS_LIMIT] = 0xff;
}

/* Identity map with 2 MiB pages of RAM and of the MMIO hole below 4 GiB. */
static void write_page_tables(struct vm *vm)
{
    uint64_t top = vm->ram_size > vm->low_size ? 4 * GiB + (vm->ram_size - vm->low_size) : 4 * GiB;
    uint64_t dirs = (top + GiB - 1) / GiB;
    if (PD_ADDR + dirs * 0x1000 > STACK_BOTTOM) {
        errno = 0;
        die("%llu MiB of RAM needs %llu page directories, more than fit below the stack",
            (unsigned long long)(vm->ram_size / MiB), (unsigned long long)dirs);
    }
    put64(ram_at(vm, PML4_ADDR, 8), PDPT_ADDR | PTE_TABLE);
    for (uint64_t d = 0; d < dirs; d++) {
        uint64_t pd = PD_ADDR + d * 0x1000;
        put64(ram_at(vm, PDPT_ADDR + d * 8, 8), pd | PTE_TABLE);
        uint8_t *entries = ram_at(vm, pd, 0x1000);
        for (uint64_t e = 0; e < 512; e++)
            put64(entries + e * 8, (d * GiB + e * 2 * MiB) | PTE_TABLE | PTE_HUGE);
    }
}

static void write_boot_info(struct vm *vm, const char *args, uint64_t tsc_khz)
{
    size_t args_len = strlen(args);
    if (args_len >= BOOT_ARGS_SIZE) {
        errno = 0;
        die("guest arguments are %zu bytes, the ABI allows %d", args_len, BOOT_ARGS_SIZE - 1);
    }
    uint8_t *bi = ram_at(vm, BOOT_INFO_ADDR, 0x1000);
    memset(bi, 0, 0x1000);
    put32(bi + 0, BOOT_MAGIC);
    put32(bi + 4, ABI_VERSION);
    put64(bi + 8, tsc_khz);
    put64(bi + 16, vm->ram_size);
    put32(bi + 24, vm->ram_size > vm->low_size ? 2 : 1);
    put64(bi + 32, 0);
    put64(bi + 40, vm->low_size);
    if (vm->ram_size > vm->low_size) {
        put64(bi + 48, 4 * GiB);
        put64(bi + 56, vm->ram_size - vm->low_size);
    }
    memcpy(bi + BOOT_ARGS_OFFSET, args, args_len + 1);
}

static void load_image(struct vm *vm, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("open guest image %s", path);
    if (fseek(f, 0, SEEK_END) < 0)
        die("seek in %s", path);
    long len = ftell(f);
    rewind(f);
    if (len <= 0 || IMAGE_ADDR + (uint64_t)len > vm->low_size) {
        errno = 0;
        die("guest image %s (%ld bytes) is empty or does not fit in %llu MiB of RAM at 0x%x",
            path, len, (unsigned long long)(vm->low_size / MiB), IMAGE_ADDR);
    }
    if (fread(ram_at(vm, IMAGE_ADDR, (uint64_t)len), 1, (size_t)len, f) != (size_t)len)
        die("read guest image %s", path);
    fclose(f);
}

void boot_write_memory(struct vm *vm, const char *image_path, const char *args, uint64_t tsc_khz)
{
    write_gdt(vm);
    write_page_tables(vm);
    write_boot_info(vm, args, tsc_khz);
    load_image(vm, image_path);
}

/* Passes the host's supported CPUID through; returns the XCR0 the guest may use
 * (0 without XSAVE). */
static uint64_t set_cpuid(struct vm *vm)
{
    struct kvm_cpuid2 *cpuid = NULL;
    for (uint32_t n = 64;; n *= 2) {
        cpuid = realloc(cpuid, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
        if (!cpuid)
            die("allocate %u CPUID entries", n);
        cpuid->nent = n;
        /* Safety: cpuid has room for n entries. */
        if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
            break;
        if (errno != E2BIG)
            die("KVM_GET_SUPPORTED_CPUID");
    }
    if (ioctl(vm->vcpu, KVM_SET_CPUID2, cpuid) < 0)
        die("KVM_SET_CPUID2");

    uint64_t xcr0 = 0;
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function == 1 && (e->ecx & (1u << 26))) /* XSAVE */
            xcr0 = XCR0_X87 | XCR0_SSE | ((e->ecx & (1u << 28)) ? XCR0_AVX : 0);
    }
    free(cpuid);
    return xcr0;
}

static void set_sregs(struct vm *vm, int osxsave)
{
    struct kvm_sregs s;
    if (ioctl(vm->vcpu, KVM_GET_SREGS, &s) < 0)
        die("KVM_GET_SREGS");
    struct kvm_segment code = {
        .base = 0, .limit = 0xffffffff, .selector = SEL_USER_CODE,
        .type = 11, .present = 1, .dpl = 3, .s = 1, .l = 1, .g = 1,
    };
    struct kvm_segment data = {
        .base = 0, .limit = 0xffffffff, .selector = SEL_USER_DATA,
        .type = 3, .present = 1, .dpl = 3, .db = 1, .s = 1, .g = 1,
    };
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.tr = (struct kvm_segment){
        .base = TSS_ADDR, .limit = TSS_LIMIT, .selector = SEL_TSS, .type = 11, .present = 1,
    };
    s.gdt.base = GDT_ADDR;
    s.gdt.limit = GDT_ENTRIES * 8 - 1;
    s.idt.base = 0;
    s.idt.limit = 0;
    s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    s.cr3 = PML4_ADDR;
    s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | (osxsave ? CR4_OSXSAVE : 0);
    s.efer = EFER_LME | EFER_LMA;
    if (ioctl(vm->vcpu, KVM_SET_SREGS, &s) < 0)
        die("KVM_SET_SREGS");
}

static void set_xcr0(struct vm *vm, uint64_t xcr0)
{
    struct kvm_xcrs xcrs = { .nr_xcrs = 1 };
    xcrs.xcrs[0].xcr = 0;
    xcrs.xcrs[0].value = xcr0;
    if (ioctl(vm->vcpu, KVM_SET_XCRS, &xcrs) < 0)
        die("KVM_SET_XCRS xcr0=0x%llx", (unsigned long long)xcr0);
}

void boot_set_vcpu_state(struct vm *vm)
{
    uint64_t xcr0 = set_cpuid(vm);
    set_sregs(vm, xcr0 != 0);
    if (xcr0)
        set_xcr0(vm, xcr0);

    struct kvm_regs regs = {
        .rip = IMAGE_ADDR,
        .rsp = IMAGE_ADDR,
        .rdi = BOOT_INFO_ADDR,
        .rflags = RFLAGS_IOPL3,
    };
    if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");
}
