/*
 * faulty: executes hlt at CPL 3, which raises #GP; with no IDT that becomes a
 * triple fault, and the VMM must end the VM with a shutdown.
 */
#include "ferry.h"

int main(const struct ferry_boot *boot)
{
    (void)boot;
    print("faulty: about to fault\n");
    __asm__ volatile("hlt");
    print("faulty: hlt did not fault\n");
    return 1;
}
