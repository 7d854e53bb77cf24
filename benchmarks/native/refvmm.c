/*
 * refvmm -m MiB -g guest.bin [-a "k=v k=v"] [-t seconds] [-d disk.img]
 * Runs one Ferry guest on one vCPU until it writes the EXIT port (refvmm exits with
 * that code), dies (126) or runs out of time (124). Console bytes go to stdout;
 * reports go to stderr. With -d the guest has a virtio-blk disk backed by that file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "refvmm.h"

#define COM1_BASE      0x3f8
#define COM1_LAST      0x3ff
#define UART_LCR       3
#define UART_LSR       5
#define LCR_DLAB       0x80
#define LSR_IDLE       0x60 /* THR empty, transmitter empty */
#define PORT_IDLE_US   0x500
#define PORT_EXIT      0x504
#define PORT_PING      0x508

static volatile sig_atomic_t timed_out;
static struct kvm_run *volatile kicked_run;
static uint8_t uart_lcr;
static uint64_t exits;
static struct timespec started;
static struct vblk *disk;

void die(const char *fmt, ...)
{
    int err = errno;
    va_list ap;
    fputs("refvmm: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (err)
        fprintf(stderr, ": %s", strerror(err));
    fputc('\n', stderr);
    exit(STATUS_VMM_ERROR);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void __attribute__((noreturn)) finish(int status, const char *why)
{
    fflush(stdout);
    double s = seconds_since(&started);
    fprintf(stderr, "refvmm: %s after %.3f s, %llu exits (%.0f/s)\n", why, s,
            (unsigned long long)exits, s > 0 ? (double)exits / s : 0.0);
    if (disk)
        vblk_report(disk);
    exit(status);
}

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
    if (kicked_run)
        kicked_run->immediate_exit = 1;
}

static void arm_timeout(double seconds)
{
    struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: KVM_RUN must return */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        die("sigaction SIGALRM");
    struct itimerval it = { .it_value = {
        .tv_sec = (time_t)seconds,
        .tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6),
    } };
    if (setitimer(ITIMER_REAL, &it, NULL) < 0)
        die("setitimer %.3f s", seconds);
}

static void uart_io(uint16_t reg, int is_out, uint8_t *data)
{
    if (is_out) {
        if (reg == 0 && !(uart_lcr & LCR_DLAB))
            fputc(*data, stdout);
        else if (reg == UART_LCR)
            uart_lcr = *data;
        return;
    }
    *data = reg == UART_LSR ? LSR_IDLE : reg == UART_LCR ? uart_lcr : 0;
}

static void idle(uint32_t us)
{
    fflush(stdout);
    struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
    nanosleep(&ts, NULL); /* an interrupted sleep is an early wake-up, which the ABI allows */
}

static void handle_io(struct vm *vm)
{
    uint16_t port = vm->run->io.port;
    uint8_t size = vm->run->io.size;
    int is_out = vm->run->io.direction == KVM_EXIT_IO_OUT;
    uint8_t *data = (uint8_t *)vm->run + vm->run->io.data_offset;

    for (uint32_t i = 0; i < vm->run->io.count; i++, data += size) {
        uint32_t value = 0;
        memcpy(&value, data, size < 4 ? size : 4);
        if (port >= COM1_BASE && port <= COM1_LAST)
            uart_io(port - COM1_BASE, is_out, data);
        else if (is_out && port == PORT_IDLE_US)
            idle(value);
        else if (is_out && port == PORT_EXIT) {
            char why[64];
            snprintf(why, sizeof(why), "guest exited with code %u", value);
            finish((int)(value & 0xff), why);
        } else if (is_out && port == PORT_PING)
            continue;
        else {
            fprintf(stderr, "refvmm: unhandled port %s 0x%x size %u%s0x%x\n",
                    is_out ? "write" : "read", port, size, is_out ? " value " : "", value);
            if (!is_out)
                memset(data, 0xff, size);
        }
    }
}

static void handle_mmio(struct vm *vm)
{
    typeof(vm->run->mmio) *m = &vm->run->mmio;
    uint64_t value = 0;
    if (disk && m->phys_addr >= VBLK_BASE && m->phys_addr - VBLK_BASE < VBLK_SIZE) {
        vblk_mmio(disk, m->phys_addr - VBLK_BASE, m->data, m->len <= 8 ? m->len : 8, m->is_write);
        return;
    }
    memcpy(&value, m->data, m->len <= 8 ? m->len : 8);
    if (m->is_write) {
        fprintf(stderr, "refvmm: mmio write 0x%llx len %u value 0x%llx\n",
                (unsigned long long)m->phys_addr, m->len, (unsigned long long)value);
    } else {
        fprintf(stderr, "refvmm: mmio read 0x%llx len %u (answered 0)\n",
                (unsigned long long)m->phys_addr, m->len);
        memset(m->data, 0, sizeof(m->data));
    }
}

