package io.flotilla.scheduler.cli;

import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.Link;
import io.flotilla.scheduler.planner.LinkMatrix;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A snapshot of the worker registry and link measurements, read from JSON (or YAML):
 *
 * <pre>{@code
 * {"workers": [{"id": "w1", "gflops": 40.0, "memory_mib": 8192, "cores": 4}],
 *  "links": {"default": {"latency_ms": 1.0, "bandwidth_mbit_s": 1000},
 *            "pairs": [{"a": "w1", "b": "w2", "latency_ms": 0.1, "bandwidth_mbit_s": 10000}]}}
 * }</pre>
 *
 * @param workers the workers
 * @param links measured links, default for the rest
 */
public record WorkersFile(List<WorkerCapabilities> workers, LinkMatrix links) {

  /** Reads {@code path}; throws {@link IllegalArgumentException} naming every problem. */
  public static WorkersFile read(Path path) throws IOException {
    return parse(Files.readString(path, StandardCharsets.UTF_8));
  }

  /** Parses a snapshot; throws {@link IllegalArgumentException} naming every problem. */
  public static WorkersFile parse(String text) {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(20);
    Object root;
    try {
      root = new Yaml(new SafeConstructor(options)).load(text);
    } catch (YAMLException e) {
      throw new IllegalArgumentException("workers file is not valid JSON/YAML: " + e.getMessage());
    }
    List<String> errors = new ArrayList<>();
    List<WorkerCapabilities> workers = new ArrayList<>();
    LinkMatrix links = LinkMatrix.unmeasured();
    if (!(root instanceof Map<?, ?> top)) {
      throw new IllegalArgumentException("workers file: expected an object with \"workers\"");
    }
    for (Object key : top.keySet()) {
      if (!"workers".equals(key) && !"links".equals(key)) {
        errors.add(key + ": unknown field; allowed: workers, links");
      }
    }
    if (!(top.get("workers") instanceof List<?> list)) {
      errors.add("workers: required; a list of {id, gflops, memory_mib, cores}");
    } else {
      Set<String> ids = new HashSet<>();
      for (int i = 0; i < list.size(); i++) {
        String at = "workers[" + i + "]";
        if (!(list.get(i) instanceof Map<?, ?> w)) {
          errors.add(at + ": expected an object {id, gflops, memory_mib, cores}");
          continue;
        }
        checkKeys(w, at, Set.of("id", "gflops", "memory_mib", "cores", "backend"), errors);
        Object id = w.get("id");
        double gflops = number(w.get("gflops"), at + ".gflops", errors);
        double memoryMib = number(w.get("memory_mib"), at + ".memory_mib", errors);
        Object coresValue = w.get("cores");
        int cores = coresValue == null ? 1 : (int) number(coresValue, at + ".cores", errors);
        Object backend = w.get("backend") == null ? "cpu" : w.get("backend");
        if (!(id instanceof String s) || s.isBlank()) {
          errors.add(at + ".id: required; a non-empty string");
          continue;
        }
        if (!ids.add(s)) {
          errors.add(at + ".id: \"" + s + "\" appears twice");
          continue;
        }
        try {
          workers.add(
              new WorkerCapabilities(
                  s,
                  "snapshot",
                  Math.max(1, cores),
                  (long) (memoryMib * 1024 * 1024),
                  null,
                  gflops,
                  String.valueOf(backend),
                  null,
                  null,
                  Map.of(),
                  0));
        } catch (IllegalArgumentException e) {
          errors.add(at + ": " + e.getMessage());
        }
      }
    }
    Object linksValue = top.get("links");
    if (linksValue instanceof Map<?, ?> l) {
      checkKeys(l, "links", Set.of("default", "pairs"), errors);
      if (l.get("default") instanceof Map<?, ?> d) {
        Link link = link(d, "links.default", errors);
        if (link != null) {
          links = new LinkMatrix(link, Map.of());
        }
      }
      if (l.get("pairs") instanceof List<?> pairs) {
        for (int i = 0; i < pairs.size(); i++) {
          String at = "links.pairs[" + i + "]";
          if (pairs.get(i) instanceof Map<?, ?> pair
              && pair.get("a") instanceof String a
              && pair.get("b") instanceof String b) {
            Link link = link(pair, at, errors);
            if (link != null) {
              links = links.with(a, b, link);
            }
          } else {
            errors.add(at + ": expected {a, b, latency_ms, bandwidth_mbit_s}");
          }
        }
      }
    } else if (linksValue != null) {
      errors.add("links: expected an object {default, pairs}");
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("workers file:\n  " + String.join("\n  ", errors));
    }
    return new WorkersFile(workers, links);
  }

  private static Link link(Map<?, ?> m, String at, List<String> errors) {
    checkKeys(m, at, Set.of("a", "b", "latency_ms", "bandwidth_mbit_s"), errors);
    double latencyMs = number(m.get("latency_ms"), at + ".latency_ms", errors);
    double mbit = number(m.get("bandwidth_mbit_s"), at + ".bandwidth_mbit_s", errors);
    if (mbit <= 0) {
      errors.add(at + ".bandwidth_mbit_s: must be > 0");
      return null;
    }
    return new Link(Math.max(0, latencyMs) / 1000, mbit * 1e6 / 8);
  }

  private static void checkKeys(Map<?, ?> m, String at, Set<String> allowed, List<String> errors) {
    for (Object key : m.keySet()) {
      if (!allowed.contains(String.valueOf(key))) {
        errors.add(
            at
                + "."
                + key
                + ": unknown field; allowed: "
                + String.join(", ", new java.util.TreeSet<>(allowed)));
      }
    }
  }

  private static double number(Object value, String at, List<String> errors) {
    if (value instanceof Number n && Double.isFinite(n.doubleValue()) && n.doubleValue() >= 0) {
      return n.doubleValue();
    }
    errors.add(at + ": expected a number >= 0, got " + (value == null ? "nothing" : value));
    return 0;
  }
}
