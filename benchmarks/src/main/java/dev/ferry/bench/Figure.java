package dev.ferry.bench;

import java.util.List;

/**
 * One measured figure: its value (a median, or a ratio of medians), unit, the samples behind it, and the goal it
 * should reach (a minimum), if any.
 */
record Figure(String key, String label, double value, String unit, List<Double> samples, Double goal) {
    Figure {
        samples = List.copyOf(samples);
    }

    static Figure median(String key, String label, String unit, List<Double> samples) {
        return new Figure(key, label, Stats.median(samples), unit, samples, null);
    }

    static Figure ratio(String key, String label, double numerator, double denominator, Double goal) {
        return new Figure(key, label, numerator / denominator, "", List.of(), goal);
    }

    boolean hasGoal() {
        return goal != null;
    }

    boolean meetsGoal() {
        return goal == null || value >= goal;
    }
}
