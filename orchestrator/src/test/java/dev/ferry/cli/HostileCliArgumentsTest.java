package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import picocli.CommandLine;

/**
 * Hostile command lines: random and mutated arguments to every command that talks to a cluster end with exit code
 * 2 and one line starting {@code ferry:}, never a stack trace, and before anything is contacted (no cluster exists
 * here, so a command that got past its checks says so); every command's arguments parse or are refused with a
 * picocli parameter error; sizes convert exactly or are refused naming the text.
 */
class HostileCliArgumentsTest {
    private static Path empty;

    @BeforeContainer
    static void dirs() throws IOException {
        empty = Files.createTempDirectory("ferry-hostile-cli");
    }

    @AfterContainer
    static void clean() throws IOException {
        try (Stream<Path> all = Files.walk(empty)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void assertNoStackTrace(CliRun r, String what) {
        for (String text : List.of(r.out(), r.err())) {
            assertFalse(text.contains("\tat ") || text.contains("Exception in") || text.contains("Caused by"),
                    what + " printed a stack trace:\n" + text);
        }
    }

    private static void assertRefused(CliRun r, String what) {
        assertNoStackTrace(r, what);
        assertEquals(FerryCli.USAGE, r.exitCode(), what + "\nout: " + r.out() + "\nerr: " + r.err());
        assertTrue(r.err().startsWith("ferry: "), what + "\nerr: " + r.err());
    }

    private static final MemorySizeConverter SIZES = new MemorySizeConverter();

    @Property(tries = 300)
    void anyTextConvertsToASizeOrIsRefusedNamingIt(@ForAll("sizeTexts") String text) {
        long bytes;
        try {
            bytes = SIZES.convert(text);
        } catch (CommandLine.TypeConversionException refused) {
            assertTrue(refused.getMessage().contains("'" + text + "'"), refused.getMessage());
            return;
        }
        assertTrue(bytes >= 0, text + " -> " + bytes);
    }

    @Provide
    Arbitrary<String> sizeTexts() {
        return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(24),
                Arbitraries.strings().withChars("0123456789-+ .kKmMgGtTiIbBeE").ofMaxLength(24));
    }

    @Property(tries = 300)
    void sizesWithUnitsAreExactAndOverflowIsRefused(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long n,
                                                   @ForAll @IntRange(min = 0, max = 4) int unit,
                                                   @ForAll @IntRange(min = 0, max = 3) int spelling) {
        String letter = unit == 0 ? "" : "KMGT".substring(unit - 1, unit);
        String suffix = switch (spelling) {
            case 0 -> letter;
            case 1 -> letter.toLowerCase(Locale.ROOT);
            case 2 -> letter.isEmpty() ? "" : letter + "iB";
            default -> letter.isEmpty() ? "" : letter + "B";
        };
        String text = n + suffix;
        long scale = 1L << (10 * unit);
        long expected;
        try {
            expected = Math.multiplyExact(n, scale);
        } catch (ArithmeticException overflow) {
            try {
                SIZES.convert(text);
                throw new AssertionError(text + " overflows a long but was accepted");
            } catch (CommandLine.TypeConversionException refused) {
                assertTrue(refused.getMessage().contains(text), refused.getMessage());
                return;
            }
        }
        assertEquals(expected, SIZES.convert(text), text);
        assertEquals(expected, SIZES.convert(" " + text + " "), text);
    }

    @Property(tries = 20)
    void negativeSizesAreRefused(@ForAll @LongRange(min = Long.MIN_VALUE, max = -1) long n) {
        try {
            SIZES.convert(n + "M");
            throw new AssertionError(n + "M was accepted");
        } catch (CommandLine.TypeConversionException refused) {
            assertTrue(refused.getMessage().contains(n + "M"), refused.getMessage());
        }
    }

    /** Commands that would contact a cluster, pointed at a directory with none. */
    private static List<String> command(int which) {
        String dir = empty.toString();
        return switch (which) {
            case 0 -> List.of("migrate", "web", "--cluster-dir", dir);
            case 1 -> List.of("evacuate", "h1", "--cluster-dir", dir);
            case 2 -> List.of("logs", "web", "--cluster-dir", dir);
            case 3 -> List.of("status", "--cluster-dir", dir);
            case 4 -> List.of("checkpoint", "web", "--cluster-dir", dir);
            case 5 -> List.of("instance", "launch", "--guest", "heartbeat", "--cluster-dir", dir);
            case 6 -> List.of("instance", "list", "--cluster-dir", dir);
            case 7 -> List.of("deploy", "--image", "disk.img", "--cluster-dir", dir);
            case 8 -> List.of("restore", "web", "--cluster-dir", dir);
            default -> List.of("cluster", "down", "--dir", dir);
        };
    }

    @Provide
    Arbitrary<List<String>> options() {
        Arbitrary<String> size = Arbitraries.of("0", "1", "4K", "15M", "16M", "256M", "64G", "65G", "-1M", "9999999999999T",
                "1.5G", "", " ", "M", "lots", "9223372036854775807", "0x10");
        Arbitrary<String> duration = Arbitraries.of("50ms", "0.2s", "0s", "-5ms", "NaNms", "Infinitys", "1e400ms", "ms", "s",
                "5", "", "soon", "0.1us", "1e18s", "9999999999999999999us");
        Arbitrary<String> number = Arbitraries.of("0", "-1", "1", "16", "17", "65535", "65536", "2147483648",
                "-2147483649", "1e3", "", "x", "10001", "99999999999999999999");
        Arbitrary<String> id = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(70),
                Arbitraries.of("web", "a/b", "..", "-x", "a".repeat(64), "é", "x y"));
        Arbitrary<String> anything = Arbitraries.strings().ofMaxLength(30)
                .filter(s -> !s.startsWith("-h") && !s.startsWith("-V") && !s.startsWith("--help")
                        && !s.startsWith("--version") && !s.startsWith("--seeds") && !s.startsWith("@"));
        Arbitrary<List<String>> pair = Arbitraries.oneOf(
                size.map(v -> List.of("--memory", v)), size.map(v -> List.of("--copy-rate", v)),
                duration.map(v -> List.of("--downtime", v)), number.map(v -> List.of("--parallel", v)),
                number.map(v -> List.of("--lines", v)), number.map(v -> List.of("--timeout", v)),
                id.map(v -> List.of("--id", v)), id.map(v -> List.of("--to", v)), id.map(v -> List.of("--host", v)),
                id.map(v -> List.of("--arg", v)), anything.map(List::of), Arbitraries.just(List.of("--bogus")),
                Arbitraries.just(List.of("--memory")), Arbitraries.just(List.of("--downtime")));
        return pair.list().ofMaxSize(4).map(l -> l.stream().flatMap(List::stream).toList());
    }

