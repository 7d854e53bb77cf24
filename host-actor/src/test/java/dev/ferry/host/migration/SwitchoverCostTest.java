package dev.ferry.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SwitchoverCostTest {
    @Test
    void startsAtTheInitialGuessAndLeavesWhatItLeavesOfFourFifthsOfTheLimitForPages() {
        SwitchoverCost c = new SwitchoverCost();
        assertEquals(SwitchoverCost.INITIAL_MICROS, c.estimateMicros());
        assertEquals(40_000 - SwitchoverCost.INITIAL_MICROS, c.copyBudgetMicros(50_000));
    }

    @Test
    void learnsTheFixedPartByTakingTheLastPagesCopyOutOfTheDowntime() {
        SwitchoverCost c = new SwitchoverCost();
        // 1000 pages at 409.6 MB/s take 10 ms of a 45 ms downtime: 35 ms fixed, averaged with the 15 ms guess
        c.observe(45_000, 1000, 409_600_000);
        assertEquals(25_000, c.estimateMicros());
        c.observe(45_000, 1000, 409_600_000);
        assertEquals(30_000, c.estimateMicros());
        assertEquals(12_500, c.copyBudgetMicros(50_000), "a quarter of the limit at least");
        assertEquals(50_000, c.copyBudgetMicros(100_000));
    }

    @Test
    void aHostSlowerThanTheLimitStillGetsAQuarterOfItForPages() {
        SwitchoverCost c = new SwitchoverCost();
        for (int i = 0; i < 10; i++) {
            c.observe(200_000, 0, 1e9);
        }
        assertEquals(12_500, c.copyBudgetMicros(50_000));
    }

    @Test
    void ignoresSwitchoversWhoseDowntimeIsUnknown() {
        SwitchoverCost c = new SwitchoverCost();
        c.observe(-1, 10, 1e9);
        assertEquals(SwitchoverCost.INITIAL_MICROS, c.estimateMicros());
    }
}
