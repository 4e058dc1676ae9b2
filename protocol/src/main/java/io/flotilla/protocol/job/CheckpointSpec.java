package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;

/**
 * When the model is saved.
 *
 * @param intervalSteps steps between checkpoints (the last step is always saved)
 * @param keepLast checkpoints kept, oldest deleted first; 0 keeps all
 */
public record CheckpointSpec(long intervalSteps, int keepLast) implements ControlMessage {}
