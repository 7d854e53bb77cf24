package dev.ferry.bench;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A link's rate each way, in bits per second; parsed from {@code 2gbit}, {@code 500mbit}, {@code 1.5gbit}. */
record LinkRate(long bitsPerSecond) {
    private static final Pattern RATE = Pattern.compile("(\\d+(?:\\.\\d+)?)(kbit|mbit|gbit)");

    LinkRate {
        if (bitsPerSecond < 1_000_000) {
            throw new IllegalArgumentException("a link rate must be at least 1mbit");
        }
    }

    static LinkRate parse(String s) {
        Matcher m = RATE.matcher(s.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("link rate '" + s + "' is not NUMBER{kbit|mbit|gbit} (2gbit, say)");
        }
        double unit = switch (m.group(2)) {
            case "kbit" -> 1e3;
            case "mbit" -> 1e6;
            default -> 1e9;
        };
        return new LinkRate(Math.round(Double.parseDouble(m.group(1)) * unit));
    }

    double gbit() {
        return bitsPerSecond / 1e9;
    }

    @Override
    public String toString() {
        return java.math.BigDecimal.valueOf(gbit()).stripTrailingZeros().toPlainString() + " Gbit/s";
    }
}
