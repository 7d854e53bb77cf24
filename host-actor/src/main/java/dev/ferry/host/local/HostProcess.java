package dev.ferry.host.local;

import dev.ferry.host.HostNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A host node in its own JVM on this machine (for local clusters, tests and benchmarks); {@link #kill()} is a real
 * SIGKILL. The class path is this JVM's; the node's output goes to {@code NAME.log} beside its data directory.
 */
public final class HostProcess implements AutoCloseable {
    private final String name;
    private final Path dataDir;
    private final Path log;
    private final List<String> command;
    private final String upLine;
    private Process process;
    private int boundPort = -1;

    public HostProcess(String name, Path dataDir, int port, String seed, long memoryCapacity, List<String> jvmProperties) {
        this(HostNode.class.getName(), HostNode.UP_LINE, name, dataDir, port, seed, memoryCapacity, jvmProperties);
    }

    /**
     * A node of another kind ({@code mainClass}, on this JVM's class path) that takes the same options and prints
     * {@code upLine} (a format with the name and the address) once it has joined.
     */
    public HostProcess(String mainClass, String upLine, String name, Path dataDir, int port, String seed,
                       long memoryCapacity, List<String> jvmProperties) {
        this.upLine = upLine;
        this.name = name;
        this.dataDir = dataDir;
        this.log = dataDir.resolveSibling(name + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:+UseSerialGC"));
        command.addAll(jvmProperties);
        command.add("-D" + ParentWatch.PROPERTY + "=" + ProcessHandle.current().pid());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass,
                "--name", name, "--port", Integer.toString(port), "--data", dataDir.toString(), "--seeds", seed,
                "--memory-capacity", Long.toString(memoryCapacity)));
    }

    public String name() {
        return name;
    }

    /**
     * Lets the node run on after this process ends ({@code ferry cluster up}); by default a node stops once the
     * process that started it is gone ({@link ParentWatch}). Before {@link #start()}.
     */
    public HostProcess outlivingThisProcess() {
        if (process != null) {
            throw new IllegalStateException("node " + name + " has already started");
        }
        command.removeIf(a -> a.startsWith("-D" + ParentWatch.PROPERTY + "="));
        return this;
    }

    /** Appends options of the node's own after the common ones; before {@link #start()}. */
    public HostProcess withArgs(List<String> nodeArgs) {
        if (process != null) {
            throw new IllegalStateException("node " + name + " has already started");
        }
        command.addAll(nodeArgs);
        return this;
    }

    /**
     * Runs the JVM under {@code prefix} ({@code ip netns exec NS}, say); before {@link #start()}. The prefix must exec
     * the JVM in its own process, so that {@link #pid()} and {@link #kill()} reach the JVM itself.
     */
    public HostProcess withCommandPrefix(List<String> prefix) {
        if (process != null) {
            throw new IllegalStateException("node " + name + " has already started");
        }
        command.addAll(0, prefix);
        return this;
    }

    /** Starts the JVM and waits until it prints that it joined the cluster. */
    public HostProcess start() throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        // A node restarted under the same name appends to its log: only what this process prints counts.
        long from = Files.exists(log) ? Files.size(log) : 0;
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.currentTimeMillis() + 90_000;
        String up = String.format(upLine, name, "");
        while (System.currentTimeMillis() < deadline) {
            String out = Files.exists(log) ? since(from) : "";
            if (out.contains(up)) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(up)
                        + "\\S*@[^:\\s]+:(\\d+)").matcher(out);
                if (m.find()) {
                    boundPort = Integer.parseInt(m.group(1));
                }
                return this;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("host " + name + " exited with " + process.exitValue() + ":\n" + tail());
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("host " + name + " did not come up within 90 s:\n" + tail());
    }

    private String since(long offset) throws IOException {
        byte[] all = Files.readAllBytes(log);
        return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset),
                StandardCharsets.UTF_8);
    }

    public String tail() {
        try {
            String all = Files.readString(log, StandardCharsets.UTF_8);
            return all.substring(Math.max(0, all.length() - 4000));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The cluster port the node bound (once it is up), or -1 when its up line did not say. */
    public int boundPort() {
        return boundPort;
    }

    /** The node's process id (once started). */
    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** kill -9. */
    public void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}
