package io.flotilla.protocol.job;

import java.util.List;
import java.util.stream.Collectors;

/** A job spec with one or more errors; {@link #errors()} lists every one, in document order. */
public final class InvalidJobSpecException extends IllegalArgumentException {
  private final List<SpecError> errors;

  public InvalidJobSpecException(List<SpecError> errors) {
    super(
        "invalid job spec ("
            + errors.size()
            + (errors.size() == 1 ? " error" : " errors")
            + "):\n"
            + errors.stream().map(e -> "  " + e).collect(Collectors.joining("\n")));
    this.errors = List.copyOf(errors);
  }

  /** Every error found. */
  public List<SpecError> errors() {
    return errors;
  }
}
