package dev.ferry.host.agent;

import dev.ferry.host.deploy.Deployment;
import dev.ferry.protocol.v1.InstanceInfo;

/** A deployment as the agent reports it in {@link InstanceInfo}: live when this process runs it, else as journaled. */
final class DeploymentReports {
    private DeploymentReports() {}

    static void describe(InstanceInfo.Builder i, DeploymentRecord d, Deployment live) {
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
        i.setDeployState(state).setFirstLineMs(-1).setCopyMs(d.copyMs()).setDevirtMs(d.devirtMs())
                .setCopiedBytes(d.ended() && d.ok() ? d.totalBytes() : 0)
                .setDeployMessage(switch (state) {
                    case "LOCAL" -> "local; the VM is gone";
                    case "FAILED" -> d.error();
                    default -> "interrupted: the disk and its block bitmap stay at " + d.diskPath();
                });
    }
}
