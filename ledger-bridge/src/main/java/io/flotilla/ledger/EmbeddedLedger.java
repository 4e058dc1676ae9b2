package io.flotilla.ledger;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;

/**
 * The default ledger: everything in one H2 file database on local disk. Sending a batch records its
 * id in an {@code applied_batches} table whose primary key rejects a batch id seen before, playing
 * the part the escrow contract plays on a chain.
 */
public final class EmbeddedLedger extends BookLedger {

  /** Opens (or creates) the ledger stored at {@code databaseFile} (H2 adds {@code .mv.db}). */
  public EmbeddedLedger(Path databaseFile, Clock clock, SettlementHook hook) {
    super(databaseFile, clock, hook);
  }

  /** Opens the ledger at {@code databaseFile} with the system clock and no hook. */
  public static EmbeddedLedger open(Path databaseFile) {
    return new EmbeddedLedger(databaseFile, Clock.systemUTC(), SettlementHook.NONE);
  }

  @Override
  public String backend() {
    return "embedded";
  }

  @Override
  protected void createBackendSchema(Statement statement) throws SQLException {
    statement.execute("CREATE TABLE IF NOT EXISTS applied_batches (batch_id VARCHAR PRIMARY KEY)");
  }

  @Override
  protected String send(SettlementBatch batch) {
    transaction(
        () -> {
          if (!backendHasSettled(batch.batchId())) {
            try (PreparedStatement p =
                connection().prepareStatement("INSERT INTO applied_batches VALUES (?)")) {
              p.setString(1, batch.batchId());
              p.executeUpdate();
            }
          }
          return null;
        });
    return "";
  }

  @Override
  protected void awaitConfirmation(SettlementBatch batch, String reference) {
    // The send above committed; there is nothing further to wait for.
  }

  @Override
  protected boolean backendHasSettled(String batchId) {
    return query(
        () -> {
          try (PreparedStatement p =
              connection().prepareStatement("SELECT 1 FROM applied_batches WHERE batch_id = ?")) {
            p.setString(1, batchId);
            try (ResultSet rs = p.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  @Override
  protected void refundOnBackend(String jobId) {
    // The journal's refund postings return the escrow.
  }

  @Override
  protected void depositOnBackend(String jobId, long budget) {
    // The journal's deposit postings are the escrow.
  }
}
