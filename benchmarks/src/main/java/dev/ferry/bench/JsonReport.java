package dev.ferry.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders sections as one JSON line: {@code {"host":{..},"quick":b,"<section>":{"<figure>":{"value":v,"unit":u,
 * "samples":[..],"goal":g,"met":b}}}}; a goal that is a maximum also has {@code "goal_at_most":true}.
 */
final class JsonReport {
    private JsonReport() {}

    static String render(Map<String, String> host, boolean quick, List<Section> sections) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("host", host);
        root.put("quick", quick);
        for (Section s : sections) {
            Map<String, Object> section = new LinkedHashMap<>();
            for (Figure f : s.figures()) {
                Map<String, Object> fig = new LinkedHashMap<>();
                fig.put("value", f.value());
                if (!f.unit().isEmpty()) {
                    fig.put("unit", f.unit());
                }
                if (!f.samples().isEmpty()) {
                    fig.put("samples", f.samples());
                }
                if (f.hasGoal()) {
                    fig.put("goal", f.goal());
                    if (f.goalAtMost()) {
                        fig.put("goal_at_most", true);
                    }
                    fig.put("met", f.meetsGoal());
                }
                section.put(f.key(), fig);
            }
            section.put("notes", s.notes());
            root.put(s.key(), section);
        }
        StringBuilder out = new StringBuilder();
        write(out, root);
        return out.toString();
    }

    /** Appends {@code v} (a map, list, number, boolean, null or string) as JSON. */
    static void write(StringBuilder out, Object v) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof Map<?, ?> m) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                string(out, String.valueOf(e.getKey()));
                out.append(':');
                write(out, e.getValue());
            }
            out.append('}');
        } else if (v instanceof List<?> l) {
            out.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                write(out, l.get(i));
            }
            out.append(']');
        } else if (v instanceof Double d) {
            out.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.6g", d)
                    .replaceFirst("(\\.\\d*?)0+(e|$)", "$1$2").replaceFirst("\\.(e|$)", "$1"));
        } else if (v instanceof Number || v instanceof Boolean) {
            out.append(v);
        } else {
            string(out, v.toString());
        }
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
