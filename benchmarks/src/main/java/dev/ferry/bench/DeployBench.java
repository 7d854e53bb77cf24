package dev.ferry.bench;

import dev.ferry.host.deploy.Deployment;
import dev.ferry.host.local.NetworkNamespace;
import dev.ferry.storage.nbd.NbdClient;
import dev.ferry.storage.nbd.NbdServer;
import dev.ferry.storage.stream.StreamingDisk;
import dev.ferry.storage.stream.StreamingStatus;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.memory.MemorySize;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Streaming deployment against copy-then-boot: an {@link NbdServer} serves a generated image; the {@code reader} guest
 * boots from it streamed (a {@link Deployment}, as the host agent runs it) and, for the baseline, from a local copy made
 * first. {@code java -jar ferry-benchmarks.jar deploy [--image-size 4G] [--link-rate 2gbit] [--json]}.
 *
 * <p>By default the server runs in this process on 127.0.0.1: the link is loopback, as fast as memory, faster than
 * most disks. With {@code --link-rate} it runs across a real link of that rate ({@link ShapedImageServer}: another JVM
 * in a network namespace behind a tbf-limited veth pair), and every NBD read of the run crosses it.
 *
 * <p>The image is sparse but mostly data: by default 75 % of its 1 MiB blocks hold pseudo-random bytes, the others are
 * holes.
 * Every figure is measured in the same run: the link (pipelined NBD reads of the whole image), the baseline copy, the
 * streamed boot, the background copy while the guest idles, the switch to virtualization OFF, and the guest's own
 * disk-read throughput after the switch and on a disk never streamed.
 */
public final class DeployBench {
    private static final String USAGE = "usage: ferry-benchmarks deploy [--image-size 4G] [--memory 512M] [--boot-mib 16] "
            + "[--passes 3] [--data 75] [--link-rate 2gbit] [--dir DIR] [--json]\n"
            + "  --image-size SIZE  the image (default 512M)\n"
            + "  --memory SIZE      guest RAM (default 512M)\n"
            + "  --boot-mib N       MiB the guest reads at boot (default 16)\n"
            + "  --passes N         alternate rounds of one whole-disk read by each guest (default 5)\n"
            + "  --data PERCENT     share of the image's 1 MiB blocks that hold data; the rest are holes (default 75)\n"
            + "  --link-rate RATE   serve the image across a link of RATE each way (kbit, mbit, gbit: 2gbit, say): a\n"
            + "                     veth pair into a network namespace the bench makes, tbf-limited, the NBD server in a\n"
            + "                     JVM of its own inside; needs root and iproute2 (default: loopback in this process)\n"
            + "  --dir DIR          scratch directory (default: a new one under java.io.tmpdir; deleted after)\n"
            + "  --json             only the JSON line on stdout (progress goes to stderr)";
    private static final long MIB = 1L << 20;
    private static final int NBD_REQUEST = 8 << 20;
    private static final int NBD_IN_FLIGHT = 4;
    private static final Pattern THROUGHPUT = Pattern.compile("reader throughput pass=(\\d+) bytes=(\\d+) us=(\\d+)");

    record Options(long imageSize, long memory, long bootMib, int passes, int dataPercent, LinkRate linkRate, Path dir,
                   boolean json) {}

