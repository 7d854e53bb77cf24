package dev.ferry.vmm.kvm;

import com.sun.jna.LastErrorException;

/**
 * Checked wrappers over {@link LibC}: each turns a failure into a {@link KvmException} naming the call.
 */
final class Sys {
    private Sys() {}

    /** Issues an ioctl whose argument is a plain value or a host address. Safety: {@code arg} must stay valid for the call. */
    static int ioctl(String name, int fd, long request, long arg) {
        try {
            return LibC.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            throw new KvmException(name, e.getErrorCode());
        }
    }

    static int open(String path, int flags) {
        try {
            return LibC.open(path, flags);
        } catch (LastErrorException e) {
            throw new KvmException("open(" + path + ")", e.getErrorCode());
        }
    }

    static void close(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            throw new KvmException("close", e.getErrorCode());
        }
    }

    /** Maps {@code length} bytes; returns the address. */
    static long mmap(long length, int prot, int flags, int fd, long offset) {
        try {
            long addr = LibC.mmap(0, length, prot, flags, fd, offset);
            if (addr == LibC.MAP_FAILED) {
                throw new KvmException("mmap", "returned MAP_FAILED");
            }
            return addr;
        } catch (LastErrorException e) {
            throw new KvmException("mmap(" + length + " bytes)", e.getErrorCode());
        }
    }

    static void munmap(long addr, long length) {
        try {
            LibC.munmap(addr, length);
        } catch (LastErrorException e) {
            throw new KvmException("munmap", e.getErrorCode());
        }
    }
}
