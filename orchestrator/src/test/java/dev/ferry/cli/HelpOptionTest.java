package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class HelpOptionTest {
    /** Every command and subcommand, as the words that name it. */
    private static List<List<String>> commands(CommandLine cl, List<String> prefix, List<List<String>> into) {
        for (var e : cl.getSubcommands().entrySet()) {
            if (e.getValue().getCommandSpec().name().equals(e.getKey())) {
                List<String> words = new ArrayList<>(prefix);
                words.add(e.getKey());
                into.add(words);
                commands(e.getValue(), words, into);
            }
        }
        return into;
    }

    @Test
    void everyCommandAnswersHelpWithItsUsageAndExitCodeZero() {
        List<List<String>> all = commands(FerryCli.commandLine(), List.of(), new ArrayList<>());
        assertTrue(all.size() > 10, "commands found: " + all);
        for (List<String> words : all) {
            List<String> args = new ArrayList<>(words);
            args.add("--help");
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, r.exitCode(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.out().contains("Usage: ferry " + String.join(" ", words)), String.join(" ", args) + ": " + r.out());
        }
    }
}
