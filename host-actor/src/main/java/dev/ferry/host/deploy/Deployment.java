package dev.ferry.host.deploy;

import dev.ferry.storage.nbd.NbdRefusedException;
import dev.ferry.storage.stream.NbdRemoteImage;
import dev.ferry.storage.stream.StreamingDisk;
import dev.ferry.storage.stream.StreamingStatus;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.devices.virtio.blk.BlockStore;
import dev.ferry.vmm.devices.virtio.blk.FileBlockStore;
import dev.ferry.vmm.devices.virtio.blk.VirtioBlk;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A streaming deployment: a VM that boots at once with its disk streamed from an image on an NBD server, while the
 * image is copied to a local file in the background; once every block is local the disk goes over to that plain file
 * and virtualization goes OFF, without the guest noticing.
 *
 * <ol>
 *   <li>{@link #start}: connect to the image (a missing export is refused here, naming it and the server), open
 *       {@code DISKS/ID.img} (+ {@code .blocks}) as a {@link StreamingDisk} (resuming when both exist), boot the guest
 *       with that disk and virtualization ON, start it.</li>
 *   <li>Guest reads of blocks not yet local fetch them on demand; the copier fills in the rest while the guest is
 *       idle. While the server is away, guest reads wait and {@link #progress()} says {@code image server unreachable:
 *       ...}; a local write error (a full disk) ends the deployment FAILED.</li>
 *   <li>When the disk reports every block local: pause the guest, hand the virtio-blk device a {@link FileBlockStore}
 *       over the same file ({@link VirtioBlk#replaceStore}), switch virtualization OFF, resume; then close the
 *       streaming disk (its last bitmap, all ones, is persisted; the NBD connection closes). {@code devirt_ms} is the
 *       time from the copy's completion to virtualization OFF.</li>
 * </ol>
 * The swap (rather than leaving the streaming disk in place) takes the bitmap checks, counters and range checks of
 * every request off the guest's path: after it the device reads and writes the file exactly as a disk that was never
 * streamed.
 */
public final class Deployment {
    private static final Logger log = LoggerFactory.getLogger(Deployment.class);

    /** Where a deployment stands. */
    public enum State {
        /** Blocks are still being copied; the guest runs with virtualization ON. */
        STREAMING,
        /** Every block is local; the disk is being handed over and virtualization switched OFF. */
        SWITCHING,
        /** Every block is local, the disk is a plain file, virtualization is OFF. */
        LOCAL,
        /** The local disk failed (full, I/O error) or the switch failed. */
        FAILED,
        /** The VM stopped before the copy completed. */
        STOPPED
    }

    /** What to deploy: a guest, its RAM and arguments, and its disk's image ({@code server} is host:port). */
    public record Spec(String instanceId, String guest, long memory, Map<String, String> args, String image,
                       String server, long copyRateLimit) {
        public Spec {
            args = Map.copyOf(args);
        }
    }

    /** A snapshot for status reports; times are -1 until they happen. */
    public record Progress(State state, String message, long copiedBytes, long totalBytes, double copyBytesPerSecond,
                           long guestIoOps, long firstLineMs, long copyMs, long devirtMs, Path disk) {}

    private final Spec spec;
    private final Path disk;
    private final StreamingDisk streaming;
    private final Vm vm;
    private final VirtioBlk blk;
    private final long startNanos;
    private final CompletableFuture<Progress> ended = new CompletableFuture<>();
    private volatile State state = State.STREAMING;
    private volatile String failure;
    private volatile long firstLineNanos = -1;
    private volatile long completeNanos = -1;
    private volatile long devirtNanos = -1;
    private volatile StreamingStatus finalStatus;

    private Deployment(Spec spec, Path disk, StreamingDisk streaming, Vm vm, VirtioBlk blk, long startNanos) {
        this.spec = spec;
        this.disk = disk;
        this.streaming = streaming;
        this.vm = vm;
        this.blk = blk;
        this.startNanos = startNanos;
    }

    /** The local image of instance {@code id} under {@code disks}. */
    public static Path diskOf(Path disks, String id) {
        return disks.resolve(id + ".img");
    }

    /**
     * Connects to the image, opens the local disk, boots and starts the guest with virtualization ON; {@code onEnded}
     * is called once (on a thread of the deployment's own) when the deployment is LOCAL, FAILED or STOPPED.
     *
     * @throws DeploymentException with an operator's message when the image or the local disk cannot be used
     */
    public static Deployment start(Path disks, Spec spec, StreamingDisk.Options options, ConsoleOutput console,
                                   Consumer<Deployment> onEnded) throws DeploymentException {
        return start(disks, spec, options, console, vm -> { }, onEnded);
    }

    /** As above; {@code beforeStart} sees the booted VM before its vCPU runs (to attach device shadows, say). */
    public static Deployment start(Path disks, Spec spec, StreamingDisk.Options options, ConsoleOutput console,
                                   Consumer<Vm> beforeStart, Consumer<Deployment> onEnded) throws DeploymentException {
        return start(disks, spec, options, console, beforeStart, onEnded, p -> FileChannel.open(p,
                StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    /** As above, with the local disk's file opened by {@code files} (a test puts a disk that fills up under it). */
    static Deployment start(Path disks, Spec spec, StreamingDisk.Options options, ConsoleOutput console,
                            Consumer<Vm> beforeStart, Consumer<Deployment> onEnded, StreamingDisk.LocalFiles files)
            throws DeploymentException {
        long t0 = System.nanoTime();
        GuestImage guest;
        try {
            guest = GuestImage.load(spec.guest());
        } catch (RuntimeException e) {
            throw new DeploymentException(e.getMessage());
        }
        NbdRemoteImage remote = connect(spec);
        Path disk = diskOf(disks, spec.instanceId());
        StreamingDisk streaming;
        try {
            Files.createDirectories(disks);
            streaming = StreamingDisk.open(disk, remote, options.withCopyRateLimit(spec.copyRateLimit()), files);
        } catch (IOException | RuntimeException e) {
            remote.close();
            throw new DeploymentException("cannot open local disk " + disk + " for image '" + spec.image() + "': "
                    + e.getMessage());
        }
        Vm vm;
        try {
            vm = Hypervisor.get().boot(new VmConfig(spec.instanceId(), guest, spec.memory(), spec.args(), console)
                    .withDisk(streaming));
        } catch (RuntimeException e) {
            closeQuietly(streaming);
            throw new DeploymentException("cannot boot " + spec.instanceId() + ": " + e.getMessage());
        }
        VirtioBlk blk = vm.disk().orElseThrow();
        Deployment d = new Deployment(spec, disk, streaming, vm, blk, t0);
        console.onLine(line -> {
            if (d.firstLineNanos < 0) {
                d.firstLineNanos = System.nanoTime();
            }
        });
        try {
            vm.setVirtualization(Virtualization.ON);
            beforeStart.accept(vm);
            vm.start();
        } catch (RuntimeException e) {
            vm.close();
            throw new DeploymentException("cannot start " + spec.instanceId() + ": " + e.getMessage());
        }
        d.watch(onEnded);
        return d;
    }

    /**
     * Resumes a deployment that its host's previous process left unfinished, under a VM restored from a checkpoint
     * ({@code restored}, not started, with a virtio-blk disk over {@code DISKS/ID.img}): reconnects to the image,
     * reopens the local disk and its bitmap (only the blocks not yet local are copied), puts the streaming disk under
     * the VM's device, switches virtualization ON and starts the VM. On failure the VM is left unstarted to the caller.
     */
    public static Deployment resume(Path disks, Spec spec, StreamingDisk.Options options, Vm restored,
                                    Consumer<Deployment> onEnded) throws DeploymentException {
        long t0 = System.nanoTime();
        VirtioBlk blk = restored.disk().orElseThrow(() -> new DeploymentException("the restored " + spec.instanceId()
                + " has no disk to stream"));
        NbdRemoteImage remote = connect(spec);
        Path disk = diskOf(disks, spec.instanceId());
        StreamingDisk streaming;
        try {
            streaming = StreamingDisk.open(disk, remote, options.withCopyRateLimit(spec.copyRateLimit()));
        } catch (IOException | RuntimeException e) {
            remote.close();
            throw new DeploymentException("cannot reopen local disk " + disk + " for image '" + spec.image() + "': "
                    + e.getMessage());
        }
        try {
            BlockStore plain = blk.replaceStore(streaming);
            plain.close();
        } catch (IOException | RuntimeException e) {
            closeQuietly(streaming);
            throw new DeploymentException("cannot put the streaming disk under " + spec.instanceId() + ": "
                    + e.getMessage());
        }
        Deployment d = new Deployment(spec, disk, streaming, restored, blk, t0);
        restored.console().onLine(line -> {
            if (d.firstLineNanos < 0) {
                d.firstLineNanos = System.nanoTime();
            }
        });
        try {
            restored.setVirtualization(Virtualization.ON);
            restored.start();
        } catch (RuntimeException e) {
            throw new DeploymentException("cannot start the restored " + spec.instanceId() + ": " + e.getMessage());
        }
        d.watch(onEnded);
        log.info("deployment of {} resumed: {} of {} blocks were local", spec.instanceId(),
                streaming.status().blocksLocal(), streaming.status().blocksTotal());
        return d;
    }

    private static NbdRemoteImage connect(Spec spec) throws DeploymentException {
        String[] hostPort = splitServer(spec.server());
        try {
            return NbdRemoteImage.connect(hostPort[0], Integer.parseInt(hostPort[1]), spec.image());
        } catch (NbdRefusedException e) {
            throw new DeploymentException("image '" + spec.image() + "' is not served by the storage node at "
                    + spec.server() + ": " + e.getMessage());
        } catch (IOException e) {
            throw new DeploymentException("cannot reach the storage node at " + spec.server() + " for image '"
                    + spec.image() + "': " + e.getMessage());
        }
    }

    /** When the disk reports every block local (or fails), finish on a thread of the deployment's own. */
    private void watch(Consumer<Deployment> onEnded) {
        streaming.whenComplete().whenComplete((ok, err) -> {
            completeNanos = System.nanoTime();
            Thread t = new Thread(() -> finish(err, onEnded), "deployment-" + spec.instanceId());
            t.setDaemon(true);
            t.start();
        });
    }

    private static String[] splitServer(String server) throws DeploymentException {
        int colon = server.lastIndexOf(':');
        if (colon <= 0 || colon == server.length() - 1) {
            throw new DeploymentException("image server '" + server + "' is not host:port");
        }
        try {
            int port = Integer.parseInt(server.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new DeploymentException("image server '" + server + "' has no valid port");
        }
        return new String[] {server.substring(0, colon), server.substring(colon + 1)};
    }

    private void finish(Throwable err, Consumer<Deployment> onEnded) {
        try {
            if (err != null) {
                finalStatus = streaming.status();
                if (finalStatus.phase() == StreamingStatus.Phase.FAILED) {
                    fail(finalStatus.message());
                } else {
                    state = State.STOPPED;
                }
                return;
            }
            state = State.SWITCHING;
            switchToLocal();
        } catch (Exception e) {
            log.error("deployment of {}: switching to the local disk failed", spec.instanceId(), e);
            fail("switching to the local disk " + disk + " failed: " + e.getMessage());
        } finally {
            ended.complete(progress());
            onEnded.accept(this);
        }
    }

    private void fail(String why) {
        failure = why;
        state = State.FAILED;
    }

    /** Pause, plain file under the device, virtualization OFF, resume; then let the streaming disk go. */
    private void switchToLocal() throws IOException {
        if (!vm.isRunning()) {
            state = State.STOPPED;
            return;
        }
        FileBlockStore local = FileBlockStore.open(disk);
        BlockStore old;
        try {
            vm.pause();
        } catch (RuntimeException e) {
            local.close();
            state = State.STOPPED;   // closed meanwhile
            return;
        }
        try {
            old = blk.replaceStore(local);
            vm.setVirtualization(Virtualization.OFF);
        } finally {
            vm.resume();
        }
        devirtNanos = System.nanoTime() - completeNanos;
        finalStatus = streaming.status();
        state = State.LOCAL;
        log.info("deployment of {} is local: copy {} ms, virtualization OFF {} ms after", spec.instanceId(),
                (completeNanos - startNanos) / 1_000_000, devirtNanos / 1_000_000.0);
        old.close();   // persists the full bitmap and drops the NBD connection, off the guest's path
    }

    public Spec spec() {
        return spec;
    }

    public Vm vm() {
        return vm;
    }

    public Path disk() {
        return disk;
    }

    public State state() {
        return state;
    }

    /** Completes when the deployment is LOCAL, FAILED or STOPPED, with its progress then. */
    public CompletableFuture<Progress> whenEnded() {
        return ended.copy();
    }

    public Progress progress() {
        StreamingStatus s = finalStatus != null ? finalStatus : streaming.status();
        State st = state;
        long total = streaming.capacity();
        long copied = Math.min(total, s.blocksLocal() * (long) s.blockSize());
        String message = switch (st) {
            case FAILED -> failure;
            case LOCAL -> "local; virtualization OFF";
            case SWITCHING -> "switching to the local disk";
            case STOPPED -> "stopped before the copy completed";
            case STREAMING -> s.message();
        };
        return new Progress(st, message, st == State.LOCAL ? total : copied, total, s.copyRateBytesPerSecond(),
                blk.reads() + blk.writes() + blk.flushes(), millisSinceStart(firstLineNanos),
                millisSinceStart(completeNanos), devirtNanos < 0 ? -1 : devirtNanos / 1_000_000, disk);
    }

    /** {@link System#nanoTime()} when the disk reported every block local (-1 before). */
    public long copyCompleteNanos() {
        return completeNanos;
    }

    /** Exact time from completion to virtualization OFF, in nanoseconds (-1 before). */
    public long devirtNanos() {
        return devirtNanos;
    }

    /** The streaming disk's counters (image bytes local, wire and hole bytes, fetches), final once the copy ended. */
    public StreamingStatus status() {
        StreamingStatus s = finalStatus;
        return s != null ? s : streaming.status();
    }

    private long millisSinceStart(long at) {
        return at < 0 ? -1 : (at - startNanos) / 1_000_000;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already failing with a better message
        }
    }
}
