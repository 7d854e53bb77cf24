package dev.ferry.host.storage;

import dev.ferry.host.HostSettings;
import dev.ferry.host.local.ParentWatch;
import dev.ferry.storage.nbd.NbdServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Cluster;

/**
 * A storage node: a cluster member with role {@code storage} that serves the images of {@code --images DIR} read-only
 * over NBD on 127.0.0.1 and answers, through {@link StorageService}, where they are. Prints
 * {@code ferry storage NAME up at ADDRESS nbd 127.0.0.1:PORT} once it has joined.
 */
public final class StorageNode implements AutoCloseable {
    public static final String UP_LINE = "ferry storage %s up at %s";

    private final ActorSystem<Void> system;
    private final NbdServer nbd;

    private StorageNode(ActorSystem<Void> system, NbdServer nbd) {
        this.system = system;
        this.nbd = nbd;
    }

    /** Starts the NBD server and the node; returns once it is a cluster member (or throws after {@code timeout}). */
    public static StorageNode start(StorageArgs args, Duration timeout) throws Exception {
        HostSettings s = args.host();
        Files.createDirectories(s.dataDir());
        Files.createDirectories(args.images());
        NbdServer nbd = NbdServer.start(args.images(), new InetSocketAddress(s.bindHost(), args.nbdPort()));
        ActorSystem<Void> system;
        try {
            system = ActorSystem.create(Behaviors.setup(ctx -> {
                ctx.spawn(StorageService.create(s.name(), nbd), "storage",
                        DispatcherSelector.fromConfig("ferry.blocking-dispatcher"));
                return Behaviors.empty();
            }), HostSettings.SYSTEM_NAME, s.config());
        } catch (RuntimeException e) {
            nbd.close();
            throw e;
        }
        StorageNode node = new StorageNode(system, nbd);
        CountDownLatch up = new CountDownLatch(1);
        Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(up::countDown);
        if (!up.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            node.close();
            throw new IllegalStateException("storage node " + s.name() + " did not join the cluster within " + timeout
                    + " (seeds " + s.seeds() + ")");
        }
        return node;
    }

    public ActorSystem<Void> system() {
        return system;
    }

    public NbdServer nbd() {
        return nbd;
    }

    /** The line printed once the node is up. */
    public String upLine(String name) {
        return String.format(UP_LINE, name, system.address()) + " nbd " + nbd.host() + ":" + nbd.port();
    }

    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the JVM is going away anyway
        }
        try {
            nbd.close();
        } catch (java.io.IOException e) {
            // nothing more to release
        }
    }

    /** Runs a storage node until the process is killed or the node leaves the cluster. */
    public static void main(String[] args) throws Exception {
        StorageArgs a = StorageArgs.parse(args);
        StorageNode node = start(a, Duration.ofSeconds(60));
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "ferry-storage-shutdown"));
        ParentWatch.startIfAsked(a.host().name());
        System.out.println(node.upLine(a.host().name()));
        System.out.flush();
        node.system.getWhenTerminated().toCompletableFuture().join();
        node.nbd.close();
    }
}
