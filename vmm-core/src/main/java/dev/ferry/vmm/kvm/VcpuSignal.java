package dev.ferry.vmm.kvm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The signal that kicks a vCPU thread out of {@code KVM_RUN}. Its handler must be native code (a Java thread
 * cannot host a signal handler): one page holding a single {@code ret} instruction, installed with
 * {@code sigaction} once per process. The signal is a real-time one the JVM does not use.
 */
final class VcpuSignal {
    private static final byte RET = (byte) 0xC3;
    private static volatile int signal;

    private VcpuSignal() {}

    static int number() {
        int s = signal;
        if (s == 0) {
            synchronized (VcpuSignal.class) {
                s = signal;
                if (s == 0) {
                    s = install();
                    signal = s;
                }
            }
        }
        return s;
    }

    private static int install() {
        int sigrtmin = NativeLibrary.getInstance("c").getFunction("__libc_current_sigrtmin").invokeInt(new Object[0]);
        int sig = sigrtmin + 6;
        long page = Sys.mmap(4096, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
        new Pointer(page).setByte(0, RET);
        try {
            LibC.mprotect(page, 4096, LibC.PROT_READ | LibC.PROT_EXEC);
            Memory act = Structs.alloc(Layout.SIGACTION_SIZE);
            act.setLong(Layout.SIGACTION_HANDLER, page);
            act.setInt(Layout.SIGACTION_FLAGS, 0);
            // Safety: act is a whole glibc struct sigaction; the handler page stays mapped for the process's life.
            LibC.sigaction(sig, Pointer.nativeValue(act), 0);
        } catch (LastErrorException e) {
            throw new KvmException("sigaction(SIGRTMIN+6)", e.getErrorCode());
        }
        return sig;
    }
}