    @Property(tries = 120)
    void randomArgumentsToClusterCommandsEndWithUsageAndOneLine(@ForAll @IntRange(min = 0, max = 9) int which,
                                                                @ForAll("options") List<String> options) {
        List<String> args = new ArrayList<>(command(which));
        args.addAll(options);
        assertRefused(CliRun.of(args.toArray(String[]::new)), String.join(" ", args));
    }

    @Example
    void invalidSizesDurationsIdsAndCountsAreRefusedBeforeTheClusterIsContacted() {
        String dir = empty.toString();
        String[][] cases = {
            {"migrate", "web", "--downtime", "-5ms", "--cluster-dir", dir},
            {"migrate", "web", "--downtime", "NaNms", "--cluster-dir", dir},
            {"evacuate", "h1", "--downtime", "0s", "--cluster-dir", dir},
            {"logs", "web", "--lines", "0", "--cluster-dir", dir},
            {"instance", "launch", "--guest", "heartbeat", "--memory", "4K", "--cluster-dir", dir},
            {"instance", "launch", "--guest", "heartbeat", "--id", "a/b", "--cluster-dir", dir},
            {"deploy", "--image", "x.img", "--memory", "65G", "--cluster-dir", dir},
            {"deploy", "--image", "x.img", "--timeout", "-1", "--cluster-dir", dir},
        };
        String[] says = {"--downtime '-5ms'", "--downtime 'NaNms'", "--downtime '0s'", "--lines must be 1 to 10000",
            "below the minimum", "--id 'a/b'", "exceeds the largest guest", "--timeout must be"};
        for (int i = 0; i < cases.length; i++) {
            CliRun r = CliRun.of(cases[i]);
            assertRefused(r, String.join(" ", cases[i]));
            assertTrue(r.err().contains(says[i]), r.err());
            assertFalse(r.err().contains("no local cluster"), "checked before the cluster: " + r.err());
        }
    }