static void __attribute__((noreturn)) guest_died(struct vm *vm, const char *what)
{
    fflush(stdout);
    fprintf(stderr, "refvmm: %s\n", what);
    dump_vcpu(vm);
    finish(STATUS_GUEST_DIED, "guest died");
}

static void run(struct vm *vm)
{
    char what[160];
    for (;;) {
        if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
            if (errno != EINTR && errno != EAGAIN)
                die("KVM_RUN");
            if (timed_out)
                finish(STATUS_TIMEOUT, "time limit reached");
            vm->run->immediate_exit = 0;
            continue;
        }
        exits++;
        switch (vm->run->exit_reason) {
        case KVM_EXIT_IO:
            handle_io(vm);
            break;
        case KVM_EXIT_MMIO:
            handle_mmio(vm);
            break;
        case KVM_EXIT_SHUTDOWN:
            guest_died(vm, "guest shut down (triple fault)");
        case KVM_EXIT_INTERNAL_ERROR:
            snprintf(what, sizeof(what), "KVM internal error, suberror %u (1 = emulation failure)",
                     vm->run->internal.suberror);
            guest_died(vm, what);
        case KVM_EXIT_FAIL_ENTRY:
            snprintf(what, sizeof(what), "VM entry failed, hardware reason 0x%llx",
                     (unsigned long long)vm->run->fail_entry.hardware_entry_failure_reason);
            guest_died(vm, what);
        default:
            snprintf(what, sizeof(what), "unexpected exit reason %u", vm->run->exit_reason);
            guest_died(vm, what);
        }
    }
}

static void create_vm(struct vm *vm, uint64_t ram_mib)
{
    vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm < 0)
        die("open /dev/kvm");
    int version = ioctl(vm->kvm, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        errno = 0;
        die("KVM API version %d, refvmm needs %d", version, KVM_API_VERSION);
    }
    vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
    if (vm->fd < 0)
        die("KVM_CREATE_VM");
    ram_create(vm, ram_mib * MiB);
    vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu < 0)
        die("KVM_CREATE_VCPU");
    int run_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        die("KVM_GET_VCPU_MMAP_SIZE");
    vm->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
    if (vm->run == MAP_FAILED)
        die("mmap kvm_run");
}

static void __attribute__((noreturn)) usage(const char *why)
{
    fprintf(stderr, "refvmm: %s\nusage: refvmm [-m MiB] -g guest.bin [-a \"k=v k=v\"] [-t seconds] "
            "[-d disk.img]\n", why);
    exit(STATUS_VMM_ERROR);
}

int main(int argc, char **argv)
{
    uint64_t ram_mib = 256;
    const char *image = NULL, *args = "", *disk_path = NULL;
    double limit = 0;
    int opt;
    while ((opt = getopt(argc, argv, "m:g:a:t:d:")) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'm':
            ram_mib = strtoull(optarg, &end, 10);
            if (*end || ram_mib < 2)
                usage("-m takes the RAM size in MiB, at least 2");
            break;
        case 'g':
            image = optarg;
            break;
        case 'a':
            args = optarg;
            break;
        case 'd':
            disk_path = optarg;
            break;
        case 't':
            limit = strtod(optarg, &end);
            if (*end || limit <= 0)
                usage("-t takes a positive number of seconds");
            break;
        default:
            usage("unknown option");
        }
    }
    if (!image || optind != argc)
        usage("give a guest image with -g and no other arguments");

    struct vm vm = {0};
    create_vm(&vm, ram_mib);
    int tsc_khz = ioctl(vm.vcpu, KVM_GET_TSC_KHZ, 0);
    if (tsc_khz <= 0)
        die("KVM_GET_TSC_KHZ");
    boot_write_memory(&vm, image, args, (uint64_t)tsc_khz);
    boot_set_vcpu_state(&vm);
    if (disk_path)
        disk = vblk_open(&vm, disk_path);

    setvbuf(stdout, NULL, _IOLBF, 0);
    kicked_run = vm.run;
    if (limit > 0)
        arm_timeout(limit);
    clock_gettime(CLOCK_MONOTONIC, &started);
    run(&vm);
}
