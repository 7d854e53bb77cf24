package dev.ferry.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class WarmUpScenarioTest {
    private static MigrationScenario scenario(String name, long memoryMib, long worksetMib) {
        return new MigrationScenario(name, memoryMib, worksetMib, 50_000, 2, 50, new MigrationGoal.TotalVsQemu(1.0));
    }

    @Test
    void theWarmUpIsTheGuestThatTouchesTheMostMemory() {
        MigrationScenario w = MigrateBench.warmUpScenario(List.of(scenario("idle-1g", 1024, 0),
                scenario("touched-4g", 4096, 3070), scenario("dirty-256m", 1024, 256)));
        assertEquals("warm-up", w.name());
        assertEquals(4096, w.memoryMib());
        assertEquals(3070, w.worksetMib());
        assertNull(w.goal(), "the warm-up is not judged");
    }

    @Test
    void amongIdleGuestsTheLargestRamWarmsUp() {
        MigrationScenario w = MigrateBench.warmUpScenario(List.of(scenario("a", 1024, 0), scenario("b", 2048, 0)));
        assertEquals(2048, w.memoryMib());
    }
}
