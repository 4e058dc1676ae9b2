package io.flotilla.protocol.job;

import java.io.StringReader;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Reads untyped YAML/JSON into typed values, collecting every error with its path instead of
 * stopping at the first. Scalars keep their text and whether they were quoted, so {@code "3"} is a
 * string where a number is expected, while plain {@code 3e-4} is a number (YAML 1.1 would make it a
 * string).
 */
final class SpecReader {

  /** A scalar as written: its text, whether it was unquoted, and its line. */
  record Scalar(String text, boolean plain, int line) {}

  /** A mapping with its line. */
  record Mapping(Map<String, Object> entries, Map<String, Integer> keyLines, int line) {}

  /** A sequence with its line. */
  record Sequence(List<Object> items, int line) {}

  private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9][0-9_]*");
  private static final Pattern DECIMAL =
      Pattern.compile("[-+]?([0-9][0-9_]*(\\.[0-9_]*)?|\\.[0-9][0-9_]*)([eE][-+]?[0-9]+)?");
  static final int MAX_SPEC_CHARS = 1 << 20;

  final List<SpecError> errors = new ArrayList<>();

  /** Parses {@code text} into nested {@link Mapping}/{@link Sequence}/{@link Scalar}, or null. */
  Object parseDocument(String text) {
    if (text.length() > MAX_SPEC_CHARS) {
      error("", "spec is " + text.length() + " characters; at most " + MAX_SPEC_CHARS, 0);
      return null;
    }
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(20);
    options.setNestingDepthLimit(20);
    options.setCodePointLimit(MAX_SPEC_CHARS);
    options.setAllowRecursiveKeys(false);
    Yaml yaml =
        new Yaml(
            new org.yaml.snakeyaml.constructor.SafeConstructor(options),
            new Representer(new org.yaml.snakeyaml.DumperOptions()),
            new org.yaml.snakeyaml.DumperOptions(),
            options,
            new Resolver());
    Node root;
    try {
      root = yaml.compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      error("", "not valid YAML: " + e.getProblem(), line);
      return null;
    } catch (YAMLException e) {
      error("", "not valid YAML: " + e.getMessage(), 0);
      return null;
    }
    if (root == null) {
      error("", "spec is empty; expected a mapping with name, model, dataset, training", 0);
      return null;
    }
    return convert(root, "", 0);
  }

  private Object convert(Node node, String path, int depth) {
    int line = node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
    if (depth > 16) {
      error(path, "nested too deeply", line);
      return null;
    }
    if (node instanceof ScalarNode scalar) {
      boolean plain = scalar.isPlain();
      if (plain && Tag.NULL.equals(scalar.getTag())) {
        return null;
      }
      return new Scalar(scalar.getValue(), plain, line);
    }
    if (node instanceof SequenceNode seq) {
      List<Object> items = new ArrayList<>();
      for (int i = 0; i < seq.getValue().size(); i++) {
        items.add(convert(seq.getValue().get(i), path + "[" + i + "]", depth + 1));
      }
      return new Sequence(items, line);
    }
    MappingNode map = (MappingNode) node;
    Map<String, Object> entries = new LinkedHashMap<>();
    Map<String, Integer> keyLines = new LinkedHashMap<>();
    for (NodeTuple tuple : map.getValue()) {
      Node keyNode = tuple.getKeyNode();
      int keyLine = keyNode.getStartMark() == null ? 0 : keyNode.getStartMark().getLine() + 1;
      if (!(keyNode instanceof ScalarNode keyScalar)) {
        error(path, "keys must be plain names, not collections", keyLine);
        continue;
      }
      String key = keyScalar.getValue();
      String childPath = join(path, key);
      if (entries.containsKey(key)) {
        error(childPath, "appears twice; give each field once", keyLine);
        continue;
      }
      entries.put(key, convert(tuple.getValueNode(), childPath, depth + 1));
      keyLines.put(key, keyLine);
    }
    return new Mapping(entries, keyLines, line);
  }

  void error(String path, String message, int line) {
    errors.add(new SpecError(path, message, line));
  }

  /** True when no error so far concerns any of {@code paths} or a field below one. */
  boolean clean(String... paths) {
    for (SpecError e : errors) {
      for (String p : paths) {
        if (e.path().equals(p) || e.path().startsWith(p + ".") || e.path().startsWith(p + "[")) {
          return false;
        }
      }
    }
    return true;
  }

  static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  static int lineOf(Object value) {
    if (value instanceof Scalar s) {
      return s.line();
    }
    if (value instanceof Mapping m) {
      return m.line();
    }
    if (value instanceof Sequence s) {
      return s.line();
    }
    return 0;
  }

  static String describe(Object value) {
    if (value instanceof Scalar s) {
      if (s.plain() && INTEGER.matcher(s.text()).matches()) {
        return "integer " + s.text();
      }
      if (s.plain() && DECIMAL.matcher(s.text()).matches()) {
        return "number " + s.text();
      }
      if (s.plain() && isBoolean(s.text())) {
        return "boolean " + s.text();
      }
      return "string \"" + s.text() + "\"";
    }
    if (value instanceof Mapping) {
      return "a mapping";
    }
    if (value instanceof Sequence) {
      return "a list";
    }
    return "nothing";
  }

  private static boolean isBoolean(String text) {
    return text.equals("true") || text.equals("false");
  }

  /** The fields of one mapping; each read marks its key as known. */
  final class Fields {
    final String path;
    final Map<String, Object> entries;
    final Map<String, Integer> keyLines;
    final int line;
    final Set<String> known = new LinkedHashSet<>();
    final Map<String, String> reserved = new LinkedHashMap<>();

    Fields(String path, Mapping mapping) {
      this.path = path;
      this.entries = mapping == null ? Map.of() : mapping.entries();
      this.keyLines = mapping == null ? Map.of() : mapping.keyLines();
      this.line = mapping == null ? 0 : mapping.line();
    }

    String at(String key) {
      return join(path, key);
    }

    int lineOf(String key) {
      return keyLines.getOrDefault(key, line);
    }

    boolean has(String key) {
      known.add(key);
      return entries.get(key) != null;
    }

    Object raw(String key) {
      known.add(key);
      return entries.get(key);
    }

    void fail(String key, String message) {
      error(at(key), message, lineOf(key));
    }

    /**
     * A nested mapping, or {@code null} when absent (an error when required) or not a mapping (an
     * error).
     */
    Fields child(String key, boolean required, String allowed) {
      Object value = raw(key);
      if (value == null) {
        if (required) {
          fail(key, "required; " + allowed);
        }
        return null;
      }
      if (!(value instanceof Mapping m)) {
        fail(key, "expected a mapping (" + allowed + "), got " + describe(value));
        return null;
      }
      return new Fields(at(key), m);
    }

    String string(String key, String fallback, boolean required, String allowed) {
      Object value = raw(key);
      if (value == null) {
        if (required) {
          fail(key, "required; " + allowed);
        }
        return fallback;
      }
      if (!(value instanceof Scalar s)) {
        fail(key, "expected a string (" + allowed + "), got " + describe(value));
        return fallback;
      }
      return s.text();
    }

    String choice(String key, String fallback, List<String> allowed) {
      String text = string(key, fallback, fallback == null, "one of " + String.join(", ", allowed));
      if (text == null || allowed.contains(text)) {
        return text;
      }
      fail(
          key,
          "must be one of "
              + String.join(", ", allowed)
              + "; got \""
              + text
              + "\""
              + suggestion(text, allowed));
      return null;
    }

    long integer(String key, long fallback, boolean required, long min, long max) {
      Object value = raw(key);
      String range = "an integer in " + min + ".." + max;
      if (value == null) {
        if (required) {
          fail(key, "required; " + range);
        }
        return fallback;
      }
      if (!(value instanceof Scalar s) || !s.plain() || !INTEGER.matcher(s.text()).matches()) {
        fail(key, "expected " + range + ", got " + describe(value));
        return fallback;
      }
      long parsed;
      try {
        parsed = Long.parseLong(s.text().replace("_", "").replace("+", ""));
      } catch (NumberFormatException e) {
        fail(key, "must be " + range + "; got " + s.text());
        return fallback;
      }
      if (parsed < min || parsed > max) {
        fail(key, "must be " + range + "; got " + parsed);
        return fallback;
      }
      return parsed;
    }

    /** A number within [min, max] (exclusive at min when {@code minExclusive}). */
    double number(
        String key,
        double fallback,
        boolean required,
        double min,
        boolean minExclusive,
        double max) {
      Object value = raw(key);
      String range = "a number " + (minExclusive ? "> " : ">= ") + fmt(min) + " and <= " + fmt(max);
      if (value == null) {
        if (required) {
          fail(key, "required; " + range);
        }
        return fallback;
      }
      if (!(value instanceof Scalar s) || !s.plain() || !DECIMAL.matcher(s.text()).matches()) {
        fail(key, "expected " + range + ", got " + describe(value));
        return fallback;
      }
      double parsed = Double.parseDouble(s.text().replace("_", ""));
      if (!(minExclusive ? parsed > min : parsed >= min) || parsed > max) {
        fail(key, "must be " + range + "; got " + s.text());
        return fallback;
      }
      return parsed;
    }

    /** A non-negative decimal, plain or quoted (money is often written as a string). */
    BigDecimal decimal(String key, boolean required, String allowed) {
      Object value = raw(key);
      if (value == null) {
        if (required) {
          fail(key, "required; " + allowed);
        }
        return null;
      }
      if (!(value instanceof Scalar s) || !DECIMAL.matcher(s.text()).matches()) {
        fail(key, "expected " + allowed + ", got " + describe(value));
        return null;
      }
      BigDecimal parsed = new BigDecimal(s.text().replace("_", ""));
      if (parsed.signum() <= 0) {
        fail(key, "must be " + allowed + "; got " + s.text());
        return null;
      }
      return parsed.stripTrailingZeros();
    }

    Sequence list(String key, boolean required, String allowed) {
      Object value = raw(key);
      if (value == null) {
        if (required) {
          fail(key, "required; " + allowed);
        }
        return null;
      }
      if (!(value instanceof Sequence seq)) {
        fail(key, "expected a list (" + allowed + "), got " + describe(value));
        return null;
      }
      return seq;
    }

    /** Marks {@code key} as one the server sets; giving it in the file is an error. */
    void reserve(String key, String why) {
      reserved.put(key, why);
    }

    /** Reports every key that no read asked for. */
    void finish() {
      for (String key : entries.keySet()) {
        if (known.contains(key)) {
          continue;
        }
        if (reserved.containsKey(key)) {
          fail(key, reserved.get(key));
          continue;
        }
        fail(
            key,
            "unknown field" + suggestion(key, known) + "; allowed: " + String.join(", ", known));
      }
    }
  }

  /** {@code (did you mean "x"?)} for the closest allowed word within a small edit distance. */
  static String suggestion(String given, Iterable<String> allowed) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : allowed) {
      int d = distance(given.toLowerCase(java.util.Locale.ROOT), candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    if (best == null || bestDistance > Math.max(2, given.length() / 3)) {
      return "";
    }
    return " (did you mean \"" + best + "\"?)";
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  static String fmt(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }
}
