package dev.ferry.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the figures were measured on: CPU, cores, kernel, KVM module, Java. */
final class HostInfo {
    private HostInfo() {}

    static Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        m.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("kvm", kvmModules());
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        return m;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static String kvmModules() {
        try (var names = Files.list(Path.of("/sys/module"))) {
            String modules = names.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("kvm")).sorted()
                    .reduce((a, b) -> a + " " + b).orElse("");
            return modules.isEmpty() ? "no kvm* entry in /sys/module" : modules;
        } catch (IOException e) {
            return "unknown (cannot list /sys/module: " + e + ")";
        }
    }
}
