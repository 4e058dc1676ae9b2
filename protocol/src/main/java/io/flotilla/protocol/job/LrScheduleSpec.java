package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * Learning rate over time: linear warm-up from 0 to the peak, then {@code cosine} decay to {@code
 * minLrRatio} x peak at the last step, or {@code constant}.
 *
 * @param type {@code cosine} or {@code constant}
 * @param warmupSteps steps of linear warm-up
 * @param minLrRatio final learning rate as a fraction of the peak (cosine only)
 */
public record LrScheduleSpec(String type, long warmupSteps, double minLrRatio)
    implements ControlMessage {
  public LrScheduleSpec {
    Objects.requireNonNull(type, "type");
  }
}
