/**
 * Pekko Persistence on PostgreSQL through pekko-persistence-jdbc: the configuration that switches an ActorSystem's
 * journal, snapshot store and durable state store to a shared PostgreSQL database ({@code ferry-postgres.conf}), and
 * the tables they need ({@code ferry-postgres-schema.sql}). Depends on Pekko and the PostgreSQL driver only; the
 * orchestrator depends on it, never the other way round.
 */
package dev.ferry.persistence.postgres;
