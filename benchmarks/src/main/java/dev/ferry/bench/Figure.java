package dev.ferry.bench;

import java.util.List;

/**
 * One measured figure: its value (a median, or a ratio of medians), unit, the samples behind it, and the goal it
 * should reach, if any: a minimum, or a maximum when {@code goalAtMost}.
 */
record Figure(String key, String label, double value, String unit, List<Double> samples, Double goal,
              boolean goalAtMost) {
    Figure {
        samples = List.copyOf(samples);
    }

    /** A figure whose goal, if any, is a minimum. */
    Figure(String key, String label, double value, String unit, List<Double> samples, Double goal) {
        this(key, label, value, unit, samples, goal, false);
    }

    static Figure median(String key, String label, String unit, List<Double> samples) {
        return new Figure(key, label, Stats.median(samples), unit, samples, null);
    }

    static Figure ratio(String key, String label, double numerator, double denominator, Double goal) {
        return new Figure(key, label, numerator / denominator, "", List.of(), goal);
    }

    /** A single value with no samples behind it (a count, or a figure derived from medians). */
    static Figure value(String key, String label, double value, String unit) {
        return new Figure(key, label, value, unit, List.of(), null);
    }

    /** This figure with a goal of at least {@code min}. */
    Figure atLeast(double min) {
        return new Figure(key, label, value, unit, samples, min, false);
    }

    /** This figure with a goal of at most {@code max}. */
    Figure atMost(double max) {
        return new Figure(key, label, value, unit, samples, max, true);
    }

    boolean hasGoal() {
        return goal != null;
    }

    boolean meetsGoal() {
        return goal == null || (goalAtMost ? value <= goal : value >= goal);
    }
}
