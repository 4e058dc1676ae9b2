package io.flotilla.worker.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.typesafe.config.ConfigFactory;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FaultInjectorTest {

  private final List<Duration> sleeps = new ArrayList<>();
  private final List<Integer> halts = new ArrayList<>();

  /** Stands in for a halted JVM: the task must not go on after halt. */
  static final class Halted extends RuntimeException {
    Halted(int status) {
      super("halted with " + status);
    }
  }

  private FaultInjector injector(FaultMode mode) {
    return new FaultInjector(
        FaultSettings.none().withMode(mode),
        status -> {
          halts.add(status);
          throw new Halted(status);
        },
        sleeps::add);
  }

  static float[] gradient() {
    return new float[] {0.5f, -1.25f, 2f, 0f, -0.25f};
  }

  @Test
  void noiseChangesEveryResultByAboutTheConfiguredShareOfItsRms() {
    FaultInjector noise = injector(FaultMode.NOISE);
    float[] g = new float[10_000];
    for (int i = 0; i < g.length; i++) {
      g[i] = (i % 2 == 0 ? 1 : -1) * 2f;
    }
    float[] original = g.clone();
    noise.corrupt("s", g);
    double sumSq = 0;
    int changed = 0;
    for (int i = 0; i < g.length; i++) {
      double d = g[i] - original[i];
      sumSq += d * d;
      if (d != 0) {
        changed++;
      }
    }
    assertThat(changed).isGreaterThan(9_900);
    // RMS 2, noise-stddev 0.1: the added noise has a standard deviation of about 0.2
    assertThat(Math.sqrt(sumSq / g.length)).isCloseTo(0.2, within(0.01));
    float[] zeros = new float[100];
    noise.corrupt("z", zeros);
    assertThat(zeros).isNotEqualTo(new float[100]);
  }

  @Test
  void flipSignsScaleAndZerosDoExactlyWhatTheySay() {
    assertThat(injector(FaultMode.FLIP_SIGNS).corrupt("s", gradient()))
        .containsExactly(-0.5f, 1.25f, -2f, -0f, 0.25f);
    assertThat(injector(FaultMode.SCALE).corrupt("s", gradient()))
        .containsExactly(5f, -12.5f, 20f, 0f, -2.5f);
    assertThat(injector(FaultMode.ZEROS).corrupt("s", gradient()))
        .containsExactly(0f, 0f, 0f, 0f, 0f);
  }

  @Test
  void staleReturnsEachSlotsPreviousTensorAndThePreviousReportsDigests() {
    FaultInjector stale = injector(FaultMode.STALE);
    float[] step0 = {1, 2, 3};
    float[] step1 = {4, 5, 6};
    float[] step2 = {7, 8, 9};
    float[] other0 = {10, 11};
    assertThat(stale.corrupt("grad", step0)).containsExactly(1, 2, 3);
    assertThat(stale.corrupt("act", other0)).containsExactly(10, 11);
    assertThat(stale.corrupt("grad", step1)).containsExactly(1, 2, 3);
    assertThat(stale.corrupt("grad", step2)).containsExactly(4, 5, 6);

    StepReport r0 = report(0, "a".repeat(64));
    StepReport r1 = report(1, "b".repeat(64));
    assertThat(stale.report(r0)).isEqualTo(r0);
    StepReport lied = stale.report(r1);
    assertThat(lied.step()).isEqualTo(1);
    assertThat(lied.gradientDigest()).isEqualTo(r0.gradientDigest());
    assertThat(lied.parameterDigest()).isEqualTo(r0.parameterDigest());
    assertThat(injector(FaultMode.NOISE).report(r1)).isEqualTo(r1);
  }

  @Test
  void delayBlocksForTheConfiguredTimeAndLeavesTheResult() {
    float[] g = gradient();
    assertThat(injector(FaultMode.DELAY).corrupt("s", g)).containsExactly(gradient());
    assertThat(sleeps).containsExactly(Duration.ofSeconds(5));
  }

  @Test
  void crashHaltsTheProcessBeforeTheResultIsReturned() {
    FaultInjector crash = injector(FaultMode.CRASH);
    assertThatThrownBy(() -> crash.corrupt("s", gradient())).isInstanceOf(Halted.class);
    assertThat(halts).containsExactly(FaultInjector.CRASH_EXIT_STATUS);
  }

  @Test
  void lieCapabilitiesInflatesSpeedAndMemoryAndNothingElse() {
    WorkerCapabilities honest =
        new WorkerCapabilities(
            "w", "pekko://flotilla@h:1", 4, 1L << 30, null, 25.0, "cpu", null, null, Map.of(), 7);
    FaultInjector liar = injector(FaultMode.LIE_CAPABILITIES);
    WorkerCapabilities lie = liar.capabilities(honest);
    assertThat(lie.cpuGflops()).isEqualTo(200.0);
    assertThat(lie.memoryBytes()).isEqualTo(8L << 30);
    assertThat(lie.labels()).isEmpty();
    assertThat(lie.workerId()).isEqualTo("w");
    assertThat(lie.cores()).isEqualTo(4);
    // results of a liar stay correct, and it corrupts no task
    assertThat(liar.corrupt("s", gradient())).containsExactly(gradient());
    assertThat(liar.fires()).isFalse();
    assertThat(injector(FaultMode.NOISE).capabilities(honest)).isEqualTo(honest);
  }

  @Test
  void aCorrectWorkerNeverFiresAndChangesNothing() {
    FaultInjector none = FaultInjector.none();
    assertThat(none.active()).isFalse();
    for (int i = 0; i < 1000; i++) {
      assertThat(none.fires()).isFalse();
    }
    assertThat(none.corrupt("s", gradient())).containsExactly(gradient());
    assertThat(none.maybeCorrupt("s", gradient())).isFalse();
  }

  @Test
  void rateIsTheShareOfTasksCorruptedAndTheSeedMakesItReproducible() {
    FaultSettings settings =
        new FaultSettings(
            FaultMode.ZEROS, 0.3, 42, 0.1, 10, Duration.ofSeconds(1), 8, FaultTarget.PARAMETERS);
    FaultInjector a = new FaultInjector(settings, s -> {}, d -> {});
    FaultInjector b = new FaultInjector(settings, s -> {}, d -> {});
    int fired = 0;
    for (int i = 0; i < 10_000; i++) {
      boolean f = a.fires();
      assertThat(b.fires()).isEqualTo(f);
      fired += f ? 1 : 0;
    }
    assertThat(fired / 10_000.0).isCloseTo(0.3, within(0.02));
  }

  @Test
  void settingsComeFromConfigWithClearErrors() {
    FaultSettings defaults = FaultSettings.create(ConfigFactory.load());
    assertThat(defaults).isEqualTo(FaultSettings.none());
    FaultSettings s =
        FaultSettings.create(
            ConfigFactory.parseMap(
                    Map.of(
                        "flotilla.worker.fault.mode",
                        "flip-signs",
                        "flotilla.worker.fault.rate",
                        0.5,
                        "flotilla.worker.fault.seed",
                        7))
                .withFallback(ConfigFactory.load()));
    assertThat(s.mode()).isEqualTo(FaultMode.FLIP_SIGNS);
    assertThat(s.rate()).isEqualTo(0.5);
    assertThat(s.seed()).isEqualTo(7);
    assertThat(s.target()).isEqualTo(FaultTarget.PARAMETERS);
    assertThat(
            FaultSettings.create(
                    ConfigFactory.parseMap(Map.of("flotilla.worker.fault.target", "Gradients"))
                        .withFallback(ConfigFactory.load()))
                .target())
        .isEqualTo(FaultTarget.GRADIENTS);
    assertThatThrownBy(() -> FaultTarget.parse("weights"))
        .hasMessage("unknown fault target 'weights'; allowed: parameters, gradients");
    assertThatThrownBy(() -> FaultMode.parse("flip"))
        .hasMessage(
            "unknown fault mode 'flip'; allowed: none, noise, flip-signs, scale, zeros, stale,"
                + " delay, crash, lie-capabilities");
    assertThatThrownBy(() -> FaultSettings.none().withMode(FaultMode.NOISE).withRate(0))
        .hasMessageContaining("flotilla.worker.fault.rate must be > 0 and <= 1, was 0.0");
  }

  private static StepReport report(long step, String digest) {
    return new StepReport(
        "job", step, 0, 0, "w", Double.NaN, 8, 8, 1, 0, 0, 1.0, 0.01, digest, digest, "cpu-test");
  }
}
