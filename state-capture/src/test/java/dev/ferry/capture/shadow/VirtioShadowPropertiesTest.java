package dev.ferry.capture.shadow;

import static dev.ferry.vmm.devices.virtio.VirtioMmioRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.capture.restore.PlanExecutor;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.devices.virtio.QueueState;
import dev.ferry.vmm.devices.virtio.VirtioMmioDevice;
import dev.ferry.vmm.devices.virtio.VirtioMmioState;
import dev.ferry.vmm.devices.virtio.VirtioTestDriver;
import dev.ferry.vmm.devices.virtio.blk.VirtioBlk;
import dev.ferry.vmm.memory.GuestMemory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * Random valid driver sequences against a real virtio-mmio block device, with virtualization switched ON and OFF at
 * random points: while ON the shadow equals the device's true state; a restore plan, applied to a fresh device over
 * the same guest memory, reproduces every piece of state a driver depends on, including the queue position.
 */
class VirtioShadowPropertiesTest {
    private static final long BASE = 0xD000_0000L;
    private Path image;

    /** Kinds: 0-3 next init step, 4 submit requests, 5 select registers, 6 read registers, 7 reset, 8 ack, 9 switch. */
    record Action(int kind, int arg) {}

    @BeforeProperty
    void createImage() throws Exception {
        image = Files.createTempFile("ferry-shadow", ".img");
        Files.write(image, new byte[128 * 512]);
    }

    @AfterProperty
    void deleteImage() throws Exception {
        Files.deleteIfExists(image);
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> a = Combinators.combine(
                Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(8, Arbitraries.just(0)), net.jqwik.api.Tuple.of(4, Arbitraries.just(4)),
                        net.jqwik.api.Tuple.of(2, Arbitraries.just(5)), net.jqwik.api.Tuple.of(2, Arbitraries.just(6)),
                        net.jqwik.api.Tuple.of(1, Arbitraries.just(7)), net.jqwik.api.Tuple.of(1, Arbitraries.just(8)),
                        net.jqwik.api.Tuple.of(3, Arbitraries.just(9))),
                Arbitraries.integers().between(0, 3)).as(Action::new);
        return a.list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 60)
    void shadowMatchesTruthAndRestoreReproducesIt(@ForAll("actions") List<Action> actions) throws Exception {
        Bench bench = new Bench();
        try (GuestMemory memory = GuestMemory.allocate(16L << 20);
             VirtioMmioDevice device = new VirtioMmioDevice("blk", BASE, new VirtioBlk(image), memory)) {
            bench.bus.register(AddressSpace.MMIO, BASE, SIZE, device);
            VirtioMmioShadow shadow = new VirtioMmioShadow("blk", BASE, memory);
            DeviceCapture.attach(bench.log, bench.hostAccess(), false, List.of(shadow));
            VirtioTestDriver driver = new VirtioTestDriver(bench.guestView(AddressSpace.MMIO, BASE), memory, 16);
            boolean on = false;
            int step = 0;
            int slot = 0;
            for (Action a : actions) {
                switch (a.kind()) {
                    case 0 -> step = initStep(driver, step);
                    case 4 -> {
                        if (step >= 5) {
                            for (int i = 0; i <= a.arg(); i++) {
                                driver.enqueue(i % 2 == 0 ? VirtioBlk.T_OUT : VirtioBlk.T_IN, slot % 100, 1, slot % 4);
                                slot++;
                            }
                            driver.notifyQueue();
                            assertTrue(driver.awaitCompletion(5000), "requests completed");
                        }
                    }
                    case 5 -> driver.write(new int[] {QUEUE_SEL, DEVICE_FEATURES_SEL, DRIVER_FEATURES_SEL,
                            QUEUE_SEL}[a.arg()], a.arg() % 3);
                    case 6 -> driver.read(new int[] {STATUS, QUEUE_NUM, DRIVER_FEATURES, INTERRUPT_STATUS}[a.arg()]);
                    case 7 -> {
                        driver.write(STATUS, 0);
                        driver = new VirtioTestDriver(bench.guestView(AddressSpace.MMIO, BASE), memory, 16);
                        step = 0;
                    }
                    case 8 -> driver.write(INTERRUPT_ACK, 1);
                    case 9 -> {
                        on = !on;
                        bench.bus.setTrapping(on);
                    }
                    default -> { }
                }
                if (on) {
                    assertShadowMatches(shadow, device.state());
                }
            }
            if (!on) {
                bench.bus.setTrapping(true);
            }
            VirtioMmioState truth = device.state();
            assertShadowMatches(shadow, truth);

            RestorePlan plan = shadow.plan();
            Bench fresh = new Bench();
            try (VirtioMmioDevice restored = new VirtioMmioDevice("blk2", BASE, new VirtioBlk(image), memory)) {
                fresh.bus.register(AddressSpace.MMIO, BASE, SIZE, restored);
                PlanExecutor.apply(plan, fresh.hostAccess());
                VirtioMmioState r = restored.state();
                assertEquals(truth.status() & ~STATUS_NEEDS_RESET, r.status(), "status; plan " + plan.writes());
                assertEquals(truth.driverFeatures(), r.driverFeatures(), "driver features");
                assertEquals(truth.queueSel(), r.queueSel());
                assertEquals(truth.deviceFeaturesSel(), r.deviceFeaturesSel());
                assertEquals(truth.driverFeaturesSel(), r.driverFeaturesSel());
                assertEquals(truth.queues(), r.queues(), "queues, including the next available position");
            }
        }
    }

    /** The driver's initialization, one step at a time, in the order virtio 1.2 section 3.1.1 requires. */
    private static int initStep(VirtioTestDriver d, int step) {
        switch (step) {
            case 0 -> d.write(STATUS, 0);
            case 1 -> d.write(STATUS, STATUS_ACKNOWLEDGE);
            case 2 -> d.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
            case 3 -> {
                d.write(DRIVER_FEATURES_SEL, 1);
                d.write(DRIVER_FEATURES, 1);
                d.write(DRIVER_FEATURES_SEL, 0);
                d.write(DRIVER_FEATURES, 1 << 9);
                d.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
            }
            case 4 -> {
                d.setUpQueue();
                d.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
            }
            default -> {
                return step;
            }
        }
        return step + 1;
    }

    private static void assertShadowMatches(VirtioMmioShadow s, VirtioMmioState t) {
        assertEquals(t.status(), s.status.value, "Status");
        assertEquals(t.driverFeatures(), (s.driverFeaturesHi.value << 32) | s.driverFeaturesLo.value, "DriverFeatures");
        assertEquals(t.deviceFeaturesSel(), s.deviceFeaturesSel.value, "DeviceFeaturesSel");
        assertEquals(t.driverFeaturesSel(), s.driverFeaturesSel.value, "DriverFeaturesSel");
        assertEquals(t.queueSel(), s.queueSel.value, "QueueSel");
        QueueState q = t.queues().get(0);
        VirtioMmioShadow.Queue sq = s.queues.get(0);
        if (sq == null) {
            assertEquals(QueueState.reset().size(), q.size());
            assertEquals(false, q.ready());
            return;
        }
        assertEquals(q.size(), sq.num.value, "QueueNum");
        assertEquals(q.ready() ? 1 : 0, sq.ready.value, "QueueReady");
        assertEquals(q.desc(), sq.desc.value, "QueueDesc");
        assertEquals(q.driver(), sq.driver.value, "QueueDriver");
        assertEquals(q.device(), sq.device.value, "QueueDevice");
    }
}
