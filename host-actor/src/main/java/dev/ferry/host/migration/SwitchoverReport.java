package dev.ferry.host.migration;

import dev.ferry.protocol.v1.SwitchoverTimes;
import java.util.Locale;

/** One line saying where a switchover's downtime went, for logs and the operator. */
public final class SwitchoverReport {
    private SwitchoverReport() {}

    public static String line(SwitchoverTimes t) {
        return String.format(Locale.ROOT, "pause %.1f ms, final %d pages %.1f ms, capture %.1f ms, "
                        + "verify %.1f ms (destination: batches %.1f ms, restore %.1f ms), persist commit %.1f ms, "
                        + "commit to resume %.1f ms (destination start %.1f ms)",
                t.getPauseMicros() / 1e3, t.getFinalPages(), t.getFinalCopyMicros() / 1e3, t.getCaptureMicros() / 1e3,
                t.getVerifyMicros() / 1e3, t.getDestinationBatchesMicros() / 1e3,
                t.getDestinationRestoreMicros() / 1e3, t.getPersistCommitMicros() / 1e3, t.getResumeMicros() / 1e3,
                t.getDestinationStartMicros() / 1e3);
    }
}
