package dev.ferry.storage.stream;

import java.nio.file.Path;

/**
 * The process {@link StreamingDiskCrashTest} kills: streams {@code IMAGE} from {@code nbd://127.0.0.1:PORT/EXPORT}
 * at {@code RATE} bytes/s, applies {@link GuestWrites} and flushes, prints {@code FLUSHED}, then prints
 * {@code LOCAL n} as blocks arrive until it is killed.
 */
public final class StreamingDiskChild {
    private StreamingDiskChild() {}

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        String export = args[2];
        long rate = Long.parseLong(args[3]);
        StreamingDisk d = StreamingDisk.open(image, NbdRemoteImage.connect("127.0.0.1", port, export),
                StreamingDisk.Options.defaults().withCopyRateLimit(rate));
        GuestWrites.applyTo(d, GuestWrites.forCapacity(d.capacity(), d.status().blockSize()));
        d.flush();
        System.out.println("FLUSHED");
        while (true) {
            System.out.println("LOCAL " + d.status().blocksLocal());
            System.out.flush();
            Thread.sleep(20);
        }
    }
}
