package dev.ferry.host.agent;

import dev.ferry.capture.VmCheckpointer;
import dev.ferry.capture.VmDeviceCapture;
import dev.ferry.capture.checkpoint.CheckpointChain;
import dev.ferry.capture.checkpoint.CheckpointMeta;
import dev.ferry.capture.checkpoint.WriteReport;
import dev.ferry.capture.shadow.DeviceCapture;
import dev.ferry.protocol.v1.CheckpointReply;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmResult;
import dev.ferry.vmm.console.ConsoleOutput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The blocking halves of a host's checkpoints and restores, run on the agent's worker threads. */
final class Snapshots {
    private Snapshots() {}

    /** A VM built from a checkpoint, its devices restored and shadowed, not started yet. */
    record Restored(Vm vm, DeviceCapture devices, CheckpointMeta meta) {}

    /**
     * Writes a full checkpoint of a running VM to {@code path}; the guest continues afterwards. {@code disk} (null:
     * none) is the local image it records for a restore, not copied.
     */
    static CheckpointReply checkpoint(String host, String id, long epoch, String guest, Vm vm, DeviceCapture devices,
                                      Path disk, Path path) {
        CheckpointReply.Builder reply = CheckpointReply.newBuilder().setInstanceId(id).setHost(host).setEpoch(epoch)
                .setPath(path.toString());
        long t0 = System.nanoTime();
        try {
            Path dir = path.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            WriteReport r = VmCheckpointer.writeFull(vm, guest, devices, disk, path);
            VmResult ended = vm.result().getNow(null);
            if (ended != null) {
                return reply.setOk(false).setError("instance " + id + " ended while it was checkpointed: "
                        + ended.describe()).build();
            }
            return reply.setOk(true).setConsoleTail(r.consoleTail()).setBytes(r.fileBytes()).setPauseMicros(r.elapsed().toNanos() / 1000)
                    .setTotalMicros((System.nanoTime() - t0) / 1000).build();
        } catch (IOException | RuntimeException e) {
            VmResult ended = vm.result().getNow(null);
            if (ended != null) {
                return reply.setOk(false).setError("instance " + id + " ended while it was checkpointed: "
                        + ended.describe()).build();
            }
            return reply.setOk(false).setError("checkpoint of " + id + " on " + host + " to " + path + " failed: "
                    + e.getMessage()).build();
        }
    }

    /**
     * Why a restore on a host that did not deploy the instance must not use the disk its checkpoint records, or null:
     * a disk whose block bitmap says it is not all local is another host's deployment in progress (on one machine its
     * path may exist), and read as a plain file its missing blocks would be zeros.
     */
    static String refusePartialDisk(String id, String host, CheckpointMeta meta) {
        String recorded = meta.attributes().get(dev.ferry.capture.VmCheckpointer.DISK_ATTRIBUTE);
        if (recorded == null) {
            return null;
        }
        Path bits = dev.ferry.storage.stream.StreamingDisk.bitmapOf(Path.of(recorded));
        if (!Files.exists(bits)) {
            return null;
        }
        try {
            var s = dev.ferry.storage.stream.BlockBitmap.summarize(bits);
            if (s.blocksLocal() == s.blocksTotal()) {
                return null;
            }
            return "the disk of " + id + ", " + recorded + ", is a deployment's partial copy (" + s.blocksLocal()
                    + " of " + s.blocksTotal() + " blocks local); restore it on the host that deployed it, which "
                    + "resumes the copy, not on " + host;
        } catch (IOException | RuntimeException e) {
            return "the disk of " + id + ", " + recorded + ", has a block bitmap that cannot be read: " + e.getMessage();
        }
    }

    /** The checkpoint's header, read and verified without touching guest memory. */
    static CheckpointMeta meta(Path path) throws IOException {
        try (CheckpointChain chain = CheckpointChain.open(path)) {
            return chain.meta();
        }
    }

    /**
     * Builds a VM from the checkpoint at {@code path}; the caller starts it. {@code disk} (null: the one the
     * checkpoint recorded, if any) is the local image under its virtio-blk device.
     */
    static Restored restore(Path path, Path disk) throws IOException {
        CheckpointMeta meta = meta(path);
        Vm vm = dev.ferry.capture.VmRestore.restore(path, new ConsoleOutput(), disk);
        try {
            return new Restored(vm, VmDeviceCapture.attach(vm), meta);
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }
}
