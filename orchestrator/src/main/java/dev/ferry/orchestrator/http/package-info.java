/**
 * The HTTP/JSON API of an orchestrator node (pekko-http, Java DSL): the operations of the {@code ferry} command
 * for automation, under {@code /v1}. {@link dev.ferry.orchestrator.http.HttpApi} holds the routes and turns
 * requests into calls on a {@link dev.ferry.orchestrator.http.ControlPlane}; {@link
 * dev.ferry.orchestrator.http.ClusterControlPlane} is the real one, asking the orchestrator through the node's own
 * actor system. Bodies are protobuf messages in JSON ({@code ferry/v1/http.proto}), read by {@link
 * dev.ferry.orchestrator.http.JsonBodies} with a size cap; every failure is an {@code ApiError} with a status that
 * {@link dev.ferry.orchestrator.http.ApiErrors} chooses. The server binds 127.0.0.1 unless told otherwise and has
 * no authentication.
 *
 * <p>May depend on {@code dev.ferry.orchestrator} and the protocol; nothing in the orchestrator depends on it except
 * {@link dev.ferry.orchestrator.OrchestratorNode}, which starts it for {@code --http-port}.
 */
package dev.ferry.orchestrator.http;
