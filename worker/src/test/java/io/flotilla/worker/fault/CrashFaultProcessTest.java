package io.flotilla.worker.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The crash mode ends a real process the hard way: its exit status, no shutdown hooks. */
class CrashFaultProcessTest {

  @Test
  void crashHaltsTheJvmMidTaskWithoutShutdownHooks() throws Exception {
    List<String> command = new ArrayList<>();
    command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(CrashingWorkerMain.class.getName());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("process ended").isTrue();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(output).isEqualTo(FaultInjector.CRASH_EXIT_STATUS);
    assertThat(output).contains("task started").doesNotContain("task finished");
    assertThat(output).doesNotContain("shutdown hook ran");
  }
}
