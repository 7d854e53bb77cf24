/*
 * Multiboot (v1) boot stub: lets a loader such as QEMU's `-kernel` start an
 * unchanged Ferry guest image in the environment ABI.md promises.
 *
 * The loader enters multiboot_entry in 32-bit protected mode at CPL 0, paging off
 * (EAX = 0x2BADB002, EBX = the Multiboot information). The stub fills the
 * boot-info page, writes the GDT, TSS and page tables at the ABI's addresses,
 * switches to long mode and leaves CPL 0 for the guest's first byte at CPL 3.
 * See boot/multiboot.ld for where the stub lives and boot/README.md for the
 * choices and where the result differs from what a Ferry VMM sets up.
 *
 * CPL 0 code is emulated instruction by instruction on the nested KVM this
 * project is developed on, so this does as little as possible (~30 ms there),
 * plus 150 ms of PIT measurements when the hypervisor does not give the TSC
 * frequency.
 */

#define MB_HEADER_MAGIC   0x1BADB002
#define MB_HEADER_FLAGS   0x00000002     /* bit 1: we want mem_* and the memory map */
#define MB_BOOT_MAGIC     0x2BADB002

#define MBI_FLAGS         0
#define MBI_MEM_UPPER     8
#define MBI_CMDLINE       16
#define MBI_MMAP_LENGTH   44
#define MBI_MMAP_ADDR     48
#define MBI_BOOTLOADER    64
#define MBI_F_MEM         (1 << 0)
#define MBI_F_CMDLINE     (1 << 2)
#define MBI_F_MMAP        (1 << 6)
#define MBI_F_BOOTLOADER  (1 << 9)

/* ABI.md, "Guest-physical layout" and "CPU state at entry" */
#define GDT_ADDR          0x1000
#define TSS_ADDR          0x2000
#define TSS_SIZE          104
#define TSS_LIMIT         0x2068         /* TSS_SIZE + 8192: the bitmap's 0xff end byte */
#define BOOT_INFO         0x8000
#define PML4_ADDR         0x10000
#define PDPT_ADDR         0x11000
#define PD_ADDR           0x12000
#define STACK_BOTTOM      0x80000
#define IMAGE_ADDR        0x100000
#define SEL_KERNEL_CODE   0x08
#define SEL_USER_DATA     0x1b
#define SEL_USER_CODE     0x23
#define SEL_TSS           0x28
#define RFLAGS_ENTRY      0x3002
#define CR0_ENTRY         0x80010033     /* PE|MP|ET|NE|WP|PG */
#define CR4_PAE           (1 << 5)
#define CR4_OSFXSR        (1 << 9)
#define CR4_OSXMMEXCPT    (1 << 10)
#define CR4_OSXSAVE       (1 << 18)

#define FERRY_MAGIC       0x59525246
#define ARGS_OFFSET       256
#define ARGS_SIZE         2048
#define EXIT_BAD_CONFIG   2
#define EXIT_BAD_BOOT     3

/* Scratch the stub uses below the boot-info page (nothing there in the ABI). */
#define TRAMPOLINE        0x4100         /* the last instructions run from here */
#define BOOT_STACK        0x8000

#define MSR_EFER          0xC0000080
#define EFER_LME          (1 << 8)

#define COM1              0x3F8
#define PORT_EXIT         0x504

#define PIT_HZ            1193182
#define PIT_COUNT         59659          /* 50 ms */

    .section .multiboot, "a"
    .balign 4
    .long MB_HEADER_MAGIC, MB_HEADER_FLAGS, -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

    .section .boot.text, "ax"
    .code32
    .globl multiboot_entry
multiboot_entry:
    cli
    cld
    mov $BOOT_STACK, %esp
    cmp $MB_BOOT_MAGIC, %eax
    je 1f
    mov $msg_magic, %esi
    mov $EXIT_BAD_BOOT, %eax
    jmp die
1:  mov %ebx, mbi

    call boot_info_header
    call copy_args
    call ram_regions
    call find_tsc_khz
    mov %eax, BOOT_INFO + 8
    mov %edx, BOOT_INFO + 12
    call write_gdt_tss
    call write_page_tables
    call unlock_bios_area
    call zero_range
    jmp enter_long_mode

/* The boot-info page: zeroed, then magic and version. */
boot_info_header:
    mov $BOOT_INFO, %edi
    xor %eax, %eax
    mov $1024, %ecx
    rep stosl
    movl $FERRY_MAGIC, BOOT_INFO
    movl $1, BOOT_INFO + 4
    ret

