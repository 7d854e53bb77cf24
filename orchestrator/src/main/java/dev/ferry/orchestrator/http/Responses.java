package dev.ferry.orchestrator.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Answers as JSON: one protobuf message (indented, for people reading curl output), or newline-delimited JSON, one
 * compact message a line, sent as each arrives. Field names as in the .proto files; fields at their default value
 * are printed too, so {@code "ok": false} is never left out.
 */
final class Responses {
    static final ContentType NDJSON = ContentTypes.create(
            MediaTypes.applicationWithFixedCharset("x-ndjson", HttpCharsets.UTF_8, "ndjson"));

    private static final JsonFormat.Printer PRETTY = JsonFormat.printer().preservingProtoFieldNames()
            .alwaysPrintFieldsWithNoPresence();
    private static final JsonFormat.Printer COMPACT = PRETTY.omittingInsignificantWhitespace();

    private static final Pattern HTML_SAFE_ESCAPE = Pattern.compile("(?<!\\\\)((?:\\\\\\\\)*)\\\\u00(3d|27|3c|3e|26)");

    private Responses() {}

    static HttpResponse json(int status, MessageOrBuilder m) {
        return json(status, m, List.of());
    }

    static HttpResponse json(int status, MessageOrBuilder m, List<HttpHeader> headers) {
        return HttpResponse.create().withStatus(StatusCodes.get(status)).addHeaders(headers)
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, print(PRETTY, m) + "\n"));
    }

    /** A chunked 200 answer: each message of {@code lines} as one line of JSON, flushed as it comes. */
    static HttpResponse ndjson(Source<? extends MessageOrBuilder, NotUsed> lines) {
        return HttpResponse.create().withStatus(StatusCodes.OK).withEntity(HttpEntities.createChunked(NDJSON,
                lines.map(m -> ByteString.fromString(line(m)))));
    }

    /** One message as one line of JSON, newline included. */
    static String line(MessageOrBuilder m) {
        return print(COMPACT, m) + "\n";
    }

    /**
     * The printer writes {@code = ' < > &} as unicode escapes (safe in HTML, hard to read in a console line); they go
     * back to themselves here. An escape preceded by an escaped backslash is text, and stays.
     */
    static String readable(String json) {
        return HTML_SAFE_ESCAPE.matcher(json).replaceAll(r -> Matcher.quoteReplacement(r.group(1)
                + (char) Integer.parseInt(r.group(2), 16)));
    }

    private static String print(JsonFormat.Printer p, MessageOrBuilder m) {
        try {
            return readable(p.print(m));
        } catch (InvalidProtocolBufferException e) {
            // only Any fields with unknown types fail to print, and the API has none
            throw new IllegalStateException("cannot print " + m.getClass().getSimpleName() + " as JSON", e);
        }
    }
}
