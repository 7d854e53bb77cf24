package dev.ferry.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.MemberStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With cluster TLS on, nodes with a trusted certificate form a cluster, and a node with another one cannot join. */
class ClusterTlsTest {
    private static final String PASSWORD = "ferry-test-pw";

    @TempDir
    Path dir;

    private void keytool(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "keytool " + String.join(" ", args) + ": " + out);
    }

    /** A key store with a fresh self-signed certificate, and its certificate file. */
    private Path keyStore(String name) throws Exception {
        Path ks = dir.resolve(name + ".p12");
        keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-validity", "2", "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", PASSWORD,
                "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", "node", "-keystore", ks.toString(), "-storepass", PASSWORD, "-file",
                dir.resolve(name + ".crt").toString());
        return ks;
    }

    private Path trustStore(String name, String... certs) throws Exception {
        Path ts = dir.resolve(name + ".p12");
        for (String c : certs) {
            keytool("-importcert", "-noprompt", "-alias", c, "-file", dir.resolve(c + ".crt").toString(), "-storetype",
                    "PKCS12", "-keystore", ts.toString(), "-storepass", PASSWORD);
        }
        return ts;
    }

    private ActorSystem<Void> node(String name, int port, String seed, Path ks, Path ts) {
        HostSettings s = new HostSettings(name, "127.0.0.1", port, dir.resolve(name), List.of(seed), 1L << 30,
                List.of("client"));
        Config c = ClusterTls.config(ks.toString(), ts.toString(), PASSWORD).withFallback(s.config());
        return ActorSystem.create(Behaviors.empty(), HostSettings.SYSTEM_NAME, c);
    }

    private static boolean joins(ActorSystem<Void> system, long seconds) throws InterruptedException {
        CountDownLatch up = new CountDownLatch(1);
        Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(up::countDown);
        return up.await(seconds, TimeUnit.SECONDS);
    }

    @Test
    void onlyNodesWithATrustedCertificateJoin() throws Exception {
        Path cluster = keyStore("cluster");
        Path stranger = keyStore("stranger");
        Path trustCluster = trustStore("trust-cluster", "cluster");
        Path trustBoth = trustStore("trust-both", "cluster", "stranger");
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String seed = "127.0.0.1:" + port;
        ActorSystem<Void> first = node("first", port, seed, cluster, trustCluster);
        ActorSystem<Void> second = node("second", 0, seed, cluster, trustCluster);
        ActorSystem<Void> intruder = node("intruder", 0, seed, stranger, trustBoth);
        try {
            assertTrue(joins(first, 30), "the seed forms the cluster over TLS");
            assertTrue(joins(second, 30), "a node with the cluster's certificate joins");
            assertFalse(joins(intruder, 10), "a node with another certificate does not join");
            long up = java.util.stream.StreamSupport.stream(Cluster.get(Adapter.toClassic(first)).state().getMembers()
                    .spliterator(), false).filter(m -> m.status() == MemberStatus.up()).count();
            assertEquals(2, up, "the cluster has the two trusted nodes only");
        } finally {
            intruder.terminate();
            second.terminate();
            first.terminate();
            first.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
