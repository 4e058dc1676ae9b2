package io.flotilla.protocol.job;

/**
 * One problem in a job spec.
 *
 * @param path the field, e.g. {@code training.optimizer.lr}; empty for the document itself
 * @param message what is wrong and what is allowed
 * @param line 1-based line in the spec text, 0 when unknown
 */
public record SpecError(String path, String message, int line) {

  @Override
  public String toString() {
    String where = path.isEmpty() ? "(document)" : path;
    return (line > 0 ? "line " + line + ": " : "") + where + ": " + message;
  }
}
