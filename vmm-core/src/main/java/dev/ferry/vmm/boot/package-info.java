/**
 * Booting a guest the way {@code guests/ABI.md} says: the image, the boot-info page, GDT/TSS with an I/O
 * bitmap, identity page tables, and a vCPU entered directly in 64-bit mode at CPL 3.
 */
package dev.ferry.vmm.boot;
