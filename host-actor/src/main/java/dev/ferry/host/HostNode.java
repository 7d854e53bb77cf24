package dev.ferry.host;

import dev.ferry.host.agent.HostAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Cluster;

/**
 * One host node: an actor system in the cluster with role {@code host}, and its {@link HostAgent} on the blocking
 * dispatcher (it drives VMs). Prints {@code ferry host NAME up at ADDRESS} once the node has joined.
 */
public final class HostNode implements AutoCloseable {
    public static final String UP_LINE = "ferry host %s up at %s";

    private final ActorSystem<Void> system;
    private final HostSettings settings;

    private HostNode(HostSettings settings) throws java.io.IOException {
        this.settings = settings;
        Files.createDirectories(settings.dataDir().resolve("journal"));
        Files.createDirectories(settings.dataDir().resolve("snapshots"));
        this.system = ActorSystem.create(Behaviors.setup(ctx -> {
            ctx.spawn(HostAgent.create(settings.name(), settings.memoryCapacity(), settings.dataDir()), "agent",
                    DispatcherSelector.fromConfig("ferry.blocking-dispatcher"));
            return Behaviors.empty();
        }), HostSettings.SYSTEM_NAME, settings.config());
    }

    /** Starts the node; returns once it is a cluster member (or throws after {@code timeout}). */
    public static HostNode start(HostSettings settings, Duration timeout) throws Exception {
        HostNode node = new HostNode(settings);
        CountDownLatch up = new CountDownLatch(1);
        Cluster.get(Adapter.toClassic(node.system)).registerOnMemberUp(up::countDown);
        if (!up.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            node.close();
            throw new IllegalStateException("host " + settings.name() + " did not join the cluster within " + timeout
                    + " (seeds " + settings.seeds() + ")");
        }
        return node;
    }

    public ActorSystem<Void> system() {
        return system;
    }

    public String address() {
        return system.address().toString();
    }

    public void awaitTermination() throws InterruptedException {
        system.getWhenTerminated().toCompletableFuture().join();
    }

    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the JVM is going away anyway
        }
    }

    /** Runs a host node until the process is killed or the node leaves the cluster. */
    public static void main(String[] args) throws Exception {
        HostSettings s = HostArgs.parse(args);
        HostNode node = start(s, Duration.ofSeconds(60));
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "ferry-host-shutdown"));
        System.out.println(String.format(UP_LINE, s.name(), node.address()));
        System.out.flush();
        node.awaitTermination();
    }
}
