package dev.ferry.vmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every ioctl number and struct offset the core hard-codes equals what the C compiler computes from
 * {@code <linux/kvm.h>}: {@code src/test/c/kvm_abi_dump.c} prints them, this test compares both ways.
 */
class KvmAbiTest {
    private static Map<String, Long> dump;

    @BeforeAll
    static void compileAndRunDump() throws IOException, InterruptedException {
        Path out = Path.of("target", "kvm-abi");
        Files.createDirectories(out);
        Path exe = out.resolve("kvm_abi_dump");
        run(List.of("gcc", "-Wall", "-o", exe.toString(), "src/test/c/kvm_abi_dump.c"));
        dump = new HashMap<>();
        for (String line : run(List.of(exe.toString())).split("\n")) {
            String[] parts = line.trim().split(" ");
            dump.put(parts[0], Long.parseUnsignedLong(parts[1]));
        }
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " did not finish");
            assertEquals(0, p.exitValue(), command + " failed:\n" + output);
            return output;
        } finally {
            p.destroyForcibly();
        }
    }

    private static Map<String, Long> constants(Class<?> type) throws IllegalAccessException {
        Map<String, Long> out = new HashMap<>();
        for (Field f : type.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m) && Modifier.isFinal(m) && !Modifier.isPrivate(m)
                    && (f.getType() == int.class || f.getType() == long.class)) {
                f.setAccessible(true);
                out.put(type.getSimpleName() + "." + f.getName(), ((Number) f.get(null)).longValue());
            }
        }
        return out;
    }

    @Test
    void ioctlNumbersMatchTheKernelHeaders() throws IllegalAccessException {
        assertMatches(constants(Ioctls.class));
    }

    @Test
    void structOffsetsAndSizesMatchTheKernelHeaders() throws IllegalAccessException {
        assertMatches(constants(Layout.class));
    }

    @Test
    void everyDumpedFactHasAJavaConstant() throws IllegalAccessException {
        Map<String, Long> java = new HashMap<>(constants(Ioctls.class));
        java.putAll(constants(Layout.class));
        List<String> unknown = new ArrayList<>();
        for (String name : dump.keySet()) {
            if (!java.containsKey(name)) {
                unknown.add(name);
            }
        }
        assertTrue(unknown.isEmpty(), "dumped but not declared in Java: " + unknown);
    }

    @Test
    void getRegsNumberNeedsMoreThanThirtyOneBits() {
        assertTrue(Ioctls.KVM_GET_REGS > Integer.MAX_VALUE, "KVM_GET_REGS = 0x" + Long.toHexString(Ioctls.KVM_GET_REGS));
    }

    private static void assertMatches(Map<String, Long> java) {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Long> e : java.entrySet()) {
            Long c = dump.get(e.getKey());
            if (c == null) {
                wrong.add(e.getKey() + " is not checked by kvm_abi_dump.c");
            } else if (!c.equals(e.getValue())) {
                wrong.add(e.getKey() + ": Java 0x" + Long.toHexString(e.getValue()) + ", C 0x" + Long.toHexString(c));
            }
        }
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }
}
