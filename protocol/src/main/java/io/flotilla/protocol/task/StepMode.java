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
  SHADOW;

  private static final java.util.regex.Pattern SHADOW_SUFFIX =
      java.util.regex.Pattern.compile("-shadow-\\d+-\\d+$");

  /** The job id under which a shadow of {@code replica} of {@code jobId} runs, attempt n. */
  public static String shadowJobId(String jobId, int replica, int attempt) {
    return jobId + "-shadow-" + replica + "-" + attempt;
  }

  /** The job a shadow's job id shadows; {@code jobId} itself when it is no shadow's. */
  public static String shadowedJobId(String jobId) {
    return SHADOW_SUFFIX.matcher(jobId).replaceFirst("");
  }
}
