package dev.ferry.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LinkRateTest {
    @Test
    void ratesAreBitsPerSecondInDecimalUnits() {
        assertEquals(2_000_000_000L, LinkRate.parse("2gbit").bitsPerSecond());
        assertEquals(1_500_000_000L, LinkRate.parse("1.5GBIT").bitsPerSecond());
        assertEquals(500_000_000L, LinkRate.parse("500mbit").bitsPerSecond());
        assertEquals(2_000_000L, LinkRate.parse("2000kbit").bitsPerSecond());
        assertEquals("2 Gbit/s", LinkRate.parse("2gbit").toString());
        assertEquals("0.5 Gbit/s", LinkRate.parse("500mbit").toString());
    }

    @Test
    void bytesPerSecondBareNumbersAndTinyRatesAreRefused() {
        for (String bad : new String[] {"2gbps", "2g", "2000000", "gbit", "-1gbit", "100kbit"}) {
            assertThrows(IllegalArgumentException.class, () -> LinkRate.parse(bad), bad);
        }
    }

    @Test
    void theDeployBenchTakesALinkRateAndHasNoneByDefault() {
        assertEquals(2.0, DeployBench.parse(new String[] {"--link-rate", "2gbit"}).linkRate().gbit());
        assertNull(DeployBench.parse(new String[] {"--image-size", "256M"}).linkRate());
        assertThrows(IllegalArgumentException.class, () -> DeployBench.parse(new String[] {"--link-rate"}));
    }
}
