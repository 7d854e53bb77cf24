package dev.ferry.orchestrator;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.InstanceList;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorRef;

/** What the hosts themselves say they run, asked of every reachable host agent: the truth the registry must match. */
final class HostTruth {
    private HostTruth() {}

    /** The hosts whose agent runs {@code id} (state RUNNING), with the epoch each runs. */
    static List<String> runningCopies(HostClient client, String id) throws Exception {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, ActorRef<GeneratedMessage>> h : client.awaitHosts(0, Duration.ofSeconds(10)).entrySet()) {
            InstanceList l = client.list(h.getValue());
            for (InstanceInfo i : l.getInstancesList()) {
                if (i.getInstanceId().equals(id) && i.getState().equals("RUNNING")) {
                    out.add(h.getKey() + "@" + i.getEpoch());
                }
            }
        }
        return out;
    }

    /** Heartbeat sequence numbers in the console of {@code id} on {@code host}. */
    static List<Long> beats(HostClient client, String host, String id) throws Exception {
        ActorRef<GeneratedMessage> agent = client.awaitHosts(1, Duration.ofSeconds(10)).get(host);
        List<Long> seqs = new ArrayList<>();
        if (agent == null) {
            return seqs;
        }
        for (String line : client.console(agent, id, 1000).getLinesList()) {
            int at = line.indexOf("heartbeat seq=");
            if (at >= 0) {
                String rest = line.substring(at + "heartbeat seq=".length());
                int end = rest.indexOf(' ');
                seqs.add(Long.parseLong(end < 0 ? rest : rest.substring(0, end)));
            }
        }
        return seqs;
    }

    /** The condition's answer, false when asking it failed (a node not up yet, a timeout). */
    static boolean quietly(java.util.concurrent.Callable<Boolean> c) {
        try {
            return c.call();
        } catch (Exception e) {
            return false;
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting until " + what);
            }
            Thread.sleep(250);
        }
    }
}
