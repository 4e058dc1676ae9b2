package io.flotilla.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.flotilla.worker.pipeline.PipelineSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

@ExtendWith(LogCapturingExtension.class)
class PipelineBenchCommandTest {

  private static int run(StringWriter out, StringWriter err, String... args) {
    CommandLine cli = new CommandLine(new PipelineBenchCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void printsMeasuredBubbleNextToTheFormula() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        run(
            out,
            err,
            "--stages",
            "2",
            "--micro-batches",
            "1,2",
            "--schedules",
            "1f1b",
            "--layers",
            "2",
            "--width",
            "16",
            "--micro-batch-size",
            "2",
            "--warmup",
            "0",
            "--steps",
            "1");
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString())
        .contains("[2/2] 1f1b P=2 M=2")
        .contains("GPipe (P-1)/(M+P-1)")
        .containsPattern("1f1b +2 +1 .* 50\\.0%")
        .containsPattern("1f1b +2 +2 .* 33\\.3%");
  }

  @Test
  void badArgumentsExitWithTwoAndSayWhatIsAllowed() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertThat(run(out, err, "--stages", "9")).isEqualTo(2);
    assertThat(err.toString()).contains("--stages must be in 1..8");
    assertThat(run(out, err, "--schedules", "zigzag")).isEqualTo(2);
    assertThat(err.toString()).contains("--schedules must be gpipe or 1f1b, got zigzag");
  }

  @Test
  void settingsComeFromReferenceConf() {
    PipelineSettings settings = PipelineSettings.create(ConfigFactory.load());
    assertThat(settings.receiveTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(settings.computeThreads()).isEqualTo(1);
  }
}
