package dev.ferry.persistence.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.util.List;
import org.junit.jupiter.api.Test;

class PostgresJournalTest {
    @Test
    void configPutsJournalSnapshotsAndDurableStateOnOnePostgresDatabase() {
        Config c = PostgresJournal.config("jdbc:postgresql://db.example:5433/ferry", "orch", "s3cret");
        assertEquals("jdbc-journal", c.getString("pekko.persistence.journal.plugin"));
        assertEquals("jdbc-snapshot-store", c.getString("pekko.persistence.snapshot-store.plugin"));
        assertEquals("jdbc-durable-state-store", c.getString("pekko.persistence.state.plugin"));
        for (String plugin : List.of("jdbc-journal", "jdbc-snapshot-store", "jdbc-read-journal", "jdbc-durable-state-store")) {
            assertEquals("ferry", c.getString(plugin + ".use-shared-db"), plugin);
        }
        Config db = c.getConfig("pekko-persistence-jdbc.shared-databases.ferry");
        assertEquals("slick.jdbc.PostgresProfile$", db.getString("profile"));
        assertEquals("HikariCP", db.getString("db.connectionPool"));
        assertEquals("org.postgresql.Driver", db.getString("db.driver"));
        assertEquals("jdbc:postgresql://db.example:5433/ferry", db.getString("db.url"));
        assertEquals("orch", db.getString("db.user"));
        assertEquals("s3cret", db.getString("db.password"));
        assertEquals(db.getInt("db.numThreads"), db.getInt("db.maxConnections"));
    }

    @Test
    void configRefusesAnUrlThatIsNotPostgres() {
        assertThrows(IllegalArgumentException.class, () -> PostgresJournal.config("jdbc:h2:mem:x", "u", "p"));
    }

    @Test
    void schemaCreatesThePluginsFourTablesAndCanRunAgain() {
        List<String> statements = PostgresJournal.schemaStatements();
        assertEquals(7, statements.size(), String.join("\n;\n", statements));
        for (String table : List.of("event_journal", "event_tag", "snapshot", "durable_state")) {
            assertTrue(statements.stream().anyMatch(s -> s.startsWith("CREATE TABLE IF NOT EXISTS public." + table + "(")), table);
        }
        for (String s : statements) {
            assertTrue(s.contains(" IF NOT EXISTS "), s);
            assertTrue(!s.contains("CONCURRENTLY") && !s.contains(";"), s);
        }
    }
}
