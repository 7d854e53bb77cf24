package dev.ferry.host.agent;

import dev.ferry.host.deploy.Deployment;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.storage.stream.BlockBitmap;
import dev.ferry.storage.stream.StreamingDisk;
import dev.ferry.vmm.memory.MemorySize;
import java.io.IOException;
import java.nio.file.Path;

/** A deployment as the agent reports it in {@link InstanceInfo}: live when this process runs it, else as journaled. */
final class DeploymentReports {
    private DeploymentReports() {}

    /**
     * What the disk of a deployment that no process runs holds, read once from its block bitmap after a restart:
     * the bytes local, or why that is unknown.
     */
    record Stored(long bytesLocal, String problem) {
        static Stored of(Path disk) {
            Path bits = StreamingDisk.bitmapOf(disk);
            try {
                return new Stored(BlockBitmap.summarize(bits).bytesLocal(), null);
            } catch (java.nio.file.NoSuchFileException e) {
                return new Stored(0, "its block bitmap " + bits + " is gone");
            } catch (IOException | RuntimeException e) {
                return new Stored(0, e.getMessage());
            }
        }
    }

    static void describe(InstanceInfo.Builder i, String id, String host, DeploymentRecord d, Deployment live,
                         Stored stored) {
        i.setImage(d.image()).setDiskPath(d.diskPath()).setTotalBytes(d.totalBytes());
        if (live != null) {
            Deployment.Progress p = live.progress();
            i.setDeployState(p.state().name()).setDeployMessage(p.message() == null ? "" : p.message())
                    .setCopiedBytes(p.copiedBytes()).setTotalBytes(p.totalBytes()).setCopyBps(p.copyBytesPerSecond())
                    .setGuestIoOps(p.guestIoOps()).setFirstLineMs(p.firstLineMs()).setCopyMs(p.copyMs())
                    .setDevirtMs(p.devirtMs());
            return;
        }
        String state = d.stateWhenNotLive();
        long copied = d.ended() && d.ok() ? d.totalBytes() : stored != null ? stored.bytesLocal() : 0;
        String resume = "; a restore of " + id + " on " + host + " reopens it and resumes the copy";
        String kept = stored != null && stored.problem() != null
                ? "; the disk stays at " + d.diskPath() + " but what of it is local is unknown: " + stored.problem()
                : ": " + MemorySize.format(copied) + " of " + MemorySize.format(d.totalBytes()) + " local in "
                + d.diskPath() + " (and its block bitmap)" + resume;
        i.setDeployState(state).setFirstLineMs(-1).setCopyMs(d.copyMs()).setDevirtMs(d.devirtMs())
                .setCopiedBytes(copied)
                .setDeployMessage(switch (state) {
                    case "LOCAL" -> "local; the VM is gone";
                    case "FAILED" -> d.error() + (stored != null ? kept : "");
                    default -> "interrupted by a restart of " + host + kept;
                });
    }
}
