package dev.ferry.cli;

import dev.ferry.capture.checkpoint.CheckpointFormatException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The one-line error every command gives for a checkpoint file it cannot use; always exit code 2. */
final class CheckpointErrors {
    private CheckpointErrors() {}

    static int explain(IOException e, Path file, PrintWriter err) {
        if (e instanceof CheckpointFormatException) {
            err.println("ferry: " + e.getMessage());
        } else if (e instanceof NoSuchFileException missing) {
            err.println("ferry: checkpoint file " + missing.getFile() + " does not exist");
        } else {
            err.println("ferry: cannot read checkpoint " + file + ": " + e);
        }
        return FerryCli.USAGE;
    }
}
