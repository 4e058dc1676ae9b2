package io.flotilla.deploy.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After package: the release archive holds what the unpacked distribution holds, the Docker image's
 * build finds everything it ADDs and tests for in it, and systemd accepts the volunteer's unit
 * pointed at the built launcher. Uses the real {@code tar} and {@code systemd-analyze} (fails,
 * never skips, when they are missing).
 */
class DistributionIT {

  private static final Path TARGET = NodeEnvironment.MODULE.resolve("target");
  private static final String VERSION = System.getProperty("flotilla.version");
  private static final Path DIST =
      Path.of(System.getProperty("flotilla.dist.dir", "target/dist/flotilla")).toAbsolutePath();

  /** Archive entries below the top directory, with their permissions, e.g. "bin/flotilla". */
  private static Map<String, String> archiveEntries() throws IOException, InterruptedException {
    Path archive = TARGET.resolve("flotilla-" + VERSION + ".tar.gz");
    assertThat(archive).as("release archive").isRegularFile();
    String listing = run(List.of("tar", "-tvzf", archive.toString()));
    Map<String, String> entries = new LinkedHashMap<>();
    String top = "flotilla-" + VERSION + "/";
    for (String line : listing.split("\n")) {
      String[] f = line.trim().split("\\s+");
      String name = f[f.length - 1];
      assertThat(name).as("every entry lies under " + top).startsWith(top);
      if (!name.endsWith("/")) {
        entries.put(name.substring(top.length()), f[0]);
      }
    }
    return entries;
  }

  @Test
  void theReleaseArchiveHoldsTheDistribution() throws Exception {
    assertThat(VERSION).as("flotilla.version system property").isNotBlank();
    Map<String, String> entries = archiveEntries();
    assertThat(entries.get("bin/flotilla")).startsWith("-rwxr-xr-x");
    assertThat(entries.get("bin/select-jdk.sh")).startsWith("-rwxr-xr-x");
    assertThat(entries)
        .containsKeys(
            "conf/logback.xml",
            "conf/flotilla.conf.example",
            // The unit's Documentation= and the install steps of docs/volunteer.md use these.
            "docs/volunteer.md",
            "docs/operating.md",
            "systemd/flotilla-worker.service",
            "systemd/flotilla-worker.env.example",
            "lib/flotilla-deploy-" + VERSION + ".jar",
            "lib/flotilla-scheduler-" + VERSION + ".jar");
    assertThat(entries.keySet()).anyMatch(e -> e.matches("lib/postgresql-[0-9.]+\\.jar"));
    Set<String> unpacked = new TreeSet<>();
    try (Stream<Path> files = Files.walk(DIST)) {
      files.filter(Files::isRegularFile).forEach(f -> unpacked.add(DIST.relativize(f).toString()));
    }
    assertThat(new TreeSet<>(entries.keySet()))
        .as("archive = deploy/target/dist/flotilla")
        .isEqualTo(unpacked);
  }

  @Test
  void theDockerBuildFindsWhatItAddsAndChecks() throws Exception {
    String dockerfile = Files.readString(NodeEnvironment.MODULE.resolve("docker/Dockerfile"));
    Matcher arg = Pattern.compile("(?m)^ARG FLOTILLA_VERSION=(\\S+)$").matcher(dockerfile);
    assertThat(arg.find()).as("ARG FLOTILLA_VERSION with a default").isTrue();
    assertThat(arg.group(1)).as("the Dockerfile's default version").isEqualTo(VERSION);
    // Sources of ADD/COPY, relative to the build context deploy/target.
    Matcher add = Pattern.compile("(?m)^(?:ADD|COPY)\\s+(\\S+)\\s+\\S+$").matcher(dockerfile);
    int sources = 0;
    while (add.find()) {
      String source = add.group(1).replace("${FLOTILLA_VERSION}", VERSION);
      assertThat(TARGET.resolve(source)).as("ADD/COPY source in the build context").exists();
      sources++;
    }
    assertThat(sources).isPositive();
    // Paths the image build tests for, and the entrypoint, must be in the archive.
    Map<String, String> entries = archiveEntries();
    List<String> paths = new ArrayList<>();
    Matcher tested = Pattern.compile("test -[fx] /opt/flotilla/(\\S+)").matcher(dockerfile);
    while (tested.find()) {
      paths.add(tested.group(1).replace("${FLOTILLA_VERSION}", VERSION));
    }
    Matcher entry = Pattern.compile("ENTRYPOINT \\[\"/opt/flotilla/([^\"]+)\"").matcher(dockerfile);
    assertThat(entry.find()).isTrue();
    paths.add(entry.group(1));
    assertThat(paths).hasSizeGreaterThan(2);
    assertThat(entries).containsKeys(paths.toArray(String[]::new));
    assertThat(dockerfile)
        .contains("FROM eclipse-temurin:21-jre")
        .containsPattern("(?m)^USER flotilla")
        .contains("http://127.0.0.1:${FLOTILLA_HTTP_PORT}" + NodeEnvironment.readinessPath())
        .contains("FLOTILLA_HTTP_HOST=0.0.0.0", "FLOTILLA_API_HOST=0.0.0.0");
    Matcher env =
        Pattern.compile("(?m)^(?:ENV\\s+|\\s+)(FLOTILLA_[A-Z0-9_]+)=").matcher(dockerfile);
    int settings = 0;
    while (env.find()) {
      assertThat(NodeEnvironment.variables()).contains(env.group(1));
      settings++;
    }
    assertThat(settings).as("ENV settings found in the Dockerfile").isGreaterThan(3);
  }

  @Test
  void systemdAcceptsTheWorkerUnit(@TempDir Path dir) throws Exception {
    String unit =
        Files.readString(NodeEnvironment.MODULE.resolve("systemd/flotilla-worker.service"))
            .replace("/opt/flotilla", DIST.toString());
    Path copy = dir.resolve("flotilla-worker.service");
    Files.writeString(copy, unit);
    // Anything it prints is a finding (unknown keys, bad values, missing binaries), even with
    // exit code 0.
    assertThat(run(List.of("systemd-analyze", "verify", copy.toString()))).isEmpty();
    Files.writeString(copy, unit.replace("Nice=10", "Nicety=10"));
    assertThat(run(List.of("systemd-analyze", "verify", copy.toString())))
        .as("systemd-analyze reports a broken unit")
        .contains("Unknown key");
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException(
          command.get(0) + " is required for this test and could not be started: " + e.getMessage(),
          e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(command + " exit code; output: " + out).isZero();
    return out;
  }
}
