/**
 * A throwaway PostgreSQL server on 127.0.0.1, run from the operating system's PostgreSQL binaries in a temporary
 * directory: for tests and local runs, never for data that must be kept.
 */
package dev.ferry.persistence.postgres.local;
