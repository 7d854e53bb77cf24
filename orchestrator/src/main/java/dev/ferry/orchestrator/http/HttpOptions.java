package dev.ferry.orchestrator.http;

import java.util.ArrayList;
import java.util.List;

/**
 * The node options of the HTTP API, taken out of a node's arguments: {@code --http-port P} (0: any free port) and
 * {@code --http-bind ADDR} (default 127.0.0.1); {@code rest} is everything else, in order.
 */
public record HttpOptions(Integer port, String bind, String[] rest) {
    public static final String DEFAULT_BIND = "127.0.0.1";

    public static HttpOptions parse(String[] args) {
        Integer port = null;
        String bind = null;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.equals("--http-port") && !a.equals("--http-bind")) {
                rest.add(a);
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
            String v = args[++i];
            if (a.equals("--http-bind")) {
                bind = v;
            } else {
                try {
                    port = Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    port = -1;
                }
                if (port < 0 || port > 65535) {
                    throw new IllegalArgumentException("--http-port " + v + " is not a TCP port (0: any free port)");
                }
            }
        }
        if (bind != null && port == null) {
            throw new IllegalArgumentException("--http-bind needs --http-port");
        }
        return new HttpOptions(port, bind == null ? DEFAULT_BIND : bind, rest.toArray(String[]::new));
    }

    /** Whether the node serves the HTTP API. */
    public boolean enabled() {
        return port != null;
    }
}
