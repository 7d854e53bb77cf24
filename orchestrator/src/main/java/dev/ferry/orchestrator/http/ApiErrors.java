package dev.ferry.orchestrator.http;

import dev.ferry.protocol.v1.ApiError;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.pattern.AskTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which status an error gets, and its body: always an {@code ApiError} in JSON. The orchestrator's refusals are
 * free text, so the status is chosen from what the text says; the text itself is passed on unchanged.
 */
final class ApiErrors {
    private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);

    private ApiErrors() {}

    static HttpResponse response(int status, String message) {
        return Responses.json(status, ApiError.newBuilder().setStatus(status).setError(message).build());
    }

    /** The answer for a failed call: an {@link ApiException}'s own status, 503 when the orchestrator is silent. */
    static HttpResponse response(Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof ApiException a) {
            return response(a.status(), a.getMessage());
        }
        if (c instanceof AskTimeoutException || c instanceof TimeoutException) {
            return response(503, "the orchestrator did not answer in time: " + c.getMessage());
        }
        if (c instanceof IllegalStateException && String.valueOf(c.getMessage()).startsWith("no orchestrator")) {
            return response(503, c.getMessage());
        }
        LOG.error("HTTP request failed", c);
        return response(500, "internal error: " + c);
    }

    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    /** A refused launch: 409 when the id is taken, else 422 (unknown host, no room, the host could not boot it). */
    static int launchRefusal(String error) {
        return error.contains("already exists") || error.contains("is being launched") ? 409 : 422;
    }

    /** A migration refused before it started: 404 unknown instance, 409 busy or already there, 503 host away. */
    static int migrationRefusal(String error) {
        if (error.startsWith("unknown instance")) {
            return 404;
        }
        if (error.contains("already migrating") || error.contains("already runs on")) {
            return 409;
        }
        return error.contains("is not reachable") ? 503 : 422;
    }

    /** A checkpoint or restore refused: 404 unknown instance or host, 409 busy, 503 host away, 422 otherwise. */
    static int snapshotRefusal(String error) {
        if (error.startsWith("unknown instance") || error.startsWith("unknown host")) {
            return 404;
        }
        if (error.contains("is migrating") || error.contains("being restored") || error.contains("being checkpointed")
                || error.contains("already")) {
            return 409;
        }
        return error.contains("is not reachable") ? 503 : 422;
    }

    static ExceptionHandler exceptionHandler() {
        return ExceptionHandler.newBuilder().match(Throwable.class, t -> Directives.complete(response(t))).build();
    }

    /** pekko-http's own answers (no such path 404, wrong method 405, ...) with their text as an ApiError. */
    static RejectionHandler rejectionHandler() {
        return RejectionHandler.defaultHandler().mapRejectionResponse(r -> {
            if (r.entity() instanceof HttpEntity.Strict s && !s.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
                return response(r.status().intValue(), s.getData().utf8String()).addHeaders(r.getHeaders());
            }
            return r;
        });
    }
}
