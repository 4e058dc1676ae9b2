package io.flotilla.ledger;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where verified work turns into payments: per-job escrow, per-worker balances (double entry), and
 * settlement batches paid exactly once.
 *
 * <p>Every method blocks (JDBC, JSON-RPC): call it from a dedicated dispatcher, never from an
 * actor's thread. Implementations are thread safe.
 */
public interface Ledger extends AutoCloseable {

  /** Account names in the journal. */
  static String escrowAccount(String jobId) {
    return "escrow:" + jobId;
  }

  /** The account a job's budget comes from. */
  static String funderAccount(String jobId) {
    return "funder:" + jobId;
  }

  /** The account of a payee address. */
  static String workerAccount(String address) {
    return "worker:" + address;
  }

  /** The backend's name ({@code embedded} or {@code ethereum}). */
  String backend();

  /**
   * Opens escrow for {@code jobId} with {@code budget} units under {@code terms}; a job already
   * open is left as it is.
   */
  void openJob(String jobId, PaymentTerms terms, long budget);

  /** A job's terms and account, when it is known. */
  Optional<JobAccount> job(String jobId);

  /** Records that {@code workerId} is paid at {@code address} (the latest registration wins). */
  void registerWorker(String workerId, String address);

  /** The registered address of {@code workerId}, if any. */
  Optional<String> workerAddress(String workerId);

  /**
   * Stores a priced receipt durably, reserving its amount from the job's escrow, unless it was seen
   * before or would exceed the budget (which pauses the job).
   */
  ReceiptOutcome recordReceipt(Payment payment);

  /**
   * Claims the stored receipts among {@code receiptIds} that are in no batch yet into a new batch,
   * written durably as pending before anything is sent; empty when none is left to claim.
   */
  Optional<SettlementBatch> prepareBatch(List<String> receiptIds);

  /**
   * Sends a pending batch and records it as settled once the backend confirms it. Safe to call
   * again for the same batch: the backend accepts a batch id once.
   *
   * @return true when this call settled the batch, false when it was settled already
   * @throws LedgerUnavailableException when the backend cannot be reached; the batch stays pending
   */
  boolean settle(SettlementBatch batch);

  /**
   * After a restart or an outage: finishes every pending batch (recording those the backend already
   * has, resending the others) and batches receipts that are in no batch.
   *
   * @return the batches settled by this call
   * @throws LedgerUnavailableException when the backend cannot be reached
   */
  List<SettlementBatch> reconcile();

  /**
   * Ends a job: returns what is left of its escrow (budget minus settled payments) to its funder
   * and refuses further receipts. Safe to call again.
   *
   * @return units refunded by this call
   * @throws IllegalStateException when receipts of the job are not settled yet
   * @throws IllegalArgumentException when the job is unknown
   */
  long closeJob(String jobId);

  /** Balance of every journal account, in units. */
  Map<String, Long> balances();

  /** Journal entries of one account, oldest first. */
  List<JournalEntry> statement(String account);

  /** Every batch with its state, newest first. */
  List<BatchRecord> batches();

  /** Receipts stored but not settled yet. */
  long unsettledReceipts();

  @Override
  void close();

  /**
   * A job's escrow as the ledger sees it.
   *
   * @param jobId the job
   * @param terms its payment terms
   * @param budget units deposited
   * @param committed units reserved by accepted receipts
   * @param settled units paid out in settled batches
   * @param paused true once a receipt would have exceeded the budget
   */
  record JobAccount(
      String jobId, PaymentTerms terms, long budget, long committed, long settled, boolean paused) {

    /** Units not yet reserved. */
    public long remaining() {
      return budget - committed;
    }
  }

  /**
   * One side of a posting.
   *
   * @param entryId position in the journal
   * @param batchId batch (or job deposit id) that caused it
   * @param account account name
   * @param amount signed units (+ credit to the account, - debit)
   * @param memo what it is for
   */
  record JournalEntry(long entryId, String batchId, String account, long amount, String memo) {}

  /**
   * A settlement batch's state.
   *
   * @param batchId the batch
   * @param state PENDING, SENT or SETTLED
   * @param payments number of payments
   * @param total units paid
   * @param reference backend reference (transaction hash on Ethereum), may be empty
   * @param createdAtMs when it was prepared
   */
  record BatchRecord(
      String batchId, String state, int payments, long total, String reference, long createdAtMs) {}
}
