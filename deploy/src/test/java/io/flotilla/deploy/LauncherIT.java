package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The JVM flags the distribution's {@code bin/flotilla} passes, read back from the JVM. */
class LauncherIT {

  private static final Path THP_MODE = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

  private final Path dist =
      Path.of(System.getProperty("flotilla.dist.dir", "target/dist/flotilla"));

  @Test
  void theHeapIsOnTransparentHugePagesExactlyWhereTheKernelOffersThem() throws Exception {
    boolean offered =
        Files.isReadable(THP_MODE)
            && Pattern.compile("\\[(always|madvise)]").matcher(Files.readString(THP_MODE)).find();
    System.out.println(
        "transparent huge pages offered by this kernel: "
            + offered
            + (Files.isReadable(THP_MODE) ? " (" + Files.readString(THP_MODE).trim() + ")" : ""));
    assertThat(useTransparentHugePages("-Xmx64m")).isEqualTo(offered);
    // Options given by the operator come after the launcher's and win.
    assertThat(useTransparentHugePages("-Xmx64m -XX:-UseTransparentHugePages")).isFalse();
  }

  /** The JVM's final value of UseTransparentHugePages when started with {@code javaOpts}. */
  private boolean useTransparentHugePages(String javaOpts) throws Exception {
    Path out = Files.createTempFile("flotilla-flags", ".txt");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(List.of(dist.resolve("bin/flotilla").toString(), "--version"));
      pb.environment().put("FLOTILLA_JAVA_OPTS", javaOpts + " -XX:+PrintFlagsFinal");
      Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("flotilla --version finished").isTrue();
      String printed = Files.readString(out, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(printed).isZero();
      Matcher m =
          Pattern.compile("bool UseTransparentHugePages\\s+=\\s+(true|false)").matcher(printed);
      assertThat(m.find()).as("UseTransparentHugePages in\n" + printed).isTrue();
      return Boolean.parseBoolean(m.group(1));
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
