package io.flotilla.ledger;

import io.flotilla.protocol.metrics.NodeMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The ledger bridge's meters on the node where the bridge runs (a cluster singleton: on other nodes
 * the counters stay at zero and the gauges at zero):
 *
 * <ul>
 *   <li>{@code flotilla_ledger_receipts_total{outcome}}: receipts submitted, by outcome ({@code
 *       accepted}, {@code duplicate}, {@code budget_exhausted}, {@code unknown_job}, {@code
 *       rejected} for a bad signature, an unregistered worker or a ledger failure);
 *   <li>{@code flotilla_ledger_batches_total}, {@code flotilla_ledger_payments_total}, {@code
 *       flotilla_ledger_settled_units_total}: settlement batches settled, their payments and units;
 *   <li>{@code flotilla_ledger_settlement_failures_total}: settlements postponed by a ledger error;
 *   <li>{@code flotilla_ledger_balance_units{account}}: the sum of the balances of the {@code
 *       escrow}, {@code worker} and {@code funder} accounts, and {@code
 *       flotilla_ledger_unsettled_receipts}, refreshed on the blocking dispatcher at every
 *       reconciliation and after every batch.
 * </ul>
 *
 * One instance per ActorSystem, so a restarted bridge keeps counting into the same meters.
 */
public final class LedgerMetrics implements Extension {

  /** The extension's id. */
  public static final ExtensionId<LedgerMetrics> ID =
      new ExtensionId<>() {
        @Override
        public LedgerMetrics createExtension(ActorSystem<?> system) {
          return new LedgerMetrics(NodeMetrics.get(system).registry());
        }
      };

  /** What became of a submitted receipt. */
  enum Receipt {
    ACCEPTED,
    DUPLICATE,
    BUDGET_EXHAUSTED,
    UNKNOWN_JOB,
    REJECTED
  }

  /** The account kinds whose balances are summed (the prefix of the journal account name). */
  static final List<String> ACCOUNT_KINDS = List.of("escrow", "worker", "funder");

  private final Map<Receipt, Counter> receipts = new EnumMap<>(Receipt.class);
  private final Counter batches;
  private final Counter payments;
  private final Counter settledUnits;
  private final Counter settlementFailures;
  private final Map<String, AtomicLong> balances = new HashMap<>();
  private final AtomicLong unsettled = new AtomicLong();

  private LedgerMetrics(MeterRegistry registry) {
    for (Receipt r : Receipt.values()) {
      receipts.put(
          r,
          Counter.builder("flotilla.ledger.receipts")
              .description("Work receipts submitted to the ledger bridge, by outcome")
              .tag("outcome", r.name().toLowerCase(Locale.ROOT))
              .register(registry));
    }
    batches =
        Counter.builder("flotilla.ledger.batches")
            .description("Settlement batches settled on the ledger")
            .register(registry);
    payments =
        Counter.builder("flotilla.ledger.payments")
            .description("Payments to workers in settled batches")
            .register(registry);
    settledUnits =
        Counter.builder("flotilla.ledger.settled")
            .baseUnit("units")
            .description("Ledger units paid to workers in settled batches")
            .register(registry);
    settlementFailures =
        Counter.builder("flotilla.ledger.settlement.failures")
            .description("Settlements postponed because the ledger failed; retried later")
            .register(registry);
    for (String kind : ACCOUNT_KINDS) {
      AtomicLong sum = new AtomicLong();
      balances.put(kind, sum);
      Gauge.builder("flotilla.ledger.balance", sum, AtomicLong::get)
          .baseUnit("units")
          .description("Sum of the balances of the ledger's accounts of one kind")
          .tag("account", kind)
          .strongReference(true)
          .register(registry);
    }
    Gauge.builder("flotilla.ledger.unsettled.receipts", unsettled, AtomicLong::get)
        .description("Receipts stored but not settled yet")
        .strongReference(true)
        .register(registry);
  }

  /** The extension of {@code system}, created on first use. */
  public static LedgerMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  void receipt(Receipt outcome) {
    receipts.get(outcome).increment();
  }

  void settled(SettlementBatch batch) {
    batches.increment();
    payments.increment(batch.payments().size());
    settledUnits.increment(batch.total());
  }

  void settlementFailed() {
    settlementFailures.increment();
  }

  /** Takes in the ledger's balances; called on the blocking dispatcher. */
  void balances(Map<String, Long> accounts, long unsettledReceipts) {
    Map<String, Long> sums = new HashMap<>();
    accounts.forEach(
        (account, balance) -> {
          int colon = account.indexOf(':');
          if (colon > 0) {
            sums.merge(account.substring(0, colon), balance, Long::sum);
          }
        });
    balances.forEach((kind, sum) -> sum.set(sums.getOrDefault(kind, 0L)));
    unsettled.set(unsettledReceipts);
  }

  /** The bridge stopped on this node: its balances are no longer this node's to show. */
  void stopped() {
    balances.values().forEach(sum -> sum.set(0));
    unsettled.set(0);
  }
}
