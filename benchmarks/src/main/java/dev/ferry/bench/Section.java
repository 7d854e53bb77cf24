package dev.ferry.bench;

import java.util.List;

/** The figures of one benchmark, with notes saying how they were measured. */
record Section(String key, String title, List<Figure> figures, List<String> notes) {
    Section {
        figures = List.copyOf(figures);
        notes = List.copyOf(notes);
    }
}
