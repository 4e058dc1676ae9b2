package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The distribution's logback.xml: text lines by default, one JSON object per line with the MDC's
 * jobId and workerId as fields when {@code FLOTILLA_LOG_FORMAT=json}, both on standard error.
 */
class LogFormatTest {

  /** What the distribution's logback.xml writes for one warning with job and worker in the MDC. */
  private static List<String> logOneWarning(String format) throws Exception {
    URL config = LogFormatTest.class.getClassLoader().getResource("logback.xml");
    assertThat(config).as("logback.xml of the distribution").isNotNull();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    if (format != null) {
      context.putProperty("FLOTILLA_LOG_FORMAT", format);
    }
    PrintStream stderr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(config);
      context.getMDCAdapter().put("jobId", "job-42");
      context.getMDCAdapter().put("workerId", "worker-7");
      context.getLogger("io.flotilla.scheduler.job.JobManager").warn("Job {} paused", "job-42");
      context.getMDCAdapter().clear();
    } finally {
      context.stop();
      System.setErr(stderr);
    }
    return captured.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void jsonLinesCarryTheJobAndWorkerIds() throws Exception {
    List<String> lines = logOneWarning("json");
    assertThat(lines).hasSize(1);
    JsonNode line = new ObjectMapper().readTree(lines.get(0));
    assertThat(line.path("message").asText()).isEqualTo("Job job-42 paused");
    assertThat(line.path("level").asText()).isEqualTo("WARN");
    assertThat(line.path("logger_name").asText()).isEqualTo("io.flotilla.scheduler.job.JobManager");
    assertThat(line.path("jobId").asText()).isEqualTo("job-42");
    assertThat(line.path("workerId").asText()).isEqualTo("worker-7");
    assertThat(line.path("@timestamp").asText()).isNotEmpty();
  }

  @Test
  void textIsTheDefault() throws Exception {
    List<String> lines = logOneWarning(null);
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0))
        .matches("\\d{4}-\\d{2}-\\d{2} [0-9:,]+ WARN  \\S*JobManager - Job job-42 paused");
  }
}
