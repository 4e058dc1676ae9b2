package io.flotilla.scheduler.job;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * Creates the tables of the JDBC journal and snapshot store (the schema scripts that ship with
 * pekko-persistence-jdbc) when they do not exist yet. Runs once at node start, before any job
 * manager, on the starting thread.
 */
final class JournalSchema {

  private JournalSchema() {}

  /**
   * Creates the tables in the database {@code database} (a Slick database config: {@code profile}
   * and {@code db.url/driver/user/password}) unless its {@code event_journal} table exists.
   *
   * @throws IllegalStateException naming the database when it cannot be reached or prepared
   */
  static void createIfMissing(Config database) {
    String profile = database.getString("profile");
    String dialect = dialect(profile);
    Config db = database.getConfig("db");
    String url = db.getString("url");
    try {
      Class.forName(db.getString("driver"));
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(
          "JDBC driver " + db.getString("driver") + " is not on the class path", e);
    }
    try (Connection connection =
        DriverManager.getConnection(url, db.getString("user"), db.getString("password"))) {
      if (hasJournal(connection)) {
        return;
      }
      String script = dialect.equals("h2") ? inlinePayloads(script(dialect)) : script(dialect);
      try (Statement statement = connection.createStatement()) {
        for (String sql : script.split(";")) {
          if (!sql.isBlank()) {
            statement.execute(sql);
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot prepare the job journal in " + url + ": " + e.getMessage(), e);
    }
  }

  private static boolean hasJournal(Connection connection) throws SQLException {
    try (ResultSet tables =
        connection.getMetaData().getTables(null, null, "event_journal", new String[] {"TABLE"})) {
      return tables.next();
    }
  }

  /**
   * The H2 script with the journal's event payloads as {@code VARBINARY} instead of {@code BLOB}:
   * H2 keeps a BLOB over a few hundred bytes in its LOB store, so every journaled event also wrote
   * the LOB maps and woke H2's LOB cleaner thread for the temporary copy. Events are a few hundred
   * bytes to a few kilobytes; the JDBC calls the journal makes (setBytes, getBytes) are the same
   * for both types. Snapshots stay BLOBs.
   */
  static String inlinePayloads(String h2Script) {
    String blob = "\"event_payload\" BLOB NOT NULL";
    if (!h2Script.contains(blob)) {
      throw new IllegalStateException(
          "the H2 schema of pekko-persistence-jdbc no longer declares " + blob);
    }
    return h2Script.replace(blob, "\"event_payload\" VARBINARY NOT NULL");
  }

  private static String dialect(String profile) {
    String p = profile.toLowerCase(Locale.ROOT);
    if (p.contains("h2")) {
      return "h2";
    }
    if (p.contains("postgres")) {
      return "postgres";
    }
    throw new IllegalStateException(
        "flotilla.scheduler.persistence.database.profile "
            + profile
            + " is not supported; use slick.jdbc.H2Profile$ or slick.jdbc.PostgresProfile$");
  }

  private static String script(String dialect) {
    String resource = "schema/" + dialect + "/" + dialect + "-create-schema.sql";
    try (InputStream in = JournalSchema.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from pekko-persistence-jdbc");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + resource, e);
    }
  }
}
