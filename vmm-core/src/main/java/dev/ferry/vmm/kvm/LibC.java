package dev.ferry.vmm.kvm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The raw libc calls the core needs, bound by JNA direct mapping (no reflection per call).
 * Pointers travel as {@code long} addresses; every call that can fail declares
 * {@link LastErrorException} so errno is captured on the calling thread.
 */
final class LibC {
    static final int O_RDWR = 0x2;
    static final int O_CLOEXEC = 0x80000;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int PROT_EXEC = 0x4;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    static final long MAP_FAILED = -1L;
    static final int MFD_CLOEXEC = 0x1;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int E2BIG = 7;
    static final int ENXIO = 6;
    static final int EINVAL = 22;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    static {
        Native.register(NativeLibrary.getInstance("c"));
    }

    private LibC() {}

    static native int open(String path, int flags) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    static native int ioctl(int fd, long request, long arg) throws LastErrorException;

    static native long mmap(long addr, long length, int prot, int flags, int fd, long offset) throws LastErrorException;

    static native int munmap(long addr, long length) throws LastErrorException;

    static native int mprotect(long addr, long length, int prot) throws LastErrorException;

    static native int madvise(long addr, long length, int advice) throws LastErrorException;

    static native int memfd_create(String name, int flags) throws LastErrorException;

    static native int ftruncate(int fd, long length) throws LastErrorException;

    static native long lseek(int fd, long offset, int whence) throws LastErrorException;

    static native int eventfd(int initval, int flags) throws LastErrorException;

    static native long read(int fd, long buf, long count) throws LastErrorException;

    static native long write(int fd, long buf, long count) throws LastErrorException;

    static native int sigaction(int signum, long act, long oldact) throws LastErrorException;

    static native long pthread_self();

    static native int pthread_kill(long thread, int sig);

    static native long sysconf(int name);
}
