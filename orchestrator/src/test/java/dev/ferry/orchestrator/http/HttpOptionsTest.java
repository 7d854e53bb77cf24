package dev.ferry.orchestrator.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HttpOptionsTest {
    @Test
    void takesItsOptionsOutAndLeavesTheNodesInOrder() {
        HttpOptions o = HttpOptions.parse(new String[] {"--name", "o", "--http-port", "0", "--data", "/d"});
        assertTrue(o.enabled());
        assertEquals(0, o.port());
        assertEquals("127.0.0.1", o.bind());
        assertArrayEquals(new String[] {"--name", "o", "--data", "/d"}, o.rest());
        assertEquals("0.0.0.0", HttpOptions.parse(new String[] {"--http-bind", "0.0.0.0", "--http-port", "80"}).bind());
    }

    @Test
    void isOffWithoutAPort() {
        assertFalse(HttpOptions.parse(new String[] {"--name", "o"}).enabled());
    }

    @Test
    void refusesBadPortsAndABindAddressWithoutAPort() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HttpOptions.parse(new String[] {"--http-port", "x"}))
                .getMessage().contains("--http-port x is not a TCP port"));
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.parse(new String[] {"--http-port", "70000"}));
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.parse(new String[] {"--http-port"}));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HttpOptions.parse(new String[] {"--http-bind", "::1"}))
                .getMessage().contains("--http-bind needs --http-port"));
    }
}
