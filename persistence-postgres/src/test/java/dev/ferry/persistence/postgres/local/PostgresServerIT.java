package dev.ferry.persistence.postgres.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class PostgresServerIT {
    @Test
    void servesItsDatabaseToItsUserOnLoopback() throws Exception {
        try (PostgresServer server = PostgresServer.start("orders", "orchestrator");
             Connection c = server.connect();
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_user, current_database(), inet_server_addr()::text")) {
            assertTrue(rs.next());
            assertEquals("orchestrator", rs.getString(1));
            assertEquals("orders", rs.getString(2));
            assertEquals("127.0.0.1/32", rs.getString(3));
            assertTrue(server.jdbcUrl().startsWith("jdbc:postgresql://127.0.0.1:" + server.port() + "/orders"));
        }
    }

    @Test
    void closeStopsTheServerAndDeletesItsDirectory() throws Exception {
        PostgresServer server = PostgresServer.start();
        Path root = server.dataDir().getParent();
        ProcessHandle postmaster = server.postmaster();
        try {
            assertTrue(postmaster.isAlive(), "postmaster " + postmaster.pid() + " runs");
        } finally {
            server.close();
        }

        assertFalse(postmaster.isAlive() && !zombie(postmaster.pid()), "postmaster " + postmaster.pid() + " still runs after close()");
        assertFalse(Files.exists(root), root + " still exists after close()");
        assertThrows(SQLException.class, server::connect);
        server.close(); // a second close does nothing
    }

    /** An exited process that init has not reaped yet. */
    private static boolean zombie(long pid) throws Exception {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (!Files.exists(stat)) {
            return true;
        }
        String s = Files.readString(stat);
        return s.substring(s.lastIndexOf(')') + 1).strip().startsWith("Z");
    }

    @Test
    void rejectsNamesThatWouldNeedQuoting() {
        assertThrows(IllegalArgumentException.class, () -> PostgresServer.start("ferry; DROP", "ferry"));
        assertThrows(IllegalArgumentException.class, () -> PostgresServer.start("ferry", "Ferry"));
    }
}
