package io.flotilla.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.identity.WorkReceipt;
import org.junit.jupiter.api.Test;

class PaymentTermsTest {

  @Test
  void pricesPerGflopRoundingDownAndPerTask() {
    WorkReceipt r = WorkReceipt.unsigned("j", "t", "w", 2_999, 0);
    assertThat(new PaymentTerms(PaymentTerms.Basis.PER_GFLOP, 10).price(r)).isEqualTo(29);
    assertThat(new PaymentTerms(PaymentTerms.Basis.PER_TASK, 7).price(r)).isEqualTo(7);
  }

  @Test
  void overflowIsAnErrorNotAWrapAround() {
    WorkReceipt huge = WorkReceipt.unsigned("j", "t", "w", Long.MAX_VALUE / 2, 0);
    assertThatThrownBy(() -> new PaymentTerms(PaymentTerms.Basis.PER_GFLOP, 10).price(huge))
        .isInstanceOf(ArithmeticException.class);
  }

  @Test
  void rejectsNonPositiveRates() {
    assertThatThrownBy(() -> new PaymentTerms(PaymentTerms.Basis.PER_TASK, 0))
        .hasMessageContaining("must be > 0");
  }
}
