package io.flotilla.protocol.task;

/** How a stage runs one ordered step: as usual, traced for a shadow check, or as the shadow. */
public enum StepMode {
  /** The step as usual; {@link StepReport#forwardDigest()} and its backward twin stay empty. */
  PLAIN,
  /**
   * The step as usual, and the report carries the digests of what the stage sent forward and
   * backward and of its local gradient before any all-reduce, so that a shadow can be compared.
   */
  TRACED,
  /**
   * A shadow of one replica's slot: the same inputs from the same checkpoint, traced like {@link
   * #TRACED}. With one replica the shadow runs the whole step (its parameter digest compares too);
   * with more it stops before the all-reduce, which it takes no part in, and the stage refuses
   * further steps.
   */
  SHADOW
}
