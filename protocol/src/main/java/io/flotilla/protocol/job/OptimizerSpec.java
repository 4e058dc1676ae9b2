package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * AdamW with decoupled weight decay and gradient clipping by global norm.
 *
 * @param type optimizer name; {@code adamw} is the only one
 * @param lr peak learning rate
 * @param beta1 first-moment decay
 * @param beta2 second-moment decay
 * @param eps denominator term
 * @param weightDecay decoupled weight decay
 * @param gradClip largest global gradient norm, 0 for no clipping
 */
public record OptimizerSpec(
    String type,
    double lr,
    double beta1,
    double beta2,
    double eps,
    double weightDecay,
    double gradClip)
    implements ControlMessage {
  public OptimizerSpec {
    Objects.requireNonNull(type, "type");
  }
}