/* Arguments: the Multiboot command line without its first word, which by
 * convention (GRUB, QEMU) is the kernel's file name. */
copy_args:
    mov mbi, %ebx
    testl $MBI_F_CMDLINE, MBI_FLAGS(%ebx)
    jz 9f
    mov MBI_CMDLINE(%ebx), %esi
    mov %esi, cmdline
1:  lodsb                                /* skip the file name */
    test %al, %al
    jz 9f
    cmp $' ', %al
    jne 1b
2:  lodsb                                /* and the spaces after it */
    cmp $' ', %al
    je 2b
    dec %esi
    mov $BOOT_INFO + ARGS_OFFSET, %edi
    mov $ARGS_SIZE - 1, %ecx
3:  lodsb
    test %al, %al
    jz 9f
    jecxz 8f
    stosb
    dec %ecx
    jmp 3b
8:  mov $msg_args, %esi
    mov $EXIT_BAD_CONFIG, %eax
    jmp die
9:  ret

/* RAM regions from the Multiboot memory map: region 0 is [0, end of the
 * available range that holds 1 MiB), region 1 the first available range at or
 * above 4 GiB. Without a map, mem_upper gives region 0. */
ram_regions:
    mov mbi, %ebx
    testl $MBI_F_MMAP, MBI_FLAGS(%ebx)
    jz 6f
    mov MBI_MMAP_ADDR(%ebx), %esi
    mov MBI_MMAP_LENGTH(%ebx), %eax
    add %esi, %eax
    mov %eax, mmap_end
1:  cmp mmap_end, %esi
    jae 7f
    cmpl $1, 20(%esi)                    /* type 1: available RAM */
    jne 5f
    mov 4(%esi), %eax                    /* base */
    mov 8(%esi), %edx
    test %edx, %edx
    jnz 3f
    cmp $IMAGE_ADDR, %eax                /* below 4 GiB: does it hold 1 MiB? */
    ja 5f
    add 12(%esi), %eax                   /* end = base + length */
    adc 16(%esi), %edx
    test %edx, %edx
    jnz 2f
    cmp $IMAGE_ADDR, %eax
    jbe 5f
2:  mov %eax, BOOT_INFO + 40             /* region 0: [0, end) */
    mov %edx, BOOT_INFO + 44
    jmp 5f
3:  cmpl $0, BOOT_INFO + 56              /* at or above 4 GiB: the first is region 1 */
    jne 5f
    cmpl $0, BOOT_INFO + 60
    jne 5f
    mov %eax, BOOT_INFO + 48
    mov %edx, BOOT_INFO + 52
    mov 12(%esi), %eax
    mov %eax, BOOT_INFO + 56
    mov 16(%esi), %eax
    mov %eax, BOOT_INFO + 60
5:  mov (%esi), %eax                     /* next entry: size field + 4 */
    lea 4(%esi,%eax), %esi
    jmp 1b
6:  testl $MBI_F_MEM, MBI_FLAGS(%ebx)
    jz 7f
    mov MBI_MEM_UPPER(%ebx), %eax        /* KiB above 1 MiB */
    shl $10, %eax
    add $IMAGE_ADDR, %eax
    mov %eax, BOOT_INFO + 40
7:  mov BOOT_INFO + 40, %eax
    or BOOT_INFO + 44, %eax
    jnz 8f
    mov $msg_ram, %esi
    mov $EXIT_BAD_CONFIG, %eax
    jmp die
8:  mov BOOT_INFO + 40, %eax             /* RAM size = the sum of the regions */
    mov BOOT_INFO + 44, %edx
    movl $1, BOOT_INFO + 24
    mov BOOT_INFO + 56, %ecx
    or BOOT_INFO + 60, %ecx
    jz 9f
    movl $2, BOOT_INFO + 24
    add BOOT_INFO + 56, %eax
    adc BOOT_INFO + 60, %edx
9:  mov %eax, BOOT_INFO + 16
    mov %edx, BOOT_INFO + 20
    ret

/* EDX:EAX = EDX:EAX / ECX (ECX != 0); clobbers ESI, EDI. */
div64:
    mov %eax, %esi
    mov %edx, %eax
    xor %edx, %edx
    div %ecx
    mov %eax, %edi
    mov %esi, %eax
    div %ecx
    mov %edi, %edx
    ret

