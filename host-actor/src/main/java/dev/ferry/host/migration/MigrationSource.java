package dev.ferry.host.migration;

import com.google.protobuf.ByteString;
import dev.ferry.capture.checkpoint.MachineStateCodec;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.RestorePlanCodec;
import dev.ferry.capture.shadow.DeviceCapture;
import dev.ferry.protocol.ProtocolVersions;
import dev.ferry.protocol.v1.Abort;
import dev.ferry.protocol.v1.Commit;
import dev.ferry.protocol.v1.Committed;
import dev.ferry.protocol.v1.FinalState;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrationAccept;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationOffer;
import dev.ferry.protocol.v1.MigrationOutCommitted;
import dev.ferry.protocol.v1.MigrationOutFailed;
import dev.ferry.protocol.v1.MigrationProgress;
import dev.ferry.protocol.v1.MigrationReject;
import dev.ferry.protocol.v1.StateVerified;
import dev.ferry.protocol.v1.SwitchoverTimes;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.memory.PageBitmap;
import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of one live migration, on its own thread: offer, pre-copy rounds until the predicted downtime fits
 * (or the round limit; a guest that out-dirties the link is throttled rather than failed), stop-and-copy, state
 * handover, commit. Until the commit is persisted any failure leaves the guest running here with virtualization OFF;
 * after it, this host never runs the guest again.
 */
