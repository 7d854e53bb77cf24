package dev.ferry.orchestrator;

import dev.ferry.host.HostArgs;
import dev.ferry.host.HostSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.ferry.host.local.ParentWatch;
import dev.ferry.orchestrator.http.HttpOptions;
import dev.ferry.orchestrator.http.HttpServer;
import dev.ferry.orchestrator.registry.InstanceEntity;
import dev.ferry.orchestrator.registry.Reconciler;
import dev.ferry.orchestrator.registry.RegistryIds;
import dev.ferry.orchestrator.registry.RegistrySettings;
import java.nio.file.Path;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * An orchestrator node: a cluster member with role {@code orchestrator} hosting the sharded instance registry and
 * the operators' gateway. Prints {@code ferry orchestrator NAME up at ADDRESS} once it has joined; with
 * {@code --http-port P} it serves the HTTP API too, and prints its URL first.
 */
public final class OrchestratorNode {
    public static final String UP_LINE = "ferry orchestrator %s up at %s";

    private OrchestratorNode() {}

    public static ActorSystem<Void> start(HostSettings s) throws Exception {
        Files.createDirectories(s.dataDir().resolve("journal"));
        Files.createDirectories(s.dataDir().resolve("snapshots"));
        HostSettings settings = new HostSettings(s.name(), s.bindHost(), s.port(), s.dataDir(), s.seeds(),
                s.memoryCapacity(), List.of("orchestrator"));
        RegistryJournal journal = RegistryJournal.choose();
        Config config = ConfigFactory.systemProperties().withFallback(journal.config()).withFallback(settings.config())
                .withFallback(ConfigFactory.parseResources("ferry-orchestrator.conf")).resolve();
        String dir = config.getString("ferry.registry.checkpoint-dir");
        RegistrySettings registry = new RegistrySettings(dir.isEmpty()
                ? s.dataDir().toAbsolutePath().normalize().resolveSibling("checkpoints") : Path.of(dir));
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            HostDirectory directory = HostDirectory.start(ctx.getSystem());
            RegistryIds ids = new RegistryIds(ctx.getSystem());
            ClusterSharding.get(ctx.getSystem()).init(Entity.of(InstanceEntity.TYPE_KEY,
                    e -> InstanceEntity.create(e.getEntityId(), directory, registry)).withRole("orchestrator"));
            ClusterSingleton.get(ctx.getSystem()).init(SingletonActor.of(Reconciler.create(directory, ids,
                    config.getDuration("ferry.registry.reconcile-every"), config.getDuration("ferry.registry.reconcile-after")),
                    "registry-reconciler").withSettings(ClusterSingletonSettings.create(ctx.getSystem()).withRole("orchestrator")));
            ctx.spawn(OrchestratorGateway.create(directory, ids), "gateway");
            return Behaviors.empty();
        }), HostSettings.SYSTEM_NAME, config);
        CountDownLatch up = new CountDownLatch(1);
        Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(up::countDown);
        if (!up.await(60, TimeUnit.SECONDS)) {
            system.terminate();
            throw new IllegalStateException("orchestrator " + s.name() + " did not join the cluster at " + s.seeds());
        }
        return system;
    }

    public static void main(String[] args) throws Exception {
        HttpOptions http = HttpOptions.parse(args);
        HostSettings s = HostArgs.parse(http.rest());
        ActorSystem<Void> system = start(s);
        Runtime.getRuntime().addShutdownHook(new Thread(system::terminate, "ferry-orchestrator-shutdown"));
        ParentWatch.startIfAsked(s.name());
        if (http.enabled()) {
            try {
                HttpServer server = HttpServer.start(system, http.bind(), http.port(), HttpServer.clusterOf(system));
                System.out.println(String.format(HttpServer.LISTENING_LINE, server.url()));
            } catch (Exception e) {
                system.terminate();
                throw e;
            }
        }
        System.out.println(String.format(UP_LINE, s.name(), system.address()));
        System.out.flush();
        system.getWhenTerminated().toCompletableFuture().join();
    }
}