/* EDX:EAX = the TSC frequency in kHz: CPUID leaf 0x15 (crystal clock and ratio),
 * else the hypervisor's timing leaf 0x40000010 (EAX = TSC kHz; QEMU/KVM offers it
 * when the TSC frequency is known: -cpu ...,tsc-frequency=HZ or +invtsc), else
 * the median of three 50 ms measurements against PIT channel 2. */
find_tsc_khz:
    xor %eax, %eax
    cpuid
    cmp $0x15, %eax
    jb 2f
    mov $0x15, %eax
    xor %ecx, %ecx
    cpuid
    test %eax, %eax
    jz 2f
    test %ebx, %ebx
    jz 2f
    test %ecx, %ecx
    jz 2f
    mov %eax, tmp                        /* khz = crystal Hz * EBX / EAX / 1000 */
    mov %ecx, %eax
    mul %ebx
    mov tmp, %ecx
    call div64
    mov $1000, %ecx
    call div64
    ret
2:  mov $1, %eax
    cpuid
    bt $31, %ecx                         /* no hypervisor: no leaf 0x40000000 */
    jnc 3f
    mov $0x40000000, %eax
    cpuid
    cmp $0x40000010, %eax
    jb 3f
    mov $0x40000010, %eax
    cpuid
    test %eax, %eax
    jz 3f
    xor %edx, %edx
    ret
3:  call pit_khz
    mov %eax, tmp + 8
    call pit_khz
    mov %eax, tmp + 12
    call pit_khz
    mov tmp + 8, %ebx                    /* the median of the three */
    mov tmp + 12, %ecx
    cmp %ecx, %ebx
    jbe 4f
    xchg %ebx, %ecx
4:  cmp %ecx, %eax                       /* EBX <= ECX; EAX = max(EBX, min(EAX, ECX)) */
    jbe 5f
    mov %ecx, %eax
5:  cmp %ebx, %eax
    jae 6f
    mov %ebx, %eax
6:  xor %edx, %edx
    cmp $100000, %eax                    /* under 100 MHz: the PIT did not count */
    jae 7f
    mov $msg_tsc, %esi
    mov $EXIT_BAD_BOOT, %eax
    jmp die
7:  ret

/* EAX = the TSC kHz over PIT_COUNT ticks of PIT channel 2 (0xffffffff if more). */
pit_khz:
    in $0x61, %al                        /* PIT channel 2: gate on, speaker off */
    and $0xfc, %al
    or $0x01, %al
    out %al, $0x61
    mov $0xb0, %al                       /* channel 2, lobyte/hibyte, mode 0 */
    out %al, $0x43
    mov $(PIT_COUNT & 0xff), %al
    out %al, $0x42
    rdtsc                                /* start: just before the write that starts it */
    mov %eax, tmp
    mov %edx, tmp + 4
    mov %eax, %esi
    mov %edx, %edi
    mov $(PIT_COUNT >> 8), %al
    out %al, $0x42
4:  mov %esi, %ebx                       /* EBP:EBX = TSC before the previous poll */
    mov %edi, %ebp
    rdtsc                                /* EDI:ESI = TSC before this poll */
    mov %eax, %esi
    mov %edx, %edi
    in $0x61, %al                        /* OUT2 goes high at terminal count */
    test $0x20, %al
    jz 4b
    add %ebx, %esi                       /* it did between the last two polls: */
    adc %ebp, %edi                       /* take the middle, so that the time one */
    shrd $1, %edi, %esi                  /* poll takes (a VM exit) does not bias it */
    shr $1, %edi
    mov %esi, %eax
    mov %edi, %edx
    sub tmp, %eax
    sbb tmp + 4, %edx
    mov $1000, %ecx                      /* khz = cycles * PIT_HZ / count / 1000 */
    call div64
    mov $PIT_HZ, %ecx
    mov %edx, tmp + 4
    mul %ecx
    mov %eax, tmp
    mov %edx, %ebx
    mov tmp + 4, %eax
    mul %ecx
    add %ebx, %eax
    adc $0, %edx
    mov %eax, %edx
    mov tmp, %eax
    mov $PIT_COUNT, %ecx
    call div64
    test %edx, %edx
    jz 5f
    mov $0xffffffff, %eax
5:  ret

/* GDT (the TSS descriptor available, so that ltr can mark it busy) and the TSS
 * with an I/O permission bitmap that allows every port. */
