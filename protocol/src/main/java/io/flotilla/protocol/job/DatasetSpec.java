package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The data a job trains on.
 *
 * @param type which reader to use
 * @param source file or directory to read, empty for {@link DatasetType#ADDITION}
 * @param options reader options by name, values in canonical text form (see docs/job-spec.md)
 */
public record DatasetSpec(DatasetType type, String source, Map<String, String> options)
    implements ControlMessage {
  public DatasetSpec {
    Objects.requireNonNull(type, "type");
    source = Objects.requireNonNullElse(source, "");
    options = options == null ? Map.of() : Map.copyOf(new TreeMap<>(options));
  }

  /** The option {@code name} as an integer, or {@code fallback} when absent. */
  public long longOption(String name, long fallback) {
    String value = options.get(name);
    return value == null ? fallback : Long.parseLong(value);
  }
}
