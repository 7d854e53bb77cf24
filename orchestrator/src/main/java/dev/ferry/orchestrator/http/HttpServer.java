package dev.ferry.orchestrator.http;

import com.typesafe.config.ConfigFactory;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.Materializer;

/**
 * The HTTP API bound to one address of this node. Blocking work runs on Pekko's blocking-I/O dispatcher, never on
 * the dispatcher pekko-http serves requests on.
 */
public final class HttpServer implements AutoCloseable {
    /** What a node prints once it listens: the URL. */
    public static final String LISTENING_LINE = "ferry http listening at %s";
    private static final Pattern LISTENING = Pattern.compile(
            Pattern.quote(LISTENING_LINE.replace("%s", "")) + "(http://\\S+)");
    private static final Duration BIND = Duration.ofSeconds(30);
    private static final Duration DRAIN = Duration.ofSeconds(5);

    private final ServerBinding binding;
    private final ControlPlane cluster;

    private HttpServer(ServerBinding binding, ControlPlane cluster) {
        this.binding = binding;
        this.cluster = cluster;
    }

    /** Serves {@code cluster} at {@code bind}:{@code port} (0: any free port); the server owns {@code cluster}. */
    public static HttpServer start(ActorSystem<?> system, String bind, int port, ControlPlane cluster) throws Exception {
        Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
        HttpApi api = new HttpApi(cluster, Materializer.matFromSystem(system), blocking);
        try {
            // a connection waiting for an evacuation sends no bytes: idle is allowed as long as a request may take
            ServerSettings settings = ServerSettings.create(ConfigFactory.parseString("pekko.http.server.idle-timeout = "
                    + (HttpApi.SLOW.toMinutes() + 5) + " min").withFallback(system.settings().config()));
            ServerBinding b = Http.get(system).newServerAt(bind, port).withSettings(settings).bind(api.route())
                    .toCompletableFuture().get(BIND.toSeconds(), TimeUnit.SECONDS);
            return new HttpServer(b, cluster);
        } catch (java.util.concurrent.ExecutionException e) {
            cluster.close();
            throw new IllegalStateException("cannot listen for HTTP on " + bind + ":" + port + ": "
                    + ApiErrors.unwrap(e).getMessage(), e);
        }
    }

    /** The URL in the last {@link #LISTENING_LINE} of a node's output, if it printed one. */
    public static Optional<String> listeningUrl(String output) {
        Matcher m = LISTENING.matcher(output);
        String url = null;
        while (m.find()) {
            url = m.group(1);
        }
        return Optional.ofNullable(url);
    }

    /** A control plane for the cluster this node is a member of. */
    public static ControlPlane clusterOf(ActorSystem<?> system) {
        return new ClusterControlPlane(system, system.dispatchers().lookup(DispatcherSelector.blocking()));
    }

    public InetSocketAddress address() {
        return binding.localAddress();
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress() instanceof Inet6Address ? "[" + a.getAddress().getHostAddress() + "]"
                : a.getAddress().getHostAddress();
        return "http://" + host + ":" + a.getPort();
    }

    /** Stops listening and gives requests in flight a few seconds to finish. */
    @Override
    public void close() throws Exception {
        try {
            binding.terminate(DRAIN).toCompletableFuture().get(DRAIN.toSeconds() + 5, TimeUnit.SECONDS);
        } finally {
            cluster.close();
        }
    }
}
