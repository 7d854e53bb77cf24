/* Runs between _start and main: checks the boot-info page, sets up the console
 * and the parameters, and turns main's return value into the VM's exit code. */
#include "ferry.h"

static const struct ferry_boot *boot_info;

const struct ferry_boot *ferry_boot_info(void)
{
    return boot_info;
}

void __attribute__((noreturn)) ferry_start(const struct ferry_boot *boot);

void ferry_start(const struct ferry_boot *boot)
{
    boot_info = boot;
    uart_init();
    if (boot->magic != FERRY_BOOT_MAGIC || boot->version != FERRY_ABI_VERSION || boot->tsc_khz == 0) {
        print("ferry runtime: boot info at %p has magic 0x%x version %u tsc_khz %llu; "
              "this guest needs magic 0x%x version %u and a TSC frequency\n",
              (const void *)boot, boot->magic, boot->version,
              (unsigned long long)boot->tsc_khz, FERRY_BOOT_MAGIC, FERRY_ABI_VERSION);
        ferry_exit(FERRY_EXIT_BAD_BOOT);
    }
    params_init(boot->args);
    ferry_exit((uint32_t)main(boot));
}
