package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.math.BigDecimal;
import java.util.Objects;

/**
 * How workers are paid for verified work out of the job's escrow.
 *
 * @param unit what one price unit buys
 * @param price amount paid per unit
 * @param budget most the job may spend; the job pauses when it is exhausted
 * @param currency the token or currency symbol, e.g. {@code ETH} or {@code credits}
 */
public record PaymentSpec(PricingUnit unit, BigDecimal price, BigDecimal budget, String currency)
    implements ControlMessage {

  /** An unpaid job (volunteers lend their machines for free). */
  public static final PaymentSpec NONE =
      new PaymentSpec(PricingUnit.NONE, BigDecimal.ZERO, BigDecimal.ZERO, "");

  public PaymentSpec {
    Objects.requireNonNull(unit, "unit");
    Objects.requireNonNull(price, "price");
    Objects.requireNonNull(budget, "budget");
    currency = Objects.requireNonNullElse(currency, "");
  }
}
