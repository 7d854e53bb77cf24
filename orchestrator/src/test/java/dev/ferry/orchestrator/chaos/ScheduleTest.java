package dev.ferry.orchestrator.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    private static ChaosOptions options(long seed, Duration d, Set<FaultKind> faults) {
        return new ChaosOptions(3, 4, d, seed, faults, Path.of("unused"));
    }

    private static String printed(Schedule s) {
        StringWriter w = new StringWriter();
        s.print(new PrintWriter(w));
        return w.toString();
    }

    @Test
    void sameSeedAndOptionsGiveTheSameSchedule() {
        ChaosOptions o = options(42, Duration.ofSeconds(600), EnumSet.allOf(FaultKind.class));
        assertEquals(Schedule.plan(o), Schedule.plan(o));
        assertEquals(printed(Schedule.plan(o)), printed(Schedule.plan(options(42, Duration.ofSeconds(600),
                EnumSet.allOf(FaultKind.class)))));
    }

    @Test
    void anotherSeedGivesAnotherSchedule() {
        Set<FaultKind> all = EnumSet.allOf(FaultKind.class);
        assertNotEquals(Schedule.plan(options(1, Duration.ofSeconds(120), all)).steps(),
                Schedule.plan(options(2, Duration.ofSeconds(120), all)).steps());
    }

    @Test
    void everyEnabledFaultKindIsScheduledAndNoOther() {
        for (long seed = 1; seed <= 20; seed++) {
            Schedule all = Schedule.plan(options(seed, Duration.ofSeconds(120), EnumSet.allOf(FaultKind.class)));
            assertEquals(EnumSet.allOf(FaultKind.class), all.faultCounts().keySet(), "seed " + seed + ": " + printed(all));
            Schedule some = Schedule.plan(options(seed, Duration.ofSeconds(120), EnumSet.of(FaultKind.DELAY,
                    FaultKind.DISK_FULL)));
            assertEquals(EnumSet.of(FaultKind.DELAY, FaultKind.DISK_FULL), some.faultCounts().keySet());
            assertTrue(Schedule.plan(options(seed, Duration.ofSeconds(120), Set.of())).faults().isEmpty());
        }
    }

    @Test
    void aLongRunHasAFaultEveryTwentySecondsOrSoAndStepsInOrderWithinTheRun() {
        Schedule s = Schedule.plan(options(1, Duration.ofSeconds(600), EnumSet.allOf(FaultKind.class)));
        assertTrue(s.faults().size() >= 15, printed(s));
        long last = -1;
        for (Step step : s.steps()) {
            assertTrue(step.atMillis() >= last, "in order");
            assertTrue(step.atMillis() < 600_000, "within the run: " + step);
            last = step.atMillis();
        }
        assertTrue(s.operations().stream().filter(o -> o.kind().equals("migrate")).count() >= 30, printed(s));
        for (String kind : List.of("launch", "migrate", "checkpoint", "restore", "deploy")) {
            assertTrue(s.operations().stream().anyMatch(o -> o.kind().equals(kind)), kind);
        }
    }

    @Test
    void faultsThatTakeANodeAwayNeverOverlap() {
        for (long seed = 1; seed <= 30; seed++) {
            Schedule s = Schedule.plan(options(seed, Duration.ofSeconds(600), EnumSet.of(FaultKind.KILL,
                    FaultKind.PARTITION)));
            long freeAt = 0;
            for (Fault f : s.faults()) {
                assertTrue(f.atMillis() >= freeAt, "seed " + seed + ": " + f + " starts before the previous one is over");
                long length = f instanceof Fault.Kill k ? k.restartAfterMillis() : ((Fault.Partition) f).durationMillis();
                freeAt = f.atMillis() + length;
            }
        }
    }

    @Test
    void partitionsLastLongEnoughForTheSplitBrainResolverToDecide() {
        Schedule s = Schedule.plan(options(5, Duration.ofSeconds(600), EnumSet.of(FaultKind.PARTITION)));
        assertTrue(s.faults().stream().allMatch(f -> ((Fault.Partition) f).durationMillis() >= 20_000));
    }

    @Test
    void theLaunchesComeFirstAndTheLastInstanceIsTheBusyOne() {
        Schedule s = Schedule.plan(options(9, Duration.ofSeconds(60), Set.of()));
        List<Step> first = s.steps().subList(0, 4);
        assertEquals(List.of("i1", "i2", "i3", "i4"), first.stream().map(x -> ((Operation.Launch) x).instance()).toList());
        assertEquals(Schedule.GUEST_DIRTIER, ((Operation.Launch) first.get(3)).guest());
        assertEquals(Schedule.GUEST_HEARTBEAT, ((Operation.Launch) first.get(0)).guest());
    }

    @Test
    void theReplayCommandNamesEveryOption() {
        Schedule s = Schedule.plan(options(77, Duration.ofSeconds(90), EnumSet.of(FaultKind.KILL, FaultKind.DISK_FULL)));
        assertEquals("ferry chaos run --hosts 3 --instances 4 --duration 90s --seed 77 --faults kill,disk-full",
                s.replayCommand());
    }

    @Test
    void badOptionsAreRefusedWithTheReason() {
        Set<FaultKind> none = Set.of();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ChaosOptions(1, 4, Duration.ofSeconds(60), 1,
                none, Path.of("x"))).getMessage().contains("--hosts 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ChaosOptions(3, 0, Duration.ofSeconds(60), 1,
                none, Path.of("x"))).getMessage().contains("--instances 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ChaosOptions(3, 4, Duration.ofSeconds(5), 1,
                none, Path.of("x"))).getMessage().contains("--duration 5s"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FaultKind.parseList("kill,flood"))
                .getMessage().contains("unknown fault 'flood'"));
        assertEquals(EnumSet.allOf(FaultKind.class), FaultKind.parseList("all"));
        assertEquals(EnumSet.of(FaultKind.KILL, FaultKind.DISK_FULL), FaultKind.parseList(" disk-full , kill "));
        assertTrue(FaultKind.parseList("none").isEmpty());
    }
}
