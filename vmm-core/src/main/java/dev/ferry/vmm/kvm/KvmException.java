package dev.ferry.vmm.kvm;

/** A KVM or libc call failed; names the call and the errno so the message says what went wrong. */
public final class KvmException extends RuntimeException {
    private final String call;
    private final int errno;

    public KvmException(String call, int errno) {
        super(call + " failed: " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    public KvmException(String call, String message) {
        super(call + " failed: " + message);
        this.call = call;
        this.errno = 0;
    }

    /** The ioctl or libc function that failed, e.g. {@code KVM_SET_SREGS}. */
    public String call() {
        return call;
    }

    /** The errno it returned, or 0 when the failure was not an errno. */
    public int errno() {
        return errno;
    }
}
