package dev.ferry.vmm.kvm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * A Linux eventfd: a counter the kernel (KVM_IOEVENTFD) or another thread increments, and a thread waits on.
 * {@link #await()} blocks until the counter is non-zero and returns and clears it.
 */
public final class EventFd implements AutoCloseable {
    private static final int EFD_CLOEXEC = 0x80000;

    private final int fd;
    private final Memory readBuf = new Memory(8);
    private final Memory writeBuf = new Memory(8);
    private volatile boolean closed;

    public EventFd() {
        try {
            this.fd = LibC.eventfd(0, EFD_CLOEXEC);
        } catch (LastErrorException e) {
            throw new KvmException("eventfd", e.getErrorCode());
        }
    }

    int fd() {
        return fd;
    }

    /** Blocks until signalled; returns how many signals arrived since the last call. */
    public long await() {
        while (true) {
            try {
                // Safety: readBuf is 8 bytes, the size of the counter.
                LibC.read(fd, Pointer.nativeValue(readBuf), 8);
                return readBuf.getLong(0);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != LibC.EINTR) {
                    throw new KvmException("read(eventfd)", e.getErrorCode());
                }
            }
        }
    }

    /** Adds one to the counter, waking a thread in {@link #await()}. */
    public synchronized void signal() {
        writeBuf.setLong(0, 1);
        try {
            LibC.write(fd, Pointer.nativeValue(writeBuf), 8);
        } catch (LastErrorException e) {
            throw new KvmException("write(eventfd)", e.getErrorCode());
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Sys.close(fd);
        }
    }
}
