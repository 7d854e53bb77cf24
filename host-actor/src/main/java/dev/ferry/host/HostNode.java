package dev.ferry.host;

import dev.ferry.host.agent.HostAgent;
import dev.ferry.host.journal.DiskSpace;
import dev.ferry.host.local.ParentWatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
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
        var config = settings.config();
        // opening LevelDB writes its log and manifest through memory maps: on a full disk that is SIGBUS, not an error
        String full = new DiskSpace(settings.dataDir()).shortOf(config.getBytes("pekko.persistence.journal.leveldb.min-free"));
        if (full != null) {
            throw new DataDiskFullException("host " + settings.name() + " cannot open its journal: " + full
                    + "; free some space and start it again");
        }
        this.system = ActorSystem.create(Behaviors.empty(), HostSettings.SYSTEM_NAME, config);
    }

    /**
     * Starts the agent once the node knows no other host in the cluster has its name. A node whose agent stops (its
     * journal could not be written, say) has nothing left to do in the cluster: it leaves, and the process ends.
     */
    private void startAgent() {
        system.systemActorOf(Behaviors.<Void>setup(ctx -> {
            var agent = ctx.spawn(HostAgent.create(settings.name(), settings.memoryCapacity(), settings.dataDir()),
                    "agent", DispatcherSelector.fromConfig("ferry.blocking-dispatcher"));
            ctx.watch(agent);
            return Behaviors.<Void>receive(Void.class).onSignal(Terminated.class, t -> {
                ctx.getLog().error("host {}: its agent stopped; the node leaves the cluster", settings.name());
                ctx.getSystem().terminate();
                return Behaviors.stopped();
            }).build();
        }), "host", Props.empty());
    }

    /**
     * The address of another host agent in the cluster already named {@code name}, if any: asked of every agent the
     * Receptionist knows, a few times (its list reaches a new member within a second or two).
     */
    private java.util.Optional<String> nameTakenBy(String name) throws InterruptedException {
        var resolver = org.apache.pekko.actor.typed.ActorRefResolver.get(system);
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                var listing = org.apache.pekko.actor.typed.javadsl.AskPattern.<org.apache.pekko.actor.typed.receptionist.Receptionist.Command,
                                org.apache.pekko.actor.typed.receptionist.Receptionist.Listing>ask(system.receptionist(),
                                r -> org.apache.pekko.actor.typed.receptionist.Receptionist.find(HostAgent.SERVICE, r),
                                Duration.ofSeconds(5), system.scheduler())
                        .toCompletableFuture().get(6, TimeUnit.SECONDS);
                for (var agent : listing.getServiceInstances(HostAgent.SERVICE)) {
                    try {
                        var list = org.apache.pekko.actor.typed.javadsl.AskPattern.<com.google.protobuf.GeneratedMessage,
                                        com.google.protobuf.GeneratedMessage>ask(agent,
                                        r -> dev.ferry.protocol.v1.ListInstances.newBuilder()
                                                .setReplyTo(resolver.toSerializationFormat(r)).build(),
                                        Duration.ofSeconds(5), system.scheduler())
                                .toCompletableFuture().get(6, TimeUnit.SECONDS);
                        if (list instanceof dev.ferry.protocol.v1.InstanceList l && l.getHost().equals(name)) {
                            return java.util.Optional.of(agent.path().address().toString());
                        }
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException silent) {
                        // an agent that does not answer cannot be told apart; it is not counted
                    }
                }
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // the receptionist is not ready yet: try again
            }
            Thread.sleep(700);
        }
        return java.util.Optional.empty();
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
        var taken = node.nameTakenBy(settings.name());
        if (taken.isPresent()) {
            node.close();
            throw new HostNameTakenException("host name " + settings.name() + " is already taken by the host at "
                    + taken.get() + "; give this host another --name");
        }
        node.startAgent();
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

    /** The host's data disk has no room to open its journal. */
    public static final class DataDiskFullException extends java.io.IOException {
        DataDiskFullException(String message) {
            super(message);
        }
    }

    /** Another host in the cluster already has this node's name. */
    public static final class HostNameTakenException extends IllegalStateException {
        HostNameTakenException(String message) {
            super(message);
        }
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
        HostNode node;
        try {
            node = start(s, Duration.ofSeconds(60));
        } catch (HostNameTakenException e) {
            System.err.println("ferry: " + e.getMessage());
            System.exit(2);
            return;
        } catch (DataDiskFullException e) {
            System.err.println("ferry: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "ferry-host-shutdown"));
        ParentWatch.startIfAsked(s.name());
        System.out.println(String.format(UP_LINE, s.name(), node.address()));
        System.out.flush();
        node.awaitTermination();
    }
}
