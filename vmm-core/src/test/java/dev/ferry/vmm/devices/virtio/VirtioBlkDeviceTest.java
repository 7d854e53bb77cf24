package dev.ferry.vmm.devices.virtio;

import static dev.ferry.vmm.devices.virtio.VirtioMmioRegisters.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.devices.virtio.blk.VirtioBlk;
import dev.ferry.vmm.memory.GuestMemory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioBlkDeviceTest {
    @TempDir
    Path dir;
    private GuestMemory memory;
    private VirtioMmioDevice device;
    private Path image;

    @BeforeEach
    void setUp() throws Exception {
        image = dir.resolve("disk.img");
        Files.write(image, new byte[64 * 512]);
        memory = GuestMemory.allocate(16L << 20);
        device = new VirtioMmioDevice("blk", 0xD0000000L, new VirtioBlk(image), memory);
    }

    @AfterEach
    void tearDown() {
        device.close();
        memory.close();
    }

    @Test
    void identifiesAsVirtioBlockOverMmioVersionTwo() {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        assertEquals(MAGIC, d.read(MAGIC_VALUE));
        assertEquals(2, d.read(VERSION));
        assertEquals(2, d.read(DEVICE_ID));
        d.write(DEVICE_FEATURES_SEL, 1);
        assertEquals(1, d.read(DEVICE_FEATURES) & 1, "VERSION_1 offered");
        assertEquals(64, device.read(null, CONFIG, 4), "capacity in sectors");
    }

    @Test
    void writesAndReadsSectorsThroughTheQueue() throws Exception {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        assertEquals(0x0F, d.initialize());
        byte[] payload = new byte[1024];
        Arrays.fill(payload, (byte) 0x5A);
        memory.write(VirtioTestDriver.dataAddress(0), payload, 0, payload.length);
        long status = d.enqueue(VirtioBlk.T_OUT, 10, 2, 0);
        d.notifyQueue();
        assertTrue(d.awaitCompletion(5000));
        assertEquals(0, memory.readShort(status) & 0xFF);
        byte[] onDisk = Arrays.copyOfRange(Files.readAllBytes(image), 10 * 512, 12 * 512);
        assertArrayEquals(payload, onDisk);

        long readStatus = d.enqueue(VirtioBlk.T_IN, 10, 2, 1);
        d.notifyQueue();
        assertTrue(d.awaitCompletion(5000));
        assertEquals(0, memory.readShort(readStatus) & 0xFF);
        byte[] back = new byte[1024];
        memory.read(VirtioTestDriver.dataAddress(1), back, 0, back.length);
        assertArrayEquals(payload, back);
        assertEquals(1, d.read(INTERRUPT_STATUS));
    }

    @Test
    void aReplacedStoreServesTheNextRequestsOnTheSameQueue() throws Exception {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        assertEquals(0x0F, d.initialize());
        long first = d.enqueue(VirtioBlk.T_IN, 3, 1, 0);
        d.notifyQueue();
        assertTrue(d.awaitCompletion(5000));
        assertEquals(0, memory.readShort(first) & 0xFF);

        byte[] other = new byte[64 * 512];
        Arrays.fill(other, 3 * 512, 4 * 512, (byte) 0x77);
        Path next = dir.resolve("next.img");
        Files.write(next, other);
        VirtioBlk blk = (VirtioBlk) device.backend();
        device.quiesce();
        var old = blk.replaceStore(dev.ferry.vmm.devices.virtio.blk.FileBlockStore.open(next));
        device.resumeIo();
        old.close();
        long second = d.enqueue(VirtioBlk.T_IN, 3, 1, 1);
        d.notifyQueue();
        assertTrue(d.awaitCompletion(5000));
        assertEquals(0, memory.readShort(second) & 0xFF);
        byte[] back = new byte[512];
        memory.read(VirtioTestDriver.dataAddress(1), back, 0, back.length);
        assertArrayEquals(Arrays.copyOfRange(other, 3 * 512, 4 * 512), back);

        Path small = dir.resolve("small.img");
        Files.write(small, new byte[512]);
        var refused = dev.ferry.vmm.devices.virtio.blk.FileBlockStore.open(small);
        try {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> blk.replaceStore(refused));
            assertTrue(e.getMessage().contains("512 bytes"), e.getMessage());
        } finally {
            refused.close();
        }
    }

    @Test
    void requestBeyondCapacityFailsWithIoError() throws Exception {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        d.initialize();
        long status = d.enqueue(VirtioBlk.T_IN, 63, 2, 0);
        d.notifyQueue();
        assertTrue(d.awaitCompletion(5000));
        assertEquals(VirtioBlk.S_IOERR, memory.readShort(status) & 0xFF);
    }

    @Test
    void refusesFeaturesWithoutVersionOne() {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        d.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        d.write(DRIVER_FEATURES_SEL, 0);
        d.write(DRIVER_FEATURES, 0);
        d.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        assertEquals(0, d.read(STATUS) & STATUS_FEATURES_OK);
    }

    @Test
    void writeOnlyRegistersReadBackTheirLastValue() {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        d.initialize();
        d.write(QUEUE_SEL, 0);
        assertEquals(8, d.read(QUEUE_NUM));
        assertEquals(VirtioTestDriver.RING_BASE, d.read(QUEUE_DESC_LOW));
        assertEquals(1, d.read(QUEUE_READY));
        d.write(DRIVER_FEATURES_SEL, 1);
        assertEquals(1, d.read(DRIVER_FEATURES) & 1);
    }

    @Test
    void aQueueMadeReadyResumesAtTheUsedRingPosition() throws Exception {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        d.initialize();
        for (int i = 0; i < 5; i++) {
            d.enqueue(VirtioBlk.T_OUT, i, 1, i % 2);
            d.notifyQueue();
            assertTrue(d.awaitCompletion(5000));
        }
        try (VirtioMmioDevice fresh = new VirtioMmioDevice("blk2", 0, new VirtioBlk(image), memory)) {
            VirtioTestDriver again = new VirtioTestDriver(fresh, memory, 8);
            again.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
            again.write(DRIVER_FEATURES_SEL, 1);
            again.write(DRIVER_FEATURES, 1);
            again.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
            again.registerQueue();
            assertEquals(5, fresh.state().queues().get(0).nextAvail(), "next available entry taken from used idx");
        }
    }

    @Test
    void quiescedDeviceTakesNoRequestsUntilResumed() throws Exception {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        d.initialize();
        device.quiesce();
        d.enqueue(VirtioBlk.T_OUT, 1, 1, 0);
        d.notifyQueue();
        assertTrue(!d.awaitCompletion(100), "served while quiesced");
        device.resumeIo();
        assertTrue(d.awaitCompletion(5000));
    }

    @Test
    void resetForgetsQueuesAndFeatures() {
        VirtioTestDriver d = new VirtioTestDriver(device, memory, 8);
        d.initialize();
        d.write(STATUS, 0);
        VirtioMmioState s = device.state();
        assertEquals(0, s.status());
        assertEquals(0, s.driverFeatures());
        assertEquals(QueueState.reset(), s.queues().get(0));
    }
}
