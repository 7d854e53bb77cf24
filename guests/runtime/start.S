/*
 * Image entry point, the first byte of the image (ABI.md: CPL 3, long mode,
 * RSP = 0x100000, RDI = boot-info page). Aligns the stack as the SysV ABI
 * expects at a call and hands over to ferry_start, which never returns.
 */
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call ferry_start
1:  ud2
    jmp 1b
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