write_gdt_tss:
    mov $gdt_template, %esi
    mov $GDT_ADDR, %edi
    mov $(gdt_template_end - gdt_template) / 4, %ecx
    rep movsl
    mov $TSS_ADDR, %edi
    xor %eax, %eax
    mov $TSS_LIMIT / 4, %ecx
    rep stosl
    movw $TSS_SIZE, TSS_ADDR + 102
    movb $0xff, TSS_ADDR + TSS_LIMIT
    ret

/* Identity map of [0, max(4 GiB, top of RAM)) with 2 MiB pages, user bit set. */
write_page_tables:
    mov $PML4_ADDR, %edi
    xor %eax, %eax
    mov $2048, %ecx                      /* PML4 and PDPT pages */
    rep stosl
    movl $PDPT_ADDR | 7, PML4_ADDR
    mov $4, %ebx                         /* directories: 4 GiB, or the top of region 1 */
    mov BOOT_INFO + 48, %eax
    mov BOOT_INFO + 52, %edx
    add BOOT_INFO + 56, %eax
    adc BOOT_INFO + 60, %edx
    add $0x3fffffff, %eax
    adc $0, %edx
    shrd $30, %edx, %eax
    cmp %ebx, %eax
    jbe 1f
    mov %eax, %ebx
1:  cmp $(STACK_BOTTOM - PD_ADDR) / 0x1000, %ebx
    jbe 2f
    mov $msg_ram, %esi
    mov $EXIT_BAD_CONFIG, %eax
    jmp die
2:  xor %ecx, %ecx
    mov $PDPT_ADDR, %edi
    mov $PD_ADDR | 7, %eax
3:  mov %eax, (%edi,%ecx,8)
    add $0x1000, %eax
    inc %ecx
    cmp %ebx, %ecx
    jb 3b
    shl $9, %ebx                         /* 512 entries a directory */
    mov $PD_ADDR, %edi
    mov $0x87, %eax                      /* present, write, user, 2 MiB */
    xor %edx, %edx
    xor %ecx, %ecx
4:  mov %eax, (%edi)
    mov %edx, 4(%edi)
    add $8, %edi
    add $0x200000, %eax
    adc $0, %edx
    inc %ecx
    cmp %ebx, %ecx
    jb 4b
    ret

/* The stack (RSP = 0x100000) grows down into 0xC0000..0xFFFFF, which the PC
 * firmware leaves as read-only shadow RAM: make it plain RAM again through the
 * host bridge's PAM registers (i440FX 0x59.., Q35 MCH 0x90..). */
unlock_bios_area:
    mov $0x80000000, %eax                /* bus 0, device 0, function 0, register 0 */
    mov $0xcf8, %dx
    out %eax, %dx
    mov $0xcfc, %dx
    in %dx, %eax
    mov $0x59, %ebx
    cmp $0x12378086, %eax                /* i440FX */
    je 1f
    mov $0x90, %ebx
    cmp $0x29c08086, %eax                /* Q35 */
    je 1f
    ret                                  /* another host bridge: leave it */
1:  lea 7(%ebx), %edi
    mov $0x30, %cl                       /* PAM0: 0xF0000..0xFFFFF read/write RAM */
2:  mov %ebx, %eax
    and $~3, %eax
    or $0x80000000, %eax
    mov $0xcf8, %dx
    out %eax, %dx
    mov %ebx, %edx
    and $3, %edx
    add $0xcfc, %edx
    mov %cl, %al
    out %al, %dx
    mov $0x33, %cl                       /* PAM1..6: 0xC0000..0xEFFFF */
    inc %ebx
    cmp %edi, %ebx
    jb 2b
    ret

/* What the trampoline zeroes: the stub itself and the loader's strings after
 * it, so that all RAM after the image's _end is zero at entry, as in a Ferry VM. */
zero_range:
    mov $__boot_end, %ebx
    mov mbi, %ecx
    mov cmdline, %esi
    call string_end
    testl $MBI_F_BOOTLOADER, MBI_FLAGS(%ecx)
    jz 1f
    mov MBI_BOOTLOADER(%ecx), %esi
    call string_end
1:  add $0xfff, %ebx
    and $~0xfff, %ebx
    mov %ebx, zero_end
    ret

/* EBX = max(EBX, end of the string at ESI) if the string lies within 1 MiB after
 * the stub. */
