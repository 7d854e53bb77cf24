/* Guest RAM free for the program: from the end of the image (_end, page-aligned by
 * guest.ld) to the end of RAM region 0 in the boot-info page. Zero at entry. */
#ifndef FERRY_HEAP_H
#define FERRY_HEAP_H

#include <stdint.h>

extern char _end[];

static inline uintptr_t heap_start(void)
{
    return (uintptr_t)_end;
}

#endif
