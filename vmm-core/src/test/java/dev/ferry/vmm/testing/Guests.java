package dev.ferry.vmm.testing;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Booting test guests and reading what they print. */
public final class Guests {
    public static final long MIB = 1L << 20;
    private static final Pattern HEARTBEAT = Pattern.compile("heartbeat seq=(\\d+) tsc=(\\d+) sum=([0-9a-f]+)");

    private Guests() {}

    /** Boots {@code guest} with {@code memory} bytes and {@code k=v} args (not started). */
    public static Vm boot(String guest, long memory, String... kv) {
        Map<String, String> args = new HashMap<>();
        for (String s : kv) {
            int eq = s.indexOf('=');
            args.put(s.substring(0, eq), s.substring(eq + 1));
        }
        return Hypervisor.get().boot(VmConfig.of(guest, memory, args));
    }

    /** A parsed {@code heartbeat seq=<n> tsc=<t> sum=<hex>} line. */
    public record Beat(long seq, long tsc, String sum) {
        public static Beat parse(String line) {
            Matcher m = HEARTBEAT.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("not a heartbeat line: '" + line + "'");
            }
            return new Beat(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), m.group(3));
        }
    }

    public static List<Beat> beats(List<String> lines) {
        List<Beat> out = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("heartbeat seq=")) {
                out.add(Beat.parse(l));
            }
        }
        return out;
    }

    /** Waits until the VM's console shows at least {@code n} heartbeats. */
    public static List<Beat> awaitBeats(Vm vm, int n, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            List<Beat> b = beats(vm.console().recentLines());
            if (b.size() >= n) {
                return b;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("fewer than " + n + " heartbeats within " + timeoutMillis + " ms; console: "
                + vm.console().recentLines() + "; result: " + vm.result().getNow(null));
    }
}
