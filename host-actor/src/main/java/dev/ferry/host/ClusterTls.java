package dev.ferry.host;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Mutual TLS between cluster nodes (Pekko Artery's {@code tls-tcp} transport), off unless a key store is given:
 * {@code FERRY_TLS_KEYSTORE} (PKCS#12 with this node's key and certificate), {@code FERRY_TLS_TRUSTSTORE} (the
 * certificates of the authority that signs every node's), and {@code FERRY_TLS_PASSWORD} (for both), or the system
 * properties {@code ferry.tls.key-store}, {@code ferry.tls.trust-store} and {@code ferry.tls.password}. Every
 * node must present a certificate the others trust: a node with another certificate cannot join.
 */
public final class ClusterTls {
    private ClusterTls() {}

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        return v != null ? v : System.getenv(env);
    }

    /** The Artery settings for TLS, or an empty configuration when no key store is configured. */
    public static Config config() {
        String keyStore = setting("ferry.tls.key-store", "FERRY_TLS_KEYSTORE");
        if (keyStore == null || keyStore.isBlank()) {
            return ConfigFactory.empty();
        }
        return config(keyStore, setting("ferry.tls.trust-store", "FERRY_TLS_TRUSTSTORE"),
                setting("ferry.tls.password", "FERRY_TLS_PASSWORD"));
    }

    /** The Artery settings for TLS with this key store, trust store and password. */
    public static Config config(String keyStore, String trustStore, String password) {
        if (trustStore == null || trustStore.isBlank() || password == null) {
            throw new IllegalArgumentException("cluster TLS needs a trust store and a password besides the key store "
                    + "(FERRY_TLS_TRUSTSTORE, FERRY_TLS_PASSWORD)");
        }
        for (String f : new String[] {keyStore, trustStore}) {
            if (!Files.isReadable(Path.of(f))) {
                throw new IllegalArgumentException("cluster TLS: cannot read " + f);
            }
        }
        String p = "pekko.remote.artery.ssl.config-ssl-engine.";
        Map<String, Object> m = new HashMap<>();
        m.put("pekko.remote.artery.transport", "tls-tcp");
        m.put(p + "key-store", keyStore);
        m.put(p + "trust-store", trustStore);
        m.put(p + "key-store-password", password);
        m.put(p + "key-password", password);
        m.put(p + "trust-store-password", password);
        m.put(p + "protocol", "TLSv1.3");
        m.put(p + "enabled-algorithms", java.util.List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"));
        m.put(p + "require-mutual-authentication", true);
        // Nodes are addressed by IP; identity is the certificate chain, not a host name.
        m.put(p + "hostname-verification", false);
        return ConfigFactory.parseMap(m);
    }
}
