package io.flotilla.scheduler.job;

import io.flotilla.ledger.PaymentTerms;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.PricingUnit;
import io.flotilla.scheduler.planner.PlanResult;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * How a job's payment terms ({@code payment} in its spec, in currency units) become ledger terms
 * (in ledger units) and receipts. One receipt covers one step of one stage replica: {@code M} tasks
 * (micro-batches) of the stage's forward and backward.
 */
public final class JobPayments {
  private JobPayments() {}

  /** Whether the job pays its workers at all. */
  public static boolean paid(JobSpec spec) {
    return spec.payment().unit() != PricingUnit.NONE;
  }

  /**
   * The ledger terms of {@code spec}: a per-task price is multiplied by the micro-batches a receipt
   * covers; a per-GFLOP price applies to the receipt's megaflops.
   *
   * @param unitsPerCurrency ledger units per unit of the job's currency
   */
  public static PaymentTerms terms(JobSpec spec, long unitsPerCurrency) {
    BigDecimal price = spec.payment().price().multiply(BigDecimal.valueOf(unitsPerCurrency));
    return switch (spec.payment().unit()) {
      case PER_TASK ->
          new PaymentTerms(
              PaymentTerms.Basis.PER_TASK,
              units(price.multiply(BigDecimal.valueOf(spec.training().microBatches()))));
      case PER_GFLOP -> new PaymentTerms(PaymentTerms.Basis.PER_GFLOP, units(price));
      case NONE -> throw new IllegalArgumentException("job " + spec.name() + " pays nothing");
    };
  }

  /** The job's budget in ledger units. */
  public static long budget(JobSpec spec, long unitsPerCurrency) {
    return units(spec.payment().budget().multiply(BigDecimal.valueOf(unitsPerCurrency)));
  }

  /** Megaflops of one step of {@code stage}: forward and backward of every micro-batch. */
  public static long megaflopsPerStep(PlanResult.StagePlan stage, int microBatches) {
    return Math.round(stage.trainFlopsPerMicroBatch() * microBatches / 1e6);
  }

  /** {@code units} in currency, for display. */
  public static BigDecimal inCurrency(long units, long unitsPerCurrency) {
    return BigDecimal.valueOf(units)
        .divide(BigDecimal.valueOf(unitsPerCurrency), 9, RoundingMode.DOWN)
        .stripTrailingZeros();
  }

  private static long units(BigDecimal amount) {
    long u = amount.setScale(0, RoundingMode.DOWN).longValueExact();
    if (u <= 0) {
      throw new IllegalArgumentException(
          "the price is below one ledger unit; raise it or"
              + " flotilla.scheduler.payment.units-per-currency-unit");
    }
    return u;
  }
}
