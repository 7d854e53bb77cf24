/* Everything a guest program uses; a program defines
 * int main(const struct ferry_boot *boot) and its return value is the exit code. */
#ifndef FERRY_H
#define FERRY_H

#include <stdint.h>
#include "boot.h"
#include "heap.h"
#include "mem.h"
#include "params.h"
#include "platform.h"
#include "portio.h"
#include "print.h"
#include "status.h"
#include "str.h"
#include "tsc.h"
#include "uart.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"

int main(const struct ferry_boot *boot);

#endif
