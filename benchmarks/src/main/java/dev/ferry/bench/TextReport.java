package dev.ferry.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** Renders sections as aligned, human-readable text. */
final class TextReport {
    private TextReport() {}

    /** {@code title} opens the text, e.g. {@code Ferry core figures, measured side by side in one run}. */
    static String render(String title, Map<String, String> host, List<Section> sections) {
        StringBuilder out = new StringBuilder(title).append('\n');
        host.forEach((k, v) -> out.append(String.format(Locale.ROOT, "  %-8s %s%n", k + ":", v)));
        int width = sections.stream().flatMap(s -> s.figures().stream()).mapToInt(f -> f.label().length())
                .max().orElse(10);
        for (Section s : sections) {
            out.append('\n').append(s.title()).append('\n');
            for (Figure f : s.figures()) {
                out.append(String.format(Locale.ROOT, "  %-" + width + "s  %12s %-8s", f.label(), number(f.value()),
                        f.unit()));
                if (f.hasGoal()) {
                    out.append(String.format(Locale.ROOT, " goal %s %s: %s", f.goalAtMost() ? "<=" : ">=",
                            number(f.goal()),
                            f.meetsGoal() ? "met" : "MISSED"));
                }
                if (f.samples().size() > 1) {
                    out.append(" samples: ").append(
                            f.samples().stream().map(TextReport::number).collect(Collectors.joining(" ")));
                }
                out.append('\n');
            }
            for (String note : s.notes()) {
                out.append("  - ").append(note).append('\n');
            }
        }
        return out.toString();
    }

    /** Three or more significant digits, no exponent. */
    static String number(double v) {
        double a = Math.abs(v);
        String fmt = a >= 1000 ? "%,.0f" : a >= 100 ? "%.1f" : a >= 10 ? "%.2f" : a >= 0.1 || a == 0 ? "%.3f" : "%.4f";
        return String.format(Locale.ROOT, fmt, v);
    }
}