string_end:
    cmp $__boot_end, %esi
    jb 2f
    cmp $__boot_end + 0x100000, %esi
    jae 2f
1:  lodsb
    test %al, %al
    jnz 1b
    cmp %ebx, %esi
    jbe 2f
    mov %esi, %ebx
2:  ret

enter_long_mode:
    lgdt gdt_desc
    mov $CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT, %edi
    mov $1, %eax
    cpuid
    bt $26, %ecx                         /* XSAVE: OSXSAVE, XCR0 = x87|SSE(|AVX) */
    jnc 1f
    or $CR4_OSXSAVE, %edi
    mov %edi, %cr4
    mov $3, %eax
    bt $28, %ecx
    jnc 2f
    or $4, %eax
2:  xor %ecx, %ecx
    xor %edx, %edx
    xsetbv
1:  mov %edi, %cr4
    mov $PML4_ADDR, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov $CR0_ENTRY, %eax
    mov %eax, %cr0
    ljmp $SEL_KERNEL_CODE, $long_mode

    .code64
long_mode:
    mov $SEL_USER_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov $SEL_TSS, %eax
    ltr %ax
    lidt idt_desc(%rip)
    mov $trampoline, %esi
    mov $TRAMPOLINE, %edi
    mov $trampoline_end - trampoline, %ecx
    rep movsb
    mov zero_end(%rip), %ecx
    mov $__boot_start, %edi
    sub %edi, %ecx
    shr $3, %ecx
    mov $TRAMPOLINE, %eax
    jmp *%rax

/* Copied to TRAMPOLINE and run from there, since it zeroes the stub: then iretq
 * to the image's first byte at CPL 3 with the ABI's registers. (sysretq works
 * here too but needs EFER.SCE and leaves RCX and R11 set; a far return to CPL 3
 * is an emulation failure on the nested KVM. See boot/README.md.) */
trampoline:
    xor %eax, %eax
    rep stosq
    pushq $SEL_USER_DATA                 /* SS */
    pushq $IMAGE_ADDR                    /* RSP */
    pushq $RFLAGS_ENTRY                  /* RFLAGS */
    pushq $SEL_USER_CODE                 /* CS */
    pushq $IMAGE_ADDR                    /* RIP */
    mov $BOOT_INFO, %edi
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    iretq
trampoline_end:

    .code32
/* Prints "ferry multiboot: " and the message at ESI on COM1, then exits with
 * EAX through the EXIT port (QEMU: -device isa-debug-exit,iobase=0x504). */
die:
    mov %eax, %ebx
    push %esi
    mov $msg_prefix, %esi
    call puts
    pop %esi
    call puts
    mov %ebx, %eax
    mov $PORT_EXIT, %dx
    out %eax, %dx
1:  hlt
    jmp 1b

puts:
    mov $COM1, %dx
1:  lodsb
    test %al, %al
    jz 2f
    out %al, %dx
    jmp 1b
2:  ret

    .section .boot.data, "aw"
    .balign 8
gdt_template:
    .quad 0
    .quad 0x00af9a000000ffff             /* 0x08 kernel code64 */
    .quad 0x00cf92000000ffff             /* 0x10 kernel data */
    .quad 0x00cff2000000ffff             /* 0x18 user data, DPL 3 */
    .quad 0x00affa000000ffff             /* 0x20 user code64, DPL 3 */
    .quad 0x0000890000000000 | ((TSS_ADDR & 0xffffff) << 16) | TSS_LIMIT /* 0x28 TSS */
    .quad 0
gdt_template_end:
gdt_desc:
    .word gdt_template_end - gdt_template - 1
    .long GDT_ADDR
    .balign 8
idt_desc:
    .word 0
    .quad 0
mbi:        .long 0
cmdline:    .long 0
mmap_end:   .long 0
zero_end:   .long 0
tmp:        .quad 0, 0
msg_prefix: .asciz "ferry multiboot: "
msg_magic:  .asciz "not started by a Multiboot loader (EAX is not 0x2BADB002)\n"
msg_args:   .asciz "the command line is longer than the ABI's 2047 bytes of arguments\n"
msg_ram:    .asciz "no usable RAM at 1 MiB in the memory map, or too much RAM for the page tables\n"
msg_tsc:    .asciz "the TSC did not measure above 100 MHz against the PIT\n"

    .section .note.GNU-stack, "", @progbits
