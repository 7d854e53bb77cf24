package dev.ferry.host.agent;

/**
 * What the journal says about an instance deployed from an image: where its disk streams from and to, and whether
 * the deployment ended (every block local, virtualization OFF) or failed.
 */
public record DeploymentRecord(String image, String imageServer, String diskPath, long totalBytes, boolean ended,
                               boolean ok, String error, long copyMs, long devirtMs) {
    DeploymentRecord ended(boolean ok, String error, long copyMs, long devirtMs) {
        return new DeploymentRecord(image, imageServer, diskPath, totalBytes, true, ok, error, copyMs, devirtMs);
    }

    /** The state a status report shows once the deployment's process is gone. */
    String stateWhenNotLive() {
        return !ended ? "INTERRUPTED" : ok ? "LOCAL" : "FAILED";
    }
}
