package io.flotilla.scheduler.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's tables as the scheduler creates them in a new H2 database. */
class JournalSchemaTest {

  @TempDir Path dir;

  @Test
  void eventPayloadsAreStoredInTheRowAndSnapshotsStayBlobs() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("journal");
    Config database =
        ConfigFactory.parseMap(
            Map.of(
                "profile", "slick.jdbc.H2Profile$",
                "db.url", url,
                "db.driver", "org.h2.Driver",
                "db.user", "flotilla",
                "db.password", ""));

    JournalSchema.createIfMissing(database);
    JournalSchema.createIfMissing(database); // a second start finds the tables and keeps them

    try (Connection c = DriverManager.getConnection(url, "flotilla", "");
        Statement s = c.createStatement()) {
      assertThat(columnType(s, "event_journal", "event_payload")).isEqualTo("BINARY VARYING");
      assertThat(columnType(s, "snapshot", "snapshot_payload")).isEqualTo("BINARY LARGE OBJECT");
    }
  }

  @Test
  void aSchemaWithoutTheExpectedPayloadColumnIsNamed() {
    assertThatThrownBy(() -> JournalSchema.inlinePayloads("CREATE TABLE x (\"a\" INT);"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("\"event_payload\" BLOB NOT NULL");
  }

  private static String columnType(Statement s, String table, String column) throws Exception {
    try (ResultSet r =
        s.executeQuery(
            "SELECT DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = '"
                + table
                + "' AND COLUMN_NAME = '"
                + column
                + "'")) {
      assertThat(r.next()).as(table + "." + column).isTrue();
      return r.getString(1);
    }
  }
}
