package dev.ferry.host.migration;

import com.google.protobuf.ByteString;
import dev.ferry.capture.VmDeviceCapture;
import dev.ferry.capture.checkpoint.MachineStateCodec;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.RestorePlanCodec;
import dev.ferry.capture.shadow.DeviceCapture;
import dev.ferry.protocol.v1.Commit;
import dev.ferry.protocol.v1.Committed;
import dev.ferry.protocol.v1.FinalState;
import dev.ferry.protocol.v1.MachineProto;
import dev.ferry.protocol.v1.MigrationInAborted;
import dev.ferry.protocol.v1.MigrationInCommitted;
import dev.ferry.protocol.v1.MigrationOffer;
import dev.ferry.protocol.v1.StateVerified;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.memory.GuestMemory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination side of one live migration: guest RAM filled by the page streams, then a VM restored from the final
 * state and its devices rebuilt from their plans, started only when the source's commit arrives. Until then any
 * failure, abort, or silence from the source discards the copy.
 */
public final class MigrationDestination implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationDestination.class);
    private static final long IDLE_TIMEOUT_MILLIS = 10_000;
    /**
     * Fault injection for crash tests: {@code -Dferry.fault.halt-after-final-state=true} ends this process abruptly
     * (as kill -9 would) once the final state is verified and before the answer leaves, so the source never commits.
     */
    private static final boolean HALT_AFTER_FINAL_STATE = Boolean.getBoolean("ferry.fault.halt-after-final-state");

    /** The instance this migration brought in, now running here. */
    public record Arrival(String instanceId, Vm vm, DeviceCapture devices, long epoch) {}

    private final AgentLink link;
    private final MigrationOffer offer;
    private final ConsoleOutput console;
    private final Consumer<Arrival> onArrival;
    private final Consumer<String> onDiscard;
    private final GuestMemory memory;
    private final PageReceiver receiver;
    /** Built when the offer is accepted, so the switchover only sets its state; null until the final state is in. */
    private final Vm prepared;
    private Vm vm;
    private long pauseMicros;
    private volatile boolean finished;

    public MigrationDestination(AgentLink link, MigrationOffer offer, ConsoleOutput console, Consumer<Arrival> onArrival,
                                Consumer<String> onDiscard) throws MigrationException {
        this.link = link;
        this.offer = offer;
        this.console = console;
        this.onArrival = onArrival;
        this.onDiscard = onDiscard;
        this.prepared = Hypervisor.get().prepare(offer.getInstanceId(), GuestMemory.allocate(offer.getMemoryBytes()),
                console, null);
        this.memory = prepared.memory();
        try {
            // The address this node is reached at in the cluster (127.0.0.1 unless bound elsewhere).
            this.receiver = new PageReceiver(link.system(), memory,
                    link.system().address().getHost().orElse("127.0.0.1"));
        } catch (MigrationException e) {
            prepared.close();
            throw e;
        }
        Thread watchdog = new Thread(this::watch, "migration-in-" + offer.getMigrationId() + "-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    public String instanceId() {
        return offer.getInstanceId();
    }

    public int port() {
        return receiver.port();
    }

    /** The address the page streams are accepted on: this node's cluster address. */
    public String host() {
        return receiver.host();
    }

    private void watch() {
        while (!finished) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                if (!finished && vm == null && (receiver.failure() != null
                        || receiver.millisSinceActivity() > IDLE_TIMEOUT_MILLIS)) {
                    String why = receiver.failure() != null ? receiver.failure()
                            : "the source sent nothing for " + IDLE_TIMEOUT_MILLIS + " ms";
                    discard(why);
                }
            }
        }
    }

    private static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }

    /** The source's final state: waits for every batch, builds the VM (not started), and answers. */
    public void onFinalState(FinalState fs) {
        StateVerified.Builder reply = StateVerified.newBuilder().setMigrationId(offer.getMigrationId());
        long t0 = System.nanoTime();
        try {
            receiver.awaitBatches(fs.getBatches(), IDLE_TIMEOUT_MILLIS);
            long t1 = System.nanoTime();
            synchronized (this) {
                if (finished) {
                    throw new MigrationException("the destination already discarded this migration");
                }
                receiver.close();
                List<RestorePlan> plans = new ArrayList<>();
                for (ByteString b : fs.getDevicePlansList()) {
                    plans.add(RestorePlanCodec.decode(b.toByteArray()));
                }
                var machine = MachineStateCodec.decode(MachineProto.MachineState.parseFrom(fs.getMachineState()));
                if (fs.getMemoryChecksum() != 0) {
                    long mine = memory.checksum();
                    reply.setMemoryChecksum(mine);
                    if (mine != fs.getMemoryChecksum()) {
                        throw new MigrationException(String.format("guest RAM checksum %016x differs from the source's %016x",
                                mine, fs.getMemoryChecksum()));
                    }
                }
                console.prefill(fs.getConsolePartialLine());
                prepared.restoreMachineState(machine);
                vm = prepared;
                VmDeviceCapture.restore(vm, plans);
                pauseMicros = fs.getPauseEpochMicros();
                reply.setBatchesWaitMicros((t1 - t0) / 1000).setRestoreMicros((System.nanoTime() - t1) / 1000);
                LOG.info(String.format("migration %s final state: batches %.1f ms, VM restored %.1f ms",
                        offer.getMigrationId(), (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6));
            }
            reply.setOk(true);
            if (HALT_AFTER_FINAL_STATE) {
                Runtime.getRuntime().halt(137);
            }
        } catch (Exception e) {
            String why = e instanceof MigrationException ? e.getMessage() : e.toString();
            reply.setOk(false).setReason(why);
            synchronized (this) {
                discard(why);
            }
        }
        link.tell(offer.getSourceRef(), reply.build());
    }

    /**
     * The commit (already persisted by the source): persists it here, moves the guest's clock over the downtime,
     * starts it with virtualization OFF, and hands it to the agent.
     */
    public synchronized void onCommit(Commit c) {
        if (vm == null || finished) {
            LOG.error("migration {}: commit without a verified final state", offer.getMigrationId());
            return;
        }
        // Resume first: the source has already made the commit durable, and a destination that dies before its own
        // journal has it loses the running VM either way; the guest should not wait for this host's disk.
        long t0 = System.nanoTime();
        DeviceCapture devices = VmDeviceCapture.attach(vm);
        long elapsedMicros = Math.max(0, micros() - pauseMicros);
        vm.advanceTscBeforeStart(elapsedMicros * vm.tscKhz() / 1000);
        vm.start();
        long resumed = micros();
        long tResumed = System.nanoTime();
        finished = true;
        link.tell(offer.getSourceRef(), Committed.newBuilder().setMigrationId(offer.getMigrationId())
                .setResumedEpochMicros(resumed).setStartMicros((tResumed - t0) / 1000).build());
        try {
            link.persist(MigrationInCommitted.newBuilder().setMigrationId(offer.getMigrationId())
                    .setInstanceId(offer.getInstanceId()).setEpoch(c.getEpoch()).build());
        } catch (MigrationException e) {
            LOG.error("migration {}: the guest runs here but the commit is not in this host's journal: {}",
                    offer.getMigrationId(), e.getMessage());
        }
        LOG.info(String.format("migration %s commit: guest resumed %.1f ms after the commit arrived, journal %.1f ms later",
                offer.getMigrationId(), (tResumed - t0) / 1e6, (System.nanoTime() - tResumed) / 1e6));
        onArrival.accept(new Arrival(offer.getInstanceId(), vm, devices, c.getEpoch()));
    }

    /** The source gave up (or the operator cancelled): discard the copy. */
    public synchronized void onAbort(String reason) {
        discard("the source aborted: " + reason);
    }

    private void discard(String why) {
        if (finished) {
            return;
        }
        finished = true;
        LOG.info("migration {} of {}: discarding the copy: {}", offer.getMigrationId(), offer.getInstanceId(), why);
        receiver.close();
        prepared.close();
        try {
            link.persist(MigrationInAborted.newBuilder().setMigrationId(offer.getMigrationId())
                    .setInstanceId(offer.getInstanceId()).setReason(why).build());
        } catch (MigrationException e) {
            LOG.error("migration {}: cannot persist the abort: {}", offer.getMigrationId(), e.getMessage());
        }
        onDiscard.accept(offer.getMigrationId());
    }

    @Override
    public synchronized void close() {
        discard("the host is shutting down");
    }
}
