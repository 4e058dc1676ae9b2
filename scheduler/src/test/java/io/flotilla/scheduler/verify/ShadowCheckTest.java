package io.flotilla.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.task.StepReport;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShadowCheckTest {

  private static final String CPU = "cpu-test";
  private final Verifier verifier = new Verifier(new Tolerance(1e-4, 1e-6), 3);

  private static String hex(String seed) {
    return VerifierTest.digest(new float[] {seed.hashCode(), seed.length()});
  }

  /** A traced report whose digests are named after what an honest stage would compute. */
  private static StepReport honest(String worker, int stage) {
    return traced(worker, stage, "f" + stage, "b" + stage, "u" + stage);
  }

  private static StepReport traced(
      String worker, int stage, String forward, String backward, String update) {
    return new StepReport(
        "job",
        4,
        stage,
        0,
        worker,
        Double.NaN,
        8,
        8,
        1,
        0,
        0,
        1,
        1e-3,
        "",
        hex(update),
        CPU,
        hex(forward),
        hex(backward));
  }

  private static List<StepReport> run(String prefix, int stages) {
    List<StepReport> run = new ArrayList<>();
    for (int k = 0; k < stages; k++) {
      run.add(honest(prefix + k, k));
    }
    return run;
  }

  @Test
  void runsThatAgreeEverywhereHaveNoDivergenceAndEveryPositionIsJudgedInFlowOrder() {
    ShadowCheck.Result r =
        ShadowCheck.compare(verifier, 3, true, List.of(run("w", 3), run("s", 3)));

    assertThat(r.divergence()).isNull();
    assertThat(r.judged())
        .extracting(j -> j.part() + "" + j.stage())
        .containsExactly(
            "FORWARD0",
            "FORWARD1",
            "FORWARD2",
            "BACKWARD2",
            "BACKWARD1",
            "BACKWARD0",
            "UPDATE0",
            "UPDATE1",
            "UPDATE2");
    assertThat(ShadowCheck.compare(verifier, 3, false, List.of(run("w", 3), run("s", 3))).judged())
        .hasSize(6);
  }

  @Test
  void aForwardLieIsPinnedOnItsStageNotOnTheHonestStagesDownstream() {
    // w1 sends wrong activations; w2 computes on them and differs too, but is not judged.
    List<StepReport> own =
        List.of(
            honest("w0", 0),
            traced("w1", 1, "lie", "b1x", "u1x"),
            traced("w2", 2, "f2x", "b2x", "u2x"));
    ShadowCheck.Result two = ShadowCheck.compare(verifier, 3, false, List.of(own, run("s", 3)));
    assertThat(two.divergence().verdict()).isInstanceOf(Verdict.NeedsTiebreak.class);
    assertThat(two.divergence().stage()).isEqualTo(1);

    ShadowCheck.Result three =
        ShadowCheck.compare(verifier, 3, false, List.of(own, run("s", 3), run("t", 3)));
    ShadowCheck.Judged at = three.divergence();
    assertThat(at.stage()).isEqualTo(1);
    assertThat(at.part()).isEqualTo(ShadowCheck.Part.FORWARD);
    assertThat(((Verdict.Accepted) at.verdict()).dissenting()).containsExactly("w1");
    assertThat(three.judged()).hasSize(2);
  }

  @Test
  void aPoisonedLocalGradientIsCaughtOnTheBackwardPassOfItsStage() {
    List<StepReport> own = List.of(honest("w0", 0), traced("w1", 1, "f1", "poison", "u1"));
    ShadowCheck.Judged at =
        ShadowCheck.compare(verifier, 2, false, List.of(own, run("s", 2), run("t", 2)))
            .divergence();

    assertThat(at.part()).isEqualTo(ShadowCheck.Part.BACKWARD);
    assertThat(at.stage()).isEqualTo(1);
    assertThat(((Verdict.Accepted) at.verdict()).dissenting()).containsExactly("w1");
  }

  @Test
  void aLyingShadowIsOutvotedByTheRunAndTheTieBreaker() {
    List<StepReport> lyingShadow = List.of(traced("s0", 0, "f0", "b0", "wrong"));
    ShadowCheck.Judged at =
        ShadowCheck.compare(verifier, 1, true, List.of(run("w", 1), lyingShadow, run("t", 1)))
            .divergence();

    assertThat(at.part()).isEqualTo(ShadowCheck.Part.UPDATE);
    Verdict.Accepted a = (Verdict.Accepted) at.verdict();
    assertThat(a.dissenting()).containsExactly("s0");
    assertThat(a.agreeing()).containsExactlyInAnyOrder("w0", "t0");
  }

  @Test
  void aReportThatWasNotTracedAgreesWithNothing() {
    StepReport untraced =
        new StepReport(
            "job", 4, 0, 0, "w0", Double.NaN, 8, 8, 1, 0, 0, 1, 1e-3, "", hex("u0"), CPU);
    ShadowCheck.Judged at =
        ShadowCheck.compare(
                verifier, 1, false, List.of(List.of(untraced), run("s", 1), run("t", 1)))
            .divergence();

    assertThat(((Verdict.Accepted) at.verdict()).dissenting()).containsExactly("w0");
  }

  @Test
  void runsMustHoldOneReportPerStageInOrder() {
    assertThatThrownBy(() -> ShadowCheck.compare(verifier, 2, false, List.of(run("w", 2))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the run and a shadow");
    assertThatThrownBy(
            () -> ShadowCheck.compare(verifier, 2, false, List.of(run("w", 2), run("s", 1))))
        .hasMessageContaining("one report per stage (2), got 1");
    assertThatThrownBy(
            () ->
                ShadowCheck.compare(
                    verifier,
                    2,
                    false,
                    List.of(run("w", 2), List.of(honest("s1", 1), honest("s0", 0)))))
        .hasMessageContaining("report 0 of a run is of stage 1");
  }
}
