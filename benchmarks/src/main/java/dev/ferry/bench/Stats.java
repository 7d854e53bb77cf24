package dev.ferry.bench;

import java.util.Arrays;
import java.util.List;

/** Order statistics over a handful of samples. */
final class Stats {
    private Stats() {}

    static double median(List<Double> samples) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("median of no samples");
        }
        double[] s = samples.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double min(List<Double> samples) {
        return samples.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    static double max(List<Double> samples) {
        return samples.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }
}
