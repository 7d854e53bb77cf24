/**
 * Live migration: {@code MigrationSource} (pre-copy rounds, stop-and-copy, handover, commit) and
 * {@code MigrationDestination} on either side, page batches over Pekko Streams TCP ({@code PageSender},
 * {@code PageReceiver}, {@code BatchCodec}), and auto-converge ({@code Throttle}). The message sequence is drawn at the
 * top of {@code protocol/src/main/proto/ferry/v1/migration.proto}.
 */
package dev.ferry.host.migration;
