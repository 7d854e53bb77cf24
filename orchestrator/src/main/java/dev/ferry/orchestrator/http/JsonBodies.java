package dev.ferry.orchestrator.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;

/**
 * Reads a request body as one protobuf message in JSON. Bodies over {@link #MAX_BYTES} are refused with 413 (a
 * declared length at once, a chunked body as soon as it passes the cap); malformed JSON and unknown fields with 400
 * naming the message and what the parser found, and so is a body that opens more than {@link #MAX_BRACKETS} objects or
 * arrays (the parser, and its error messages, recurse once per level of nesting). An empty body is the empty message.
 */
final class JsonBodies {
    static final int MAX_BYTES = 64 << 10;
    /** A request body needs 2 (itself and its args); the parser's own limit on nesting is its thread's stack. */
    static final int MAX_BRACKETS = 32;
    private static final long READ_TIMEOUT_MILLIS = 10_000;
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    private JsonBodies() {}

    @SuppressWarnings("unchecked")
    static <M extends Message> CompletionStage<M> read(HttpEntity entity, Message.Builder builder, Materializer mat) {
        return entity.withSizeLimit(MAX_BYTES).toStrict(READ_TIMEOUT_MILLIS, mat).handle((strict, err) -> {
            if (err != null) {
                Throwable c = ApiErrors.unwrap(err);
                if (c instanceof EntityStreamSizeException) {
                    throw new ApiException(413, "the request body is larger than " + MAX_BYTES + " bytes");
                }
                throw new ApiException(400, "cannot read the request body: " + c.getMessage());
            }
            return (M) parse(strict.getData().utf8String(), builder).build();
        });
    }

    static Message.Builder parse(String json, Message.Builder builder) {
        if (json.isBlank()) {
            return builder;
        }
        int brackets = brackets(json);
        if (brackets > MAX_BRACKETS) {
            throw new ApiException(400, "the request body is not a valid " + builder.getDescriptorForType().getName()
                    + " in JSON: it opens " + brackets + " objects or arrays ('{' or '['), more than " + MAX_BRACKETS);
        }
        try {
            PARSER.merge(json, builder);
            return builder;
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new ApiException(400, "the request body is not a valid " + builder.getDescriptorForType().getName()
                    + " in JSON: " + e.getMessage());
        }
    }

    /**
     * The objects and arrays {@code json} opens, an upper bound on how deep it nests: every '{' and '[' counts, inside
     * strings too, because the parser is lenient (single quotes, comments) and brackets in strings could hide depth.
     */
    static int brackets(String json) {
        int opened = 0;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '{' || c == '[') {
                opened++;
            }
        }
        return opened;
    }
}
