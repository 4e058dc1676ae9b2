package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;

/**
 * DiLoCo: replicas train H inner steps alone, then average their parameter deltas, which an outer
 * SGD optimizer with Nesterov momentum applies.
 *
 * @param innerSteps H, local steps between synchronisations
 * @param outerLr outer learning rate
 * @param outerMomentum outer Nesterov momentum
 */
public record DilocoSpec(int innerSteps, double outerLr, double outerMomentum)
    implements ControlMessage {

  /** Defaults from the DiLoCo paper: H = 500, outer lr 0.7, momentum 0.9. */
  public static final DilocoSpec DEFAULT = new DilocoSpec(500, 0.7, 0.9);
}
