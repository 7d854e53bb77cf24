package dev.ferry.orchestrator.chaos;

/** One entry of a chaos schedule: an operation or a fault, at {@code atMillis} after the start. */
public sealed interface Step permits Operation, Fault {
    long atMillis();

    /** One line for the printed schedule, without the time. */
    String describe();
}
