package io.flotilla.deploy.manifests;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.deploy.cli.FlotillaCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * What a Flotilla node actually reads and serves, taken from the node's own configuration files and
 * launcher, so deployment manifests are checked against the real thing rather than a copy.
 */
final class NodeEnvironment {

  private static final Pattern CONFIG_ENV = Pattern.compile("\\$\\{\\?(FLOTILLA_[A-Z0-9_]+)}");
  private static final Pattern SCRIPT_ENV = Pattern.compile("\\b(FLOTILLA_[A-Z0-9_]+)\\b");

  /** The module directory (tests run there). */
  static final Path MODULE = Path.of("").toAbsolutePath();

  private static final Set<String> VARIABLES = collectVariables();
  private static final Config DEFAULTS = ConfigFactory.load(NodeEnvironment.class.getClassLoader());
  private static final Config PEKKO_DEFAULTS =
      ConfigFactory.parseResources("io/flotilla/gossip/pekko-defaults.conf").resolveWith(DEFAULTS);

  private NodeEnvironment() {}

  /**
   * Every FLOTILLA_* environment variable a node or its launcher reads: {@code ${?NAME}} in any
   * configuration file on the node's class path, and the names bin/flotilla and its JDK selection
   * use.
   */
  static Set<String> variables() {
    return VARIABLES;
  }

  /** The HTTP path of the readiness check, e.g. {@code /health/ready}. */
  static String readinessPath() {
    return "/" + PEKKO_DEFAULTS.getString("pekko.management.health-checks.readiness-path");
  }

  /** The HTTP path of the liveness check, e.g. {@code /health/alive}. */
  static String livenessPath() {
    return "/" + PEKKO_DEFAULTS.getString("pekko.management.health-checks.liveness-path");
  }

  /** A node's setting when the environment does not override it. */
  static String defaultOf(String path) {
    return DEFAULTS.getString(path);
  }

  /** Parses a {@code flotilla} command line as the launcher would; throws for bad usage. */
  static CommandLine.ParseResult parseCommand(List<String> args) {
    return new CommandLine(new FlotillaCommand()).parseArgs(args.toArray(String[]::new));
  }

  private static Set<String> collectVariables() {
    Set<String> names = new TreeSet<>();
    ClassLoader loader = NodeEnvironment.class.getClassLoader();
    try {
      for (String resource :
          List.of("reference.conf", "application.conf", "flotilla/environment.conf")) {
        for (URL url : Collections.list(loader.getResources(resource))) {
          try (InputStream in = url.openStream()) {
            addAll(CONFIG_ENV, new String(in.readAllBytes(), StandardCharsets.UTF_8), names);
          }
        }
      }
      for (String script : List.of("bin/flotilla", "bin/select-jdk.sh")) {
        addAll(SCRIPT_ENV, Files.readString(MODULE.resolve(script)), names);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Collections.unmodifiableSet(names);
  }

  private static void addAll(Pattern pattern, String text, Set<String> into) {
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      into.add(m.group(1));
    }
  }
}