public final class MigrationSource implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationSource.class);
    private static final long ACK_TIMEOUT_MILLIS = 60_000;
    private static final long REPLY_TIMEOUT_MILLIS = 15_000;
    /** Pages sent between two looks at the dirty log within a round (64 MiB). */
    private static final int PEEK_CHUNK_PAGES = 16_384;
    /** Batches allowed in flight when the next chunk is chosen (16 MiB): enough to keep the streams busy. */
    private static final int BACKLOG_BATCHES = 64;

    /** How it ended, for the agent: committed (release the VM) or not (the guest runs on here). */
    public record Outcome(String migrationId, String instanceId, boolean committed, String error) {}

    private final AgentLink link;
    private final MigrateInstance request;
    private final String guest;
    private final Map<String, String> args;
    private final long epoch;
    private final Vm vm;
    private final DeviceCapture devices;
    private final Consumer<Outcome> onEnd;
    private final Inbox inbox = new Inbox();

    public MigrationSource(AgentLink link, MigrateInstance request, String guest, Map<String, String> args, long epoch,
                           Vm vm, DeviceCapture devices, Consumer<Outcome> onEnd) {
        this.link = link;
        this.request = request;
        this.guest = guest;
        this.args = Map.copyOf(args);
        this.epoch = epoch;
        this.vm = vm;
        this.devices = devices;
        this.onEnd = onEnd;
    }

    public void deliver(com.google.protobuf.GeneratedMessage m) {
        inbox.deliver(m);
    }

    public void cancel() {
        inbox.cancel();
    }

    private static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }

    private static long[] toArray(PageBitmap b) {
        long[] out = new long[(int) b.count()];
        int[] i = {0};
        b.forEach(p -> out[i[0]++] = p);
        return out;
    }

    private void progress(String phase, int round, long left, long bytes, double gbps, double dirtyRate, int throttle) {
        link.tell(request.getReplyTo(), MigrationProgress.newBuilder().setMigrationId(request.getMigrationId())
                .setPhase(phase).setRound(round).setPagesLeft(left).setBytesSent(bytes).setGbps(gbps)
                .setDirtyPagesPerS(dirtyRate).setThrottlePercent(throttle).build());
    }

    @Override
    public void run() {
        long t0 = System.nanoTime();
        String id = request.getMigrationId();
        boolean committed = false;
        boolean paused = false;
        PageSender sender = null;
        Throttle throttle = null;
        MigrationDone.Builder done = MigrationDone.newBuilder().setMigrationId(id);
        try {
            link.tell(request.getTargetRef(), MigrationOffer.newBuilder().setMigrationId(id)
                    .setInstanceId(request.getInstanceId()).setGuest(guest).setMemoryBytes(vm.memory().size())
                    .putAllArgs(args).setVersion(ProtocolVersions.current()).setEpoch(epoch)
                    .setSourceHost(link.hostName()).setSourceRef(link.selfRef()).setStreams(streams()).build());
            MigrationAccept accept = awaitAccept();
            done.setDestinationHost(accept.getDestinationHost());
            vm.setVirtualization(Virtualization.ON);
            PageBitmap dirty = vm.newPageBitmap();
            vm.fetchDirtyPages(dirty);
            boolean lz4 = BatchCodec.compressionWanted()
                    && accept.getCompressionsList().contains(dev.ferry.protocol.v1.PageCompression.PAGE_COMPRESSION_LZ4);
            sender = new PageSender(link.system(), vm.memory(), accept.getHost(), accept.getPort(), streams(),
                    link.hostName(), request.getInstanceId(), lz4);
            throttle = new Throttle(vm);

            long[] pages = populatedPages();
            PageBitmap peek = vm.newPageBitmap();
            long skipped = 0;
            int round = 0;
            double bandwidth = 0;
            double pageBandwidth = 0;
            double dirtyRate = 0;
            long downtimeLimit = request.getDowntimeLimitMicros() > 0 ? request.getDowntimeLimitMicros() : 50_000;
            int maxRounds = request.getMaxRounds() > 0 ? request.getMaxRounds() : 30;
            long copyBudget = link.switchoverCost().copyBudgetMicros(downtimeLimit);
            while (true) {
                inbox.check();
                long bytesBefore = sender.bytes();
                long r0 = System.nanoTime();
                progress("pre-copy", round, pages.length, bytesBefore, bandwidth * 8 / 1e9, dirtyRate, throttle.percent());
                long skippedNow = sendFresh(sender, pages, round, peek);
                skipped += skippedNow;
                sender.awaitAcknowledged(ACK_TIMEOUT_MILLIS);
                double seconds = Math.max(1e-6, (System.nanoTime() - r0) / 1e9);
                if (pages.length > skippedNow) {
                    bandwidth = (sender.bytes() - bytesBefore) / seconds;
                    // what the decisions need is pages moved per second: with compression, fewer bytes than pages
                    pageBandwidth = (pages.length - skippedNow) * 4096.0 / seconds;
                }
                dirty.clear();
                vm.fetchDirtyPages(dirty);
                pages = toArray(dirty);
                dirtyRate = pages.length / seconds;
                round++;
                double predictedMicros = pageBandwidth > 0 ? pages.length * 4096.0 / pageBandwidth * 1e6 : 0;
                if (predictedMicros <= copyBudget || round >= maxRounds) {
                    break;
                }
                if (round >= 2 && dirtyRate * 4096 > 0.5 * pageBandwidth) {
                    throttle.set(throttle.percent() + 20);
                }
            }
            done.setThrottlePercent(throttle.percent()).setPagesSkipped(skipped);
            throttle.stop();
            throttle = null;

            long pauseMicros = micros();
            long s0 = System.nanoTime();
            vm.pause();
            paused = true;
            long s1 = System.nanoTime();
            vm.fetchDirtyPages(dirty); // adds to the pages still pending from the last round
            pages = toArray(dirty);
            progress("stop-and-copy", round, pages.length, sender.bytes(), bandwidth * 8 / 1e9, dirtyRate, 0);
            // The last pages flow while the state is captured; the destination applies every batch before it
            // answers the final state, so no acknowledgement is awaited here.
            sender.send(pages, pages.length, round);
            long s2 = System.nanoTime();
            int finalPages = pages.length;
            round++;
            FinalState.Builder fs = FinalState.newBuilder().setMigrationId(id)
                    .setMachineState(MachineStateCodec.encode(vm.captureMachineState()).toByteString())
                    .setBatches(sender.batches()).setPauseEpochMicros(pauseMicros)
                    .setConsolePartialLine(vm.console().partialLine());
            for (RestorePlan p : devices.plans()) {
                fs.addDevicePlans(ByteString.copyFrom(RestorePlanCodec.encode(p)));
            }
            long checksum = request.getVerifyMemory() ? vm.memory().checksum() : 0;
            fs.setMemoryChecksum(checksum);
            long s3 = System.nanoTime();
            link.tell(accept.getDestinationRef(), fs.build());
            StateVerified verified = inbox.await(StateVerified.class, REPLY_TIMEOUT_MILLIS, "state verification");
            if (!verified.getOk()) {
                String mine = sender.failure();
                throw new MigrationException("destination refused the final state: " + verified.getReason()
                        + (mine == null ? "" : " (page stream: " + mine + ")"));
            }
            long s4 = System.nanoTime();
            link.persist(MigrationOutCommitted.newBuilder().setMigrationId(id).setInstanceId(request.getInstanceId())
                    .setEpoch(epoch + 1).build());
            committed = true;
            long s5 = System.nanoTime();
            link.tell(accept.getDestinationRef(), Commit.newBuilder().setMigrationId(id).setEpoch(epoch + 1).build());
            long downtime;
            long startMicros = 0;
            try {
                Committed c = inbox.await(Committed.class, REPLY_TIMEOUT_MILLIS, "resume confirmation");
                downtime = c.getResumedEpochMicros() - pauseMicros;
                startMicros = c.getStartMicros();
            } catch (MigrationException e) {
                LOG.warn("migration {} committed, but the destination did not confirm it resumed: {}", id, e.getMessage());
                downtime = -1;
            }
            long s6 = System.nanoTime();
            SwitchoverTimes times = SwitchoverTimes.newBuilder().setPauseMicros((s1 - s0) / 1000)
                    .setFinalPages(finalPages).setFinalCopyMicros((s2 - s1) / 1000).setCaptureMicros((s3 - s2) / 1000)
                    .setVerifyMicros((s4 - s3) / 1000).setDestinationBatchesMicros(verified.getBatchesWaitMicros())
                    .setDestinationRestoreMicros(verified.getRestoreMicros()).setPersistCommitMicros((s5 - s4) / 1000)
                    .setResumeMicros((s6 - s5) / 1000).setDestinationStartMicros(startMicros).build();
            done.setSwitchover(times);
            link.switchoverCost().observe(downtime, finalPages, bandwidth);
            LOG.info("migration {} switchover: {}", id, SwitchoverReport.line(times));
            long total = (System.nanoTime() - t0) / 1000;
            done.setOk(true).setTotalMicros(total).setDowntimeMicros(downtime).setBytes(sender.bytes())
                    .setZeroPages(sender.zeroPages()).setLz4Batches(sender.compressedBatches())
                    .setRounds(round).setGbps(sender.bytes() * 8.0 / (total * 1000.0)).setDirtyPagesPerS(dirtyRate)
                    .setMemoryChecksum(checksum);
        } catch (MigrationException | RuntimeException | InterruptedException e) {
            String why = e instanceof MigrationException ? e.getMessage() : e.toString();
            LOG.warn("migration {} of {} failed: {}", id, request.getInstanceId(), why);
            done.setOk(false).setError(why).setTotalMicros((System.nanoTime() - t0) / 1000);
            if (!committed) {
                link.tell(request.getTargetRef(), Abort.newBuilder().setMigrationId(id).setReason(why).build());
                if (throttle != null) {
                    throttle.stop();
                }
                try {
                    vm.setVirtualization(Virtualization.OFF);
                    if (paused) {
                        vm.resume();
                    }
                    link.persist(MigrationOutFailed.newBuilder().setMigrationId(id)
                            .setInstanceId(request.getInstanceId()).setReason(why).build());
                } catch (MigrationException | RuntimeException again) {
                    LOG.error("migration {}: could not resume the guest after failing: {}", id, again.toString());
                }
            }
        } finally {
            if (sender != null) {
                sender.close();
            }
            link.tell(request.getReplyTo(), done.build());
            onEnd.accept(new Outcome(id, request.getInstanceId(), committed, done.getError()));
        }
    }

    /**
     * Sends one pre-copy round's pages a chunk at a time, leaving out those the guest has written again since the
     * round began (the dirty log still holds them, so the next round sends them): a page goes at most once a round.
     * The queue is kept short so that what is left out is decided close to when it would have left. Returns the
     * pages left out.
     */
    private long sendFresh(PageSender sender, long[] pages, int round, PageBitmap peek)
            throws InterruptedException, MigrationException {
        long skipped = 0;
        for (int from = 0; from < pages.length; from += PEEK_CHUNK_PAGES) {
            int to = Math.min(pages.length, from + PEEK_CHUNK_PAGES);
            if (from == 0) {
                sender.send(pages, to, round);
                continue;
            }
            sender.awaitBacklog(BACKLOG_BATCHES, ACK_TIMEOUT_MILLIS);
            inbox.check();
            peek.clear();
            vm.peekDirtyPages(peek);
            long[] fresh = new long[to - from];
            int n = 0;
            for (int i = from; i < to; i++) {
                if (!peek.get(pages[i])) {
                    fresh[n++] = pages[i];
                }
            }
            skipped += (to - from) - n;
            sender.send(fresh, n, round);
        }
        return skipped;
    }

    private int streams() {
        return request.getStreams() > 0 ? Math.min(request.getStreams(), 8) : 2;
    }

    private MigrationAccept awaitAccept() throws InterruptedException, MigrationException {
        long deadline = System.currentTimeMillis() + REPLY_TIMEOUT_MILLIS;
        while (true) {
            com.google.protobuf.GeneratedMessage m = inbox.await(com.google.protobuf.GeneratedMessage.class,
                    Math.max(1, deadline - System.currentTimeMillis()), "answer to the migration offer");
            if (m instanceof MigrationAccept a) {
                return a;
            }
            if (m instanceof MigrationReject r) {
                throw new MigrationException("destination refused: " + r.getReason());
            }
        }
    }

    private long[] populatedPages() {
        long[] out = new long[(int) Math.min(Integer.MAX_VALUE - 8, vm.memory().pageCount())];
        int[] n = {0};
        vm.memory().forEachPopulatedPage(p -> out[n[0]++] = p);
        return java.util.Arrays.copyOf(out, n[0]);
    }
}