    @Example
    void invalidPortsAreRefusedBeforeAnyNodeStarts() {
        String data = empty.resolve("node").toString();
        String[][] cases = {
            {"host", "--name", "h1", "--data", data, "--port", "70000", "--seeds", "127.0.0.1:1"},
            {"host", "--name", "h1", "--data", data, "--port", "-1", "--seeds", "127.0.0.1:1"},
            {"orchestrator", "--name", "o1", "--data", data, "--port", "65536", "--seeds", "127.0.0.1:1"},
            {"orchestrator", "--name", "o1", "--data", data, "--http-port", "-8", "--seeds", "127.0.0.1:1"},
            {"cluster", "up", "--dir", data, "--http-port", "99999"},
        };
        for (String[] c : cases) {
            CliRun r = CliRun.of(c);
            assertRefused(r, String.join(" ", c));
            assertTrue(r.err().contains("is not a TCP port (0 to 65535)"), r.err());
        }
        assertFalse(Files.exists(empty.resolve("node")), "nothing was started");
    }

    @Property(tries = 120)
    void everyCommandsArgumentsParseOrAreRefusedWithAParameterError(@ForAll("commandNames") List<String> command,
                                                                    @ForAll("options") List<String> options,
                                                                    @ForAll("nodeOptions") List<String> more) {
        List<String> args = new ArrayList<>(command);
        args.addAll(options);
        args.addAll(more);
        try {
            FerryCli.commandLine().parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException refused) {
            assertFalse(refused.getMessage() == null || refused.getMessage().isBlank(), String.join(" ", args));
        }
    }

    @Provide
    Arbitrary<List<String>> commandNames() {
        return Arbitraries.of(List.of("host"), List.of("orchestrator"), List.of("cluster", "up"), List.of("run"),
                List.of("demo"), List.of("tour"), List.of("restore", "x.ferry"), List.of("checkpoint-info", "x"),
                List.of("kvm-info"), List.of("migrate"), List.of("evacuate"), List.of("instance", "launch"), List.of());
    }

    @Provide
    Arbitrary<List<String>> nodeOptions() {
        Arbitrary<String> value = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(12),
                Arbitraries.of("0", "-1", "65536", "2147483648", "1e3", "", "127.0.0.1:x", "4G", "-4G"));
        Arbitrary<String> name = Arbitraries.of("--port", "--http-port", "--hosts", "--host-memory", "--memory-capacity",
                "--seconds", "--name", "--data", "--bind", "--journal", "--guest", "--seeds", "--dir", "--images");
        return net.jqwik.api.Combinators.combine(name, value).as(List::of).list().ofMaxSize(3)
                .map(l -> l.stream().flatMap(List::stream).toList());
    }

    @Example
    void aDamagedClusterFileIsReportedInOneLine() throws IOException {
        Path dir = Files.createDirectories(empty.resolve("damaged"));
        for (String text : List.of("seed=127.0.0.1:1\npid.h1=abc\n", "seed=127.0.0.1:1\npid.h1=-7\n", "pid.h1=1\n",
                "seed=\n", "\u0000\u0001\u0002", "seed=127.0.0.1:1\npid.h1=99999999999999999999\n")) {
            Files.writeString(dir.resolve("cluster.properties"), text);
            for (String[] c : new String[][] {{"status", "--cluster-dir", dir.toString()},
                {"cluster", "down", "--dir", dir.toString()}}) {
                CliRun r = CliRun.of(c);
                assertRefused(r, String.join(" ", c) + " with " + text);
                assertTrue(r.err().contains("is damaged"), r.err());
            }
        }
    }

    @Example
    void clusterDownLeavesAProcessThatIsNotAFerryNodeAlone() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            Path dir = Files.createDirectories(empty.resolve("stale"));
            Files.writeString(dir.resolve("cluster.properties"), "seed=127.0.0.1:1\npid.h1=" + sleeper.pid() + "\n");
            CliRun r = CliRun.of("cluster", "down", "--dir", dir.toString());
            assertNoStackTrace(r, "cluster down");
            assertEquals(FerryCli.OK, r.exitCode(), r.err());
            assertTrue(r.err().contains("is not a Ferry node any more; left alone"), r.err());
            assertTrue(sleeper.isAlive(), "a process the file names but that is no Ferry node was stopped");
        } finally {
            sleeper.destroyForcibly();
        }
    }
}
