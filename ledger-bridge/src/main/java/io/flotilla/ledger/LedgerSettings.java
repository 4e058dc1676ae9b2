package io.flotilla.ledger;

import com.typesafe.config.Config;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of {@code flotilla.ledger} (see the module's {@code reference.conf}), validated once.
 *
 * @param backend {@code embedded} or {@code ethereum}
 * @param singletonRole cluster role that runs the bridge
 * @param embeddedPath H2 file of the embedded ledger
 * @param rpcUrl Ethereum JSON-RPC URL
 * @param operatorKey operator private key (hex)
 * @param contractAddress deployed escrow contract
 * @param weiPerUnit wei per ledger unit
 * @param gasLimit gas limit per transaction
 * @param receiptTimeout wait for a transaction receipt
 * @param ethereumBookPath local book of the Ethereum backend
 * @param batchMaxReceipts receipts per batch at most
 * @param batchMaxInterval time a batch may wait for more receipts
 * @param queueSize in-memory receipts waiting for a batch
 * @param reconcileInterval retry period of pending work
 */
public record LedgerSettings(
    String backend,
    String singletonRole,
    Path embeddedPath,
    String rpcUrl,
    String operatorKey,
    String contractAddress,
    BigInteger weiPerUnit,
    BigInteger gasLimit,
    Duration receiptTimeout,
    Path ethereumBookPath,
    int batchMaxReceipts,
    Duration batchMaxInterval,
    int queueSize,
    Duration reconcileInterval) {

  /** Config path of the dispatcher for blocking ledger calls. */
  public static final String BLOCKING_DISPATCHER = "flotilla.ledger.blocking-dispatcher";

  /** Reads and validates {@code flotilla.ledger}. */
  public static LedgerSettings create(Config config) {
    Config c = config.getConfig("flotilla.ledger");
    LedgerSettings s =
        new LedgerSettings(
            c.getString("backend"),
            c.getString("singleton-role"),
            Path.of(c.getString("embedded.path")),
            c.getString("ethereum.rpc-url"),
            c.getString("ethereum.operator-key"),
            c.getString("ethereum.contract-address"),
            new BigInteger(c.getString("ethereum.wei-per-unit")),
            new BigInteger(c.getString("ethereum.gas-limit")),
            c.getDuration("ethereum.receipt-timeout"),
            Path.of(c.getString("ethereum.book-path")),
            c.getInt("batch.max-receipts"),
            c.getDuration("batch.max-interval"),
            c.getInt("batch.queue-size"),
            c.getDuration("reconcile-interval"));
    s.validate();
    return s;
  }

  private void validate() {
    if (!backend.equals("embedded") && !backend.equals("ethereum")) {
      throw new IllegalArgumentException(
          "flotilla.ledger.backend is '" + backend + "'; allowed: embedded, ethereum");
    }
    if (backend.equals("ethereum")) {
      require(!rpcUrl.isBlank(), "flotilla.ledger.ethereum.rpc-url (FLOTILLA_ETH_RPC_URL)");
      require(
          !operatorKey.isBlank(),
          "flotilla.ledger.ethereum.operator-key (FLOTILLA_ETH_OPERATOR_KEY)");
      require(
          contractAddress.matches("0x[0-9a-fA-F]{40}"),
          "flotilla.ledger.ethereum.contract-address (FLOTILLA_ETH_CONTRACT), a 0x address");
    }
    if (batchMaxReceipts < 1 || queueSize < 1) {
      throw new IllegalArgumentException(
          "flotilla.ledger.batch.max-receipts and queue-size must be >= 1");
    }
    if (weiPerUnit.signum() <= 0) {
      throw new IllegalArgumentException("flotilla.ledger.ethereum.wei-per-unit must be > 0");
    }
  }

  private static void require(boolean ok, String what) {
    if (!ok) {
      throw new IllegalArgumentException("the ethereum ledger backend needs " + what);
    }
  }

  /** Opens the configured ledger (blocking: call it off the actors' threads). */
  public Ledger openLedger(SettlementHook hook) {
    return switch (backend) {
      case "embedded" -> new EmbeddedLedger(embeddedPath, java.time.Clock.systemUTC(), hook);
      case "ethereum" ->
          new io.flotilla.ledger.ethereum.EthereumLedger(
              ethereumBookPath,
              new io.flotilla.ledger.ethereum.ChainClient(
                  rpcUrl, operatorKey, gasLimit, receiptTimeout.toMillis()),
              contractAddress,
              weiPerUnit,
              java.time.Clock.systemUTC(),
              hook);
      default -> throw new IllegalStateException("unreachable: validated backend " + backend);
    };
  }
}
