/*
 * spinner: counts forever in guest memory and never exits to the VMM on its own,
 * so the only way out of KVM_RUN is for the VMM to kick the vCPU. The counter's
 * guest-physical address is printed once, for tests that read it from outside.
 */
#include "ferry.h"

int main(const struct ferry_boot *boot)
{
    (void)boot;
    volatile uint64_t *counter = (volatile uint64_t *)heap_start();

    print("spinner counter_at=0x%lx\n", (uintptr_t)counter);
    for (;;)
        (*counter)++;
}
