package io.flotilla.ledger;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The local book every backend keeps in an H2 file database: jobs and their escrow, registered
 * workers, stored receipts, batches with their state, and a double-entry journal whose entries sum
 * to zero. Subclasses say how a batch is sent to and confirmed by the backend.
 *
 * <p>Settlement order, each step durable before the next: the batch is written as PENDING with its
 * receipts claimed; it is sent (state SENT with the backend's reference); the backend's
 * confirmation is awaited; the journal postings and state SETTLED are written in one transaction.
 * The backend accepts a batch id once, so a resend after a crash at any point pays nothing twice.
 */
public abstract class BookLedger implements Ledger {

  static final String PENDING = "PENDING";
  static final String SENT = "SENT";
  static final String SETTLED = "SETTLED";

  private final Connection connection;
  private final Clock clock;
  private final SettlementHook hook;

  protected BookLedger(Path databaseFile, Clock clock, SettlementHook hook) {
    this.clock = clock;
    this.hook = hook;
    try {
      this.connection =
          DriverManager.getConnection(
              "jdbc:h2:file:" + databaseFile.toAbsolutePath() + ";AUTO_SERVER=TRUE", "sa", "");
      connection.setAutoCommit(false);
      createSchema();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open ledger database " + databaseFile + ": " + e, e);
    }
  }

  private void createSchema() throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS jobs (job_id VARCHAR PRIMARY KEY, basis VARCHAR NOT NULL,"
              + " rate BIGINT NOT NULL, budget BIGINT NOT NULL, committed BIGINT NOT NULL,"
              + " settled BIGINT NOT NULL, paused BOOLEAN NOT NULL, closed BOOLEAN DEFAULT FALSE"
              + " NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS workers (worker_id VARCHAR PRIMARY KEY,"
              + " address VARCHAR NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS receipts (receipt_id VARCHAR PRIMARY KEY,"
              + " job_id VARCHAR NOT NULL, payee VARCHAR NOT NULL, amount BIGINT NOT NULL,"
              + " batch_id VARCHAR, created_ms BIGINT NOT NULL)");
      s.execute("CREATE INDEX IF NOT EXISTS receipts_batch ON receipts(batch_id)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS batches (batch_id VARCHAR PRIMARY KEY,"
              + " state VARCHAR NOT NULL, payments INT NOT NULL, total BIGINT NOT NULL,"
              + " reference VARCHAR NOT NULL, created_ms BIGINT NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS journal (entry_id BIGINT AUTO_INCREMENT PRIMARY KEY,"
              + " batch_id VARCHAR NOT NULL, account VARCHAR NOT NULL, amount BIGINT NOT NULL,"
              + " memo VARCHAR NOT NULL)");
      s.execute("CREATE INDEX IF NOT EXISTS journal_account ON journal(account)");
      createBackendSchema(s);
    }
    connection.commit();
  }

  /** Extra tables a backend needs, created in the same transaction as the book's. */
  protected void createBackendSchema(Statement statement) throws SQLException {}

  /** Sends {@code batch}; returns the backend's reference (may be empty). */
  protected abstract String send(SettlementBatch batch);

  /** Blocks until the backend confirms the batch sent under {@code reference}. */
  protected abstract void awaitConfirmation(SettlementBatch batch, String reference);

  /** True when the backend already holds {@code batchId} as settled. */
  protected abstract boolean backendHasSettled(String batchId);

  /** Returns the rest of {@code jobId}'s escrow to its funder on the backend, when it has one. */
  protected abstract void refundOnBackend(String jobId);

  /** Moves {@code budget} into the backend's escrow for {@code jobId}, when it has one. */
  protected abstract void depositOnBackend(String jobId, long budget);

  protected final Connection connection() {
    return connection;
  }

  @Override
  public synchronized void openJob(String jobId, PaymentTerms terms, long budget) {
    if (budget <= 0) {
      throw new IllegalArgumentException("budget of job " + jobId + " must be > 0, was " + budget);
    }
    if (job(jobId).isPresent()) {
      return;
    }
    depositOnBackend(jobId, budget);
    transaction(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement(
                  "INSERT INTO jobs VALUES (?, ?, ?, ?, 0, 0, FALSE, FALSE)")) {
            p.setString(1, jobId);
            p.setString(2, terms.basis().name());
            p.setLong(3, terms.unitsPerBasis());
            p.setLong(4, budget);
            p.executeUpdate();
          }
          String deposit = "deposit:" + jobId;
          post(deposit, Ledger.funderAccount(jobId), -budget, "budget of job " + jobId);
          post(deposit, Ledger.escrowAccount(jobId), budget, "budget of job " + jobId);
          return null;
        });
  }

  @Override
  public synchronized Optional<JobAccount> job(String jobId) {
    return query(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement("SELECT * FROM jobs WHERE job_id = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              return Optional.of(
                  new JobAccount(
                      jobId,
                      new PaymentTerms(
                          PaymentTerms.Basis.valueOf(rs.getString("basis")), rs.getLong("rate")),
                      rs.getLong("budget"),
                      rs.getLong("committed"),
                      rs.getLong("settled"),
                      rs.getBoolean("paused")));
            }
          }
        });
  }

  @Override
  public synchronized void registerWorker(String workerId, String address) {
    transaction(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement("MERGE INTO workers KEY (worker_id) VALUES (?, ?)")) {
            p.setString(1, workerId);
            p.setString(2, address);
            p.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public synchronized Optional<String> workerAddress(String workerId) {
    return query(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement("SELECT address FROM workers WHERE worker_id = ?")) {
            p.setString(1, workerId);
            try (ResultSet rs = p.executeQuery()) {
              return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
          }
        });
  }

  @Override
  public synchronized ReceiptOutcome recordReceipt(Payment payment) {
    return transaction(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement("SELECT 1 FROM receipts WHERE receipt_id = ?")) {
            p.setString(1, payment.receiptId());
            try (ResultSet rs = p.executeQuery()) {
              if (rs.next()) {
                return ReceiptOutcome.DUPLICATE;
              }
            }
          }
          long budget;
          long committed;
          boolean paused;
          try (PreparedStatement p =
              connection.prepareStatement(
                  "SELECT budget, committed, paused FROM jobs WHERE job_id = ? FOR UPDATE")) {
            p.setString(1, payment.jobId());
            try (ResultSet rs = p.executeQuery()) {
              if (!rs.next()) {
                return ReceiptOutcome.UNKNOWN_JOB;
              }
              budget = rs.getLong(1);
              committed = rs.getLong(2);
              paused = rs.getBoolean(3);
            }
          }
          if (paused || committed + payment.amount() > budget) {
            try (PreparedStatement p =
                connection.prepareStatement("UPDATE jobs SET paused = TRUE WHERE job_id = ?")) {
              p.setString(1, payment.jobId());
              p.executeUpdate();
            }
            return ReceiptOutcome.BUDGET_EXHAUSTED;
          }
          try (PreparedStatement p =
              connection.prepareStatement("INSERT INTO receipts VALUES (?, ?, ?, ?, NULL, ?)")) {
            p.setString(1, payment.receiptId());
            p.setString(2, payment.jobId());
            p.setString(3, payment.payee());
            p.setLong(4, payment.amount());
            p.setLong(5, clock.millis());
            p.executeUpdate();
          }
          try (PreparedStatement p =
              connection.prepareStatement(
                  "UPDATE jobs SET committed = committed + ? WHERE job_id = ?")) {
            p.setLong(1, payment.amount());
            p.setString(2, payment.jobId());
            p.executeUpdate();
          }
          return ReceiptOutcome.ACCEPTED;
        });
  }

  @Override
  public synchronized Optional<SettlementBatch> prepareBatch(List<String> receiptIds) {
    if (receiptIds.isEmpty()) {
      return Optional.empty();
    }
    String batchId = UUID.randomUUID().toString();
    return transaction(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement(
                  "UPDATE receipts SET batch_id = ? WHERE receipt_id = ? AND batch_id IS NULL")) {
            for (String id : receiptIds) {
              p.setString(1, batchId);
              p.setString(2, id);
              p.addBatch();
            }
            p.executeBatch();
          }
          List<Payment> payments = paymentsOf(batchId);
          if (payments.isEmpty()) {
            return Optional.empty();
          }
          SettlementBatch batch = new SettlementBatch(batchId, payments);
          try (PreparedStatement p =
              connection.prepareStatement("INSERT INTO batches VALUES (?, ?, ?, ?, '', ?)")) {
            p.setString(1, batchId);
            p.setString(2, PENDING);
            p.setInt(3, payments.size());
            p.setLong(4, batch.total());
            p.setLong(5, clock.millis());
            p.executeUpdate();
          }
          return Optional.of(batch);
        });
  }

  private List<Payment> paymentsOf(String batchId) throws SQLException {
    List<Payment> payments = new ArrayList<>();
    try (PreparedStatement p =
        connection.prepareStatement(
            "SELECT receipt_id, job_id, payee, amount FROM receipts WHERE batch_id = ?"
                + " ORDER BY receipt_id")) {
      p.setString(1, batchId);
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          payments.add(
              new Payment(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)));
        }
      }
    }
    return payments;
  }

  @Override
  public synchronized boolean settle(SettlementBatch batch) {
    String state =
        batchState(batch.batchId())
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "batch " + batch.batchId() + " was never prepared"));
    if (state.equals(SETTLED)) {
      return false;
    }
    hook.reached(CrashPoint.BEFORE_SEND, batch.batchId());
    String reference = send(batch);
    updateBatch(batch.batchId(), SENT, reference);
    hook.reached(CrashPoint.AFTER_SEND_BEFORE_RECEIPT, batch.batchId());
    awaitConfirmation(batch, reference);
    hook.reached(CrashPoint.AFTER_RECEIPT_BEFORE_RECORDING, batch.batchId());
    return recordSettled(batch);
  }

  /** Posts the batch's journal entries and marks it settled, once; true when this call did. */
  final boolean recordSettled(SettlementBatch batch) {
    return transaction(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement(
                  "SELECT state FROM batches WHERE batch_id = ? FOR UPDATE")) {
            p.setString(1, batch.batchId());
            try (ResultSet rs = p.executeQuery()) {
              if (!rs.next() || rs.getString(1).equals(SETTLED)) {
                return false;
              }
            }
          }
          for (Payment payment : batch.payments()) {
            String memo = "receipt " + payment.receiptId();
            post(batch.batchId(), Ledger.escrowAccount(payment.jobId()), -payment.amount(), memo);
            post(batch.batchId(), Ledger.workerAccount(payment.payee()), payment.amount(), memo);
            try (PreparedStatement p =
                connection.prepareStatement(
                    "UPDATE jobs SET settled = settled + ? WHERE job_id = ?")) {
              p.setLong(1, payment.amount());
              p.setString(2, payment.jobId());
              p.executeUpdate();
            }
          }
          try (PreparedStatement p =
              connection.prepareStatement("UPDATE batches SET state = ? WHERE batch_id = ?")) {
            p.setString(1, SETTLED);
            p.setString(2, batch.batchId());
            p.executeUpdate();
          }
          return true;
        });
  }

  @Override
  public synchronized List<SettlementBatch> reconcile() {
    List<SettlementBatch> done = new ArrayList<>();
    List<String> open =
        query(
            () -> {
              List<String> ids = new ArrayList<>();
              try (PreparedStatement p =
                  connection.prepareStatement(
                      "SELECT batch_id FROM batches WHERE state <> ? ORDER BY created_ms")) {
                p.setString(1, SETTLED);
                try (ResultSet rs = p.executeQuery()) {
                  while (rs.next()) {
                    ids.add(rs.getString(1));
                  }
                }
              }
              return ids;
            });
    for (String batchId : open) {
      SettlementBatch batch = new SettlementBatch(batchId, query(() -> paymentsOf(batchId)));
      boolean settledNow = backendHasSettled(batchId) ? recordSettled(batch) : settle(batch);
      if (settledNow) {
        done.add(batch);
      }
    }
    List<String> orphans =
        query(
            () -> {
              List<String> ids = new ArrayList<>();
              try (Statement s = connection.createStatement();
                  ResultSet rs =
                      s.executeQuery(
                          "SELECT receipt_id FROM receipts WHERE batch_id IS NULL"
                              + " ORDER BY created_ms")) {
                while (rs.next()) {
                  ids.add(rs.getString(1));
                }
              }
              return ids;
            });
    Optional<SettlementBatch> rest = prepareBatch(orphans);
    if (rest.isPresent() && settle(rest.get())) {
      done.add(rest.get());
    }
    return done;
  }

  @Override
  public synchronized long closeJob(String jobId) {
    JobAccount account =
        job(jobId).orElseThrow(() -> new IllegalArgumentException("unknown job " + jobId));
    boolean closed =
        query(
            () -> {
              try (PreparedStatement p =
                  connection.prepareStatement("SELECT closed FROM jobs WHERE job_id = ?")) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                  rs.next();
                  return rs.getBoolean(1);
                }
              }
            });
    if (closed) {
      return 0;
    }
    if (account.committed() != account.settled()) {
      throw new IllegalStateException(
          "job "
              + jobId
              + " has "
              + (account.committed() - account.settled())
              + " units of receipts not settled yet; settle them before closing it");
    }
    long rest = account.budget() - account.settled();
    if (rest > 0) {
      refundOnBackend(jobId);
    }
    transaction(
        () -> {
          if (rest > 0) {
            String refund = "refund:" + jobId;
            post(refund, Ledger.escrowAccount(jobId), -rest, "refund of job " + jobId);
            post(refund, Ledger.funderAccount(jobId), rest, "refund of job " + jobId);
          }
          try (PreparedStatement p =
              connection.prepareStatement(
                  "UPDATE jobs SET paused = TRUE, closed = TRUE WHERE job_id = ?")) {
            p.setString(1, jobId);
            p.executeUpdate();
          }
          return null;
        });
    return rest;
  }

  @Override
  public synchronized Map<String, Long> balances() {
    return query(
        () -> {
          Map<String, Long> out = new LinkedHashMap<>();
          try (Statement s = connection.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT account, SUM(amount) FROM journal GROUP BY account ORDER BY account")) {
            while (rs.next()) {
              out.put(rs.getString(1), rs.getLong(2));
            }
          }
          return out;
        });
  }

  @Override
  public synchronized List<JournalEntry> statement(String account) {
    return query(
        () -> {
          List<JournalEntry> out = new ArrayList<>();
          try (PreparedStatement p =
              connection.prepareStatement(
                  "SELECT entry_id, batch_id, account, amount, memo FROM journal"
                      + " WHERE account = ? ORDER BY entry_id")) {
            p.setString(1, account);
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new JournalEntry(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4),
                        rs.getString(5)));
              }
            }
          }
          return out;
        });
  }

  @Override
  public synchronized List<BatchRecord> batches() {
    return query(
        () -> {
          List<BatchRecord> out = new ArrayList<>();
          try (Statement s = connection.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT batch_id, state, payments, total, reference, created_ms FROM batches"
                          + " ORDER BY created_ms DESC, batch_id")) {
            while (rs.next()) {
              out.add(
                  new BatchRecord(
                      rs.getString(1),
                      rs.getString(2),
                      rs.getInt(3),
                      rs.getLong(4),
                      rs.getString(5),
                      rs.getLong(6)));
            }
          }
          return out;
        });
  }

  @Override
  public synchronized long unsettledReceipts() {
    return query(
        () -> {
          try (Statement s = connection.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT COUNT(*) FROM receipts r LEFT JOIN batches b"
                          + " ON r.batch_id = b.batch_id WHERE b.state IS NULL OR b.state <> '"
                          + SETTLED
                          + "'")) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  synchronized Optional<String> batchState(String batchId) {
    return query(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement("SELECT state FROM batches WHERE batch_id = ?")) {
            p.setString(1, batchId);
            try (ResultSet rs = p.executeQuery()) {
              return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
          }
        });
  }

  private void updateBatch(String batchId, String state, String reference) {
    transaction(
        () -> {
          try (PreparedStatement p =
              connection.prepareStatement(
                  "UPDATE batches SET state = ?, reference = ? WHERE batch_id = ?")) {
            p.setString(1, state);
            p.setString(2, reference);
            p.setString(3, batchId);
            p.executeUpdate();
          }
          return null;
        });
  }

  private void post(String batchId, String account, long amount, String memo) throws SQLException {
    try (PreparedStatement p =
        connection.prepareStatement(
            "INSERT INTO journal (batch_id, account, amount, memo) VALUES (?, ?, ?, ?)")) {
      p.setString(1, batchId);
      p.setString(2, account);
      p.setLong(3, amount);
      p.setString(4, memo);
      p.executeUpdate();
    }
  }

  /** Work inside one JDBC transaction. */
  @FunctionalInterface
  protected interface SqlWork<T> {
    T run() throws SQLException;
  }

  protected final synchronized <T> T transaction(SqlWork<T> work) {
    try {
      T result = work.run();
      connection.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      try {
        connection.rollback();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("ledger database failed: " + e.getMessage(), e);
    }
  }

  protected final synchronized <T> T query(SqlWork<T> work) {
    return transaction(work);
  }

  @Override
  public synchronized void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot close ledger database: " + e.getMessage(), e);
    }
  }
}