    private DeployBench() {}

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("deploy: " + e.getMessage() + "\n" + USAGE);
            System.exit(CoreBench.EXIT_USAGE);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        if (!Hypervisor.isAvailable()) {
            System.err.println("deploy: KVM is unusable here: " + Hypervisor.unavailabilityCause());
            System.exit(CoreBench.EXIT_NO_KVM);
        }
        if (o.linkRate() != null && !NetworkNamespace.isAvailable()) {
            System.err.println("deploy: --link-rate needs a network namespace of the bench's own, and this process "
                    + "cannot make one: " + NetworkNamespace.unavailabilityCause());
            System.exit(CoreBench.EXIT_FAILED);
        }
        Path dir = null;
        try {
            dir = o.dir() != null ? Files.createDirectories(o.dir()) : Files.createTempDirectory("ferry-deploy-bench");
            String load = loadAverage();
            Map<String, Object> result = run(o, dir);
            Map<String, String> host = new LinkedHashMap<>(HostInfo.describe());
            host.put("load", "1/5/15-min load average " + load + " before, " + loadAverage() + " after");
            result.put("host", host);
            StringBuilder line = new StringBuilder();
            JsonReport.write(line, result);
            System.out.println(line);
        } catch (Exception e) {
            System.err.println("deploy: failed: " + e);
            e.printStackTrace();
            System.exit(CoreBench.EXIT_FAILED);
        } finally {
            if (dir != null && o.dir() == null) {
                deleteTree(dir);
            }
        }
    }

    private static void progress(String s) {
        System.err.println("... " + s);
    }

    static Map<String, Object> run(Options o, Path dir) throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path image = images.resolve("bench.raw");
        long t = System.nanoTime();
        makeImage(image, o.imageSize(), o.dataPercent());
        progress("image " + MemorySize.format(o.imageSize()) + " made in " + ms(System.nanoTime() - t) + " ms");
        // each 't' on the console makes the guest read its whole disk once
        Map<String, String> args = Map.of("boot_mib", Long.toString(o.bootMib()), "alive_ms", "0", "passes", "1");
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bench", "deploy");
        r.put("image_bytes", o.imageSize());
        r.put("memory_bytes", o.memory());
        r.put("boot_mib", o.bootMib());
        r.put("data_percent", o.dataPercent());
        r.put("link_rate_gbit", o.linkRate() == null ? null : o.linkRate().gbit());
        String linkWords;
        try (ImageServer server = o.linkRate() == null ? ImageServer.inProcess(images)
                : ShapedImageServer.start(images, dir, o.linkRate())) {
            linkWords = server.link();
            progress("link: " + linkWords);
            // The link: the whole image read over NBD, several requests in flight, into a reused buffer.
            long cpu0 = cpuNanos(server);
            NbdPass link = nbdRead(server, image.getFileName().toString(), null);
            double linkBps = o.imageSize() / seconds(link.nanos());
            double linkCpu = (cpuNanos(server) - cpu0) / 1e9;
            progress(String.format("link: %.2f Gbit/s", linkBps * 8 / 1e9));

            // Copy, then boot.
            Path copy = dir.resolve("copy.raw");
            long t0 = System.nanoTime();
            long copyNanos = nbdRead(server, image.getFileName().toString(), copy).nanos();
            ConsoleOutput console = new ConsoleOutput();
            CompletableFuture<Long> firstLine = firstLine(console);
            Vm plain = Hypervisor.get().boot(new VmConfig("copied", GuestImage.load("reader"), o.memory(), args, console)
                    .withDisk(copy));
            try {
                plain.start();
                long copyThenBoot = firstLine.get(60, TimeUnit.SECONDS) - t0;
                r.put("copy_then_boot_ms", ms(copyThenBoot));
                r.put("copy_then_boot_copy_ms", ms(copyNanos));
                r.put("copy_then_boot_copy_gbps", gbit(o.imageSize() / seconds(copyNanos)));
                progress("copy then boot: " + ms(copyThenBoot) + " ms (copy " + ms(copyNanos) + " ms)");
            } finally {
                plain.close();
            }
            // Not timed: write the copy back now, so its dirty pages are not flushed inside the streamed run's
            // first fsync (ext4 commits other files' ordered data with it).
            try (FileChannel f = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                f.force(true);
            }

            // Streamed.
            ConsoleOutput sc = new ConsoleOutput();
            CompletableFuture<Long> streamedFirstLine = firstLine(sc);
            long s0 = System.nanoTime();
            Deployment d = Deployment.start(dir.resolve("disks"), new Deployment.Spec("bench", "reader", o.memory(), args,
                            image.getFileName().toString(), server.host() + ":" + server.port(), 0),
                    StreamingDisk.Options.defaults(), sc, x -> { });
            try {
                long streamedFirst = streamedFirstLine.get(60, TimeUnit.SECONDS);
                r.put("first_line_ms", ms(streamedFirst - s0));
                require(sc.awaitLine("reader read=", 120_000), "the streamed guest did not read its boot data");
                long idleFrom = System.nanoTime();
                long cpuAtIdle = cpuNanos(server);
                Deployment.Progress atIdle = d.progress();
                long wireAtIdle = d.status().wireBytes();
                r.put("boot_read_ms", ms(idleFrom - s0));
                progress("streamed: first line " + ms(streamedFirst - s0) + " ms, boot read done "
                        + ms(idleFrom - s0) + " ms, " + atIdle.copiedBytes() / MIB + " MiB local");
                Deployment.Progress end = d.whenEnded().get(30, TimeUnit.MINUTES);
                if (end.state() != Deployment.State.LOCAL) {
                    throw new IllegalStateException("the deployment ended " + end.state() + ": " + end.message());
                }
                long complete = d.copyCompleteNanos();
                double copyCpu = (cpuNanos(server) - cpuAtIdle) / 1e9;   // up to the switch: a few ms more
                double copyBps = (o.imageSize() - atIdle.copiedBytes()) / seconds(complete - idleFrom);
                r.put("copy_gbps", gbit(copyBps));
                r.put("copy_total_ms", ms(complete - s0));
                // the link again right after the copy; the faster of the two counts (the machine's load varies)
                long cpu1 = cpuNanos(server);
                NbdPass after = nbdRead(server, image.getFileName().toString(), null);
                double linkAfter = o.imageSize() / seconds(after.nanos());
                double linkAfterCpu = (cpuNanos(server) - cpu1) / 1e9;
                r.put("link_gbps", gbit(Math.max(linkBps, linkAfter)));
                // what crossed the wire: the server sends a file's holes as hole chunks, so both the link read and
                // the copy carry only the image's data; these rates count those bytes alone
                NbdPass best = linkAfter > linkBps ? after : link;
                r.put("link_wire_gbps", gbit(best.wireBytes() / seconds(best.nanos())));
                StreamingStatus endStatus = d.status();
                r.put("copy_wire_gbps", gbit((endStatus.wireBytes() - wireAtIdle) / seconds(complete - idleFrom)));
                r.put("copy_hole_bytes", endStatus.holeBytes());
                r.put("wire_bytes", endStatus.wireBytes());
                r.put("link_gbps_samples", List.of(gbit(linkBps), gbit(linkAfter)));
                // CPU time of both NBD ends, the copier and the idle guest (this process, and the server's when it
                // runs in another) per GiB moved: on a shared machine the figure that explains the rates
                double gib = o.imageSize() / (double) (1L << 30);
                r.put("link_cpu_s_per_gib", round3((linkAfter > linkBps ? linkAfterCpu : linkCpu) / gib));
                double copiedGib = (o.imageSize() - atIdle.copiedBytes()) / (double) (1L << 30);
                r.put("copy_cpu_s_per_gib", round3(copyCpu / copiedGib));
                r.put("devirt_ms", d.devirtNanos() / 1e6);
                progress(String.format("background copy: %.2f Gbit/s (guest idle), devirt %.3f ms", gbit(copyBps),
                        d.devirtNanos() / 1e6));
                if (d.vm().virtualization() != Virtualization.OFF) {
                    throw new IllegalStateException("virtualization is still " + d.vm().virtualization());
                }
                // The same reads on the switched disk and on a disk never streamed (the local copy), in alternate
                // rounds so that both see the same machine load. A second never-streamed guest on the same copy
                // gives the spread between two guests that differ in nothing: the comparison's noise floor.
                ConsoleOutput pc = new ConsoleOutput();
                ConsoleOutput pc2 = new ConsoleOutput();
                Vm never = Hypervisor.get().boot(new VmConfig("never-streamed", GuestImage.load("reader"), o.memory(),
                        args, pc).withDisk(copy));
                Vm twin = null;
                try {
                    twin = Hypervisor.get().boot(new VmConfig("never-streamed-2", GuestImage.load("reader"), o.memory(),
                            args, pc2).withDisk(copy));
                    never.start();
                    twin.start();
                    require(pc.awaitLine("reader read=", 60_000), "the guest on the copied disk did not read");
                    require(pc2.awaitLine("reader read=", 60_000), "the second guest on the copied disk did not read");
                    Reads afterOff = new Reads(d.vm(), sc);
                    Reads plainReads = new Reads(never, pc);
                    Reads twinReads = new Reads(twin, pc2);
                    // one untimed pass on each first: the first read of a file's holes and cold pages is the page
                    // cache's cost, not the disk path's
                    afterOff.pass();
                    plainReads.pass();
                    twinReads.pass();
                    r.put("guest_read_first_pass_mibs", List.of(afterOff.mibs.get(0), plainReads.mibs.get(0)));
                    afterOff.mibs.clear();
                    plainReads.mibs.clear();
                    twinReads.mibs.clear();
                    for (int round = 0; round < o.passes(); round++) {
                        afterOff.pass();
                        plainReads.pass();
                        twinReads.pass();
                    }
                    progress("guest reads after OFF (MiB/s): " + afterOff.mibs);
                    progress("guest reads never streamed (MiB/s): " + plainReads.mibs);
                    progress("guest reads never streamed, second guest (MiB/s): " + twinReads.mibs);
                    r.put("guest_read_mibs_after_off", median(afterOff.mibs));
                    r.put("guest_read_mibs_never_streamed", median(plainReads.mibs));
                    r.put("guest_read_mibs_never_streamed_2", median(twinReads.mibs));
                    r.put("guest_read_noise_ratio", round3(median(twinReads.mibs) / median(plainReads.mibs)));
                    r.put("guest_read_samples_after_off", afterOff.mibs);
                    r.put("guest_read_samples_never_streamed", plainReads.mibs);
                    r.put("guest_read_samples_never_streamed_2", twinReads.mibs);
                } finally {
                    never.close();
                    if (twin != null) {
                        twin.close();
                    }
                }
            } finally {
                d.vm().close();
            }
        }
        Map<String, Object> goals = new LinkedHashMap<>();
        double first = ((Number) r.get("first_line_ms")).doubleValue();
        double ctb = ((Number) r.get("copy_then_boot_ms")).doubleValue();
        goals.put("first_line", goal("first_line_ms <= 0.05 x copy_then_boot_ms", first / ctb, first <= 0.05 * ctb));
        double copy = (double) r.get("copy_gbps");
        double link = (double) r.get("link_gbps");
        goals.put("copy", goal("copy_gbps >= 0.8 x link_gbps, both measured over " + linkWords, copy / link,
                copy >= 0.8 * link));
        double after = (double) r.get("guest_read_mibs_after_off");
        double never = (double) r.get("guest_read_mibs_never_streamed");
        goals.put("guest_read", goal("guest_read_mibs_after_off within 5% of never_streamed", after / never,
                Math.abs(after / never - 1) <= 0.05));
        r.put("goals", goals);
        r.put("notes", "image: " + o.dataPercent() + " % of its 1 MiB blocks pseudo-random bytes, the others holes; link: NBD reads of "
                + NBD_REQUEST / MIB + " MiB, " + NBD_IN_FLIGHT + " in flight into reused buffers (holes zero-filled by "
                + "the client; the copier takes them as zeros without filling), no local writes, before and right after "
                + "the background copy (the faster counts); copy-then-boot: the same NBD reads written "
                + "to a local sparse file, holes left out as the streaming disk leaves them (no fsync), then the guest booted from it until its first line; copy_gbps: image bytes "
                + "not yet local when the guest went idle over the time until every block was local; guest reads: one untimed "
                + "pass on each disk, then the median of " + o.passes() + " sequential whole-disk reads per disk (8 x 256 KiB requests in flight), the two "
                + "guests alternating; *_wire_gbps: the data bytes that crossed the wire (the server sends holes as hole chunks, "
                + "structured replies) over the same times; every NBD read (link, copy-then-boot, streamed) went over "
                + linkWords);
        return r;
    }

    /** When the guest's first console line ends (System.nanoTime()). */
    private static CompletableFuture<Long> firstLine(ConsoleOutput console) {
        CompletableFuture<Long> first = new CompletableFuture<>();
        console.onLine(l -> first.complete(System.nanoTime()));
        return first;
    }

    private static Map<String, Object> goal(String goal, double ratio, boolean met) {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("goal", goal);
        g.put("ratio", Math.round(ratio * 10000) / 10000.0);
        g.put("met", met);
        return g;
    }

    /** One guest's whole-disk read passes, each started by a 't' on its console; MiB/s as the guest measured. */
    private static final class Reads {
        final Vm vm;
        final java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        final List<Double> mibs = new ArrayList<>();

        Reads(Vm vm, ConsoleOutput console) {
            this.vm = vm;
            console.onLine(l -> {
                if (l.contains("reader throughput")) {
                    lines.add(l);
                }
            });
        }

        void pass() throws InterruptedException {
            vm.uart().receive(new byte[] {'t'});
            String line = lines.poll(10, TimeUnit.MINUTES);
            require(line, "no throughput line from " + vm.name());
            Matcher m = THROUGHPUT.matcher(line);
            if (!line.contains("errors=0") || !m.find()) {
                throw new IllegalStateException("the guest's disk reads failed: " + line);
            }
            mibs.add(Math.round(Long.parseLong(m.group(2)) / (double) MIB / (Long.parseLong(m.group(3)) / 1e6) * 10) / 10.0);
        }
    }

    private static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        sorted.sort(Comparator.naturalOrder());
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** One pass over an export: how long it took and the data bytes that crossed the wire (holes excluded). */
    record NbdPass(long nanos, long wireBytes) {}

    /**
     * Reads the whole export sequentially with {@link #NBD_IN_FLIGHT} requests in flight into reused buffers (the
     * client fills what the server sends as holes with zeros); with {@code to}, writes it there as a sparse copy (the
     * holes the server sent are left out, as the streaming disk leaves them), so both disks the guests read are alike.
     */
    static NbdPass nbdRead(ImageServer server, String export, Path to) throws IOException, InterruptedException {
        try (NbdClient c = NbdClient.connect(server.host(), server.port(), export);
             FileChannel out = to == null ? null : FileChannel.open(to, StandardOpenOption.CREATE_NEW,
                     StandardOpenOption.WRITE)) {
            long size = c.size();
            long t0 = System.nanoTime();
            ArrayDeque<Object[]> inFlight = new ArrayDeque<>();
            ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
            for (int i = 0; i < NBD_IN_FLIGHT; i++) {
                free.add(ByteBuffer.allocate(NBD_REQUEST));   // heap, as the streaming disk's fetches
            }
            long next = 0;
            while (next < size || !inFlight.isEmpty()) {
                while (next < size && !free.isEmpty()) {
                    ByteBuffer b = free.poll();
                    b.clear().limit((int) Math.min(NBD_REQUEST, size - next));
                    List<int[]> holes = new ArrayList<>();
                    inFlight.add(new Object[] {out == null ? c.readAsync(next, b)
                            : c.readAsync(next, b, (at, n) -> holes.add(new int[] {at, n})), b, next, holes});
                    next += b.limit();
                }
                Object[] head = inFlight.poll();
                try {
                    ((CompletableFuture<?>) head[0]).get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IOException("NBD read failed: " + e.getCause(), e.getCause());
                }
                ByteBuffer b = (ByteBuffer) head[1];
                if (out != null) {
                    @SuppressWarnings("unchecked")
                    List<int[]> holes = (List<int[]>) head[3];
                    holes.sort(java.util.Comparator.comparingInt(h -> h[0]));
                    int from = 0;
                    for (int[] h : holes) {
                        writeRange(out, b, from, h[0], (long) head[2]);
                        from = h[0] + h[1];
                    }
                    writeRange(out, b, from, b.limit(), (long) head[2]);
                }
                free.add(b);
            }
            if (out != null && out.size() < size) {
                out.write(ByteBuffer.wrap(new byte[1]), size - 1);   // the copy ends in a hole: give it its size
            }
            return new NbdPass(System.nanoTime() - t0, c.dataBytesReceived());
        }
    }

    /** Writes {@code b[from, to)} at {@code base + from}. */
    private static void writeRange(FileChannel out, ByteBuffer b, int from, int to, long base) throws IOException {
        ByteBuffer part = b.duplicate().limit(to).position(from);
        long pos = base + from;
        while (part.hasRemaining()) {
            pos += out.write(part, pos);
        }
    }

    /**
     * A sparse image of 1 MiB blocks: {@code dataPercent} of them (spread evenly, the first always) full of
     * pseudo-random bytes, the others holes.
     */
    static void makeImage(Path image, long size, int dataPercent) throws IOException {
        SplittableRandom rnd = new SplittableRandom(20261128);
        ByteBuffer b = ByteBuffer.allocate((int) MIB).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel f = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long pos = 0, block = 0; pos < size; pos += MIB, block++) {
                if ((block * 61) % 100 >= dataPercent) {
                    continue;
                }
                b.clear();
                while (b.hasRemaining()) {
                    b.putLong(rnd.nextLong());
                }
                b.flip().limit((int) Math.min(b.capacity(), size - pos));
                long p = pos;
                while (b.hasRemaining()) {
                    p += f.write(b, p);
                }
            }
            f.truncate(size);
            if (f.size() < size) {
                f.write(ByteBuffer.allocate(1), size - 1);
            }
        }
    }

    private static void require(String line, String otherwise) {
        if (line == null) {
            throw new IllegalStateException(otherwise);
        }
    }

    /** CPU time of this process and of the image server when it runs in another. */
    private static long cpuNanos(ImageServer server) {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() + server.serverCpuNanos();
    }

    private static double round3(double x) {
        return Math.round(x * 1000) / 1000.0;
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 1e4) / 100.0;
    }

    private static double gbit(double bytesPerSecond) {
        return Math.round(bytesPerSecond * 8 / 1e7) / 100.0;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // scratch space
                }
            });
        } catch (IOException ignored) {
            // scratch space
        }
    }

    static Options parse(String[] args) {
        long size = 512 * MIB;
        long memory = 512 * MIB;
        long bootMib = 16;
        int passes = 5;
        int data = 75;
        LinkRate linkRate = null;
        Path dir = null;
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help" -> {
                    return null;
                }
                case "--json" -> json = true;
                case "--image-size", "--memory", "--boot-mib", "--passes", "--data", "--link-rate", "--dir" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    String v = args[++i];
                    switch (a) {
                        case "--image-size" -> size = MemorySize.parse(v);
                        case "--memory" -> memory = MemorySize.parse(v);
                        case "--boot-mib" -> bootMib = Long.parseLong(v);
                        case "--passes" -> passes = Integer.parseInt(v);
                        case "--data" -> data = Integer.parseInt(v);
                        case "--link-rate" -> linkRate = LinkRate.parse(v);
                        default -> dir = Path.of(v);
                    }
                }
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (size < MIB || size % 512 != 0 || bootMib < 1 || bootMib * MIB > size || passes < 1 || data < 0
                || data > 100) {
            throw new IllegalArgumentException("--image-size must be at least 1M and hold --boot-mib; --passes >= 1;"
                    + " --data is a percentage");
        }
        return new Options(size, memory, bootMib, passes, data, linkRate, dir, json);
    }
}
