package dev.ferry.vmm.kvm;

import java.util.Map;

/** Names for the errno values KVM and libc return to us. */
final class Errno {
    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "EPERM (operation not permitted)"),
            Map.entry(2, "ENOENT (no such file or directory)"),
            Map.entry(4, "EINTR (interrupted)"),
            Map.entry(5, "EIO (I/O error)"),
            Map.entry(7, "E2BIG (argument list too long)"),
            Map.entry(9, "EBADF (bad file descriptor)"),
            Map.entry(11, "EAGAIN (try again)"),
            Map.entry(12, "ENOMEM (out of memory)"),
            Map.entry(13, "EACCES (permission denied)"),
            Map.entry(14, "EFAULT (bad address)"),
            Map.entry(16, "EBUSY (device or resource busy)"),
            Map.entry(17, "EEXIST (already exists)"),
            Map.entry(19, "ENODEV (no such device)"),
            Map.entry(22, "EINVAL (invalid argument)"),
            Map.entry(24, "EMFILE (too many open files)"),
            Map.entry(25, "ENOTTY (not a KVM file descriptor or unknown ioctl)"),
            Map.entry(28, "ENOSPC (no space left)"),
            Map.entry(38, "ENOSYS (not implemented)"),
            Map.entry(95, "EOPNOTSUPP (not supported)"));

    private Errno() {}

    static String describe(int errno) {
        return "errno " + errno + " " + NAMES.getOrDefault(errno, "");
    }
}
