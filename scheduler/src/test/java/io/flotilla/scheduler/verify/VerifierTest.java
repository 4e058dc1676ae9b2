package io.flotilla.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VerifierTest {

  private static final String CPU = "cpu-netlib-amd64";
  private static final String GPU = "cuda-12-sm90";
  private final Verifier verifier = new Verifier(new Tolerance(1e-4, 1e-6), 3);

  static String digest(float[] values) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(values.length * 4);
      for (float v : values) {
        buf.putFloat(v);
      }
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(buf.array()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static float[] tensor(Random random, int n) {
    float[] t = new float[n];
    for (int i = 0; i < n; i++) {
      t[i] = (float) random.nextGaussian();
    }
    return t;
  }

  static float[] perturbed(float[] t, double relative) {
    float[] p = t.clone();
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) (p[i] * (1 + relative));
    }
    return p;
  }

  static Execution cpu(String worker, float[] t) {
    return Execution.ofTensor(worker, CPU, digest(t), t);
  }

  @Test
  void twoBitExactDigestsOfOneClassAreAccepted() {
    float[] t = tensor(new Random(1), 100);
    Verdict v =
        verifier.verify(
            List.of(
                Execution.ofDigest("w1", CPU, digest(t)),
                Execution.ofDigest("w2", CPU, digest(t))));
    assertThat(v).isInstanceOf(Verdict.Accepted.class);
    Verdict.Accepted a = (Verdict.Accepted) v;
    assertThat(a.result().digest()).isEqualTo(digest(t));
    assertThat(a.agreeing()).containsExactly("w1", "w2");
    assertThat(a.dissenting()).isEmpty();
  }

  @Test
  void withinOneClassTheSmallestDifferenceDisagreesEvenWhenWithinTolerance() {
    float[] t = tensor(new Random(2), 100);
    float[] close = t.clone();
    close[7] = Math.nextUp(close[7]);
    Verdict v = verifier.verify(List.of(cpu("w1", t), cpu("w2", close)));
    assertThat(v).isInstanceOf(Verdict.NeedsTiebreak.class);
    assertThat(((Verdict.NeedsTiebreak) v).reason())
        .contains("at most 1 of 2 executions agree, 2 needed");
  }

  @Test
  void aTieBreakerSettlesTheMajorityAndNamesTheDissenter() {
    float[] t = tensor(new Random(3), 50);
    float[] noisy = perturbed(t, 0.01);
    Verdict v = verifier.verify(List.of(cpu("honest", t), cpu("cheat", noisy), cpu("tb", t)));
    assertThat(v).isInstanceOf(Verdict.Accepted.class);
    Verdict.Accepted a = (Verdict.Accepted) v;
    assertThat(a.agreeing()).containsExactly("honest", "tb");
    assertThat(a.dissenting()).containsExactly("cheat");
    assertThat(a.result().digest()).isEqualTo(digest(t));
  }

  @Test
  void aTrustedTieBreakerDecidesAgainstAnUntrustedMajority() {
    float[] t = tensor(new Random(4), 20);
    float[] zeros = new float[20];
    Verdict v =
        verifier.verify(List.of(cpu("c1", zeros), cpu("c2", zeros), cpu("trusted", t).asTrusted()));
    Verdict.Accepted a = (Verdict.Accepted) v;
    assertThat(a.result().workerId()).isEqualTo("trusted");
    assertThat(a.agreeing()).containsExactly("trusted");
    assertThat(a.dissenting()).containsExactly("c1", "c2");
  }

  @Test
  void trustedExecutionsThatDisagreeRejectTheTask() {
    float[] t = tensor(new Random(5), 20);
    Verdict v =
        verifier.verify(
            List.of(cpu("t1", t).asTrusted(), cpu("t2", perturbed(t, 0.5)).asTrusted()));
    assertThat(v).isInstanceOf(Verdict.Rejected.class);
    assertThat(((Verdict.Rejected) v).reason()).contains("trusted executions disagree: t1 and t2");
  }

  @Test
  void noQuorumAfterTheLastAllowedExecutionRejects() {
    Random r = new Random(6);
    Verdict v =
        verifier.verify(
            List.of(cpu("a", tensor(r, 8)), cpu("b", tensor(r, 8)), cpu("c", tensor(r, 8))));
    assertThat(v).isInstanceOf(Verdict.Rejected.class);
    assertThat(((Verdict.Rejected) v).workers()).containsExactly("a", "b", "c");
    assertThat(((Verdict.Rejected) v).reason()).contains("3 executions allowed");
  }

  @Test
  void acrossClassesTensorsWithinToleranceAgreeAndBeyondItDoNot() {
    float[] t = tensor(new Random(7), 1000);
    float[] gpuClose = perturbed(t, 5e-5);
    float[] gpuFar = perturbed(t, 5e-3);
    Verdict ok =
        verifier.verify(
            List.of(cpu("c", t), Execution.ofTensor("g", GPU, digest(gpuClose), gpuClose)));
    assertThat(ok.outcome()).isEqualTo(Verdict.Outcome.ACCEPTED);
    Verdict far =
        verifier.verify(List.of(cpu("c", t), Execution.ofTensor("g", GPU, digest(gpuFar), gpuFar)));
    assertThat(far.outcome()).isEqualTo(Verdict.Outcome.NEEDS_TIEBREAK);
  }

  @Test
  void acrossClassesWithoutTensorsTheVerifierAsksForMoreAndSaysWhy() {
    float[] t = tensor(new Random(8), 10);
    Verdict v =
        verifier.verify(
            List.of(
                Execution.ofDigest("c", CPU, digest(t)), Execution.ofDigest("g", GPU, digest(t))));
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.NEEDS_TIEBREAK);
    assertThat(((Verdict.NeedsTiebreak) v).reason()).contains("cannot be compared");
  }

  @Test
  void onlySixtyFourAsciiHexDigitsAreAWellFormedDigest() {
    String good = "0123456789abcdefABCDEF".repeat(3).substring(0, 64);
    assertThat(Execution.ofDigest("w", CPU, good).hasWellFormedDigest()).isTrue();
    assertThat(Execution.ofDigest("w", CPU, good.substring(1)).hasWellFormedDigest()).isFalse();
    assertThat(Execution.ofDigest("w", CPU, good + "0").hasWellFormedDigest()).isFalse();
    assertThat(Execution.ofDigest("w", CPU, "g" + good.substring(1)).hasWellFormedDigest())
        .isFalse();
    // A full-width digit is a digit to Character.digit, not to a SHA-256 in hex.
    assertThat(Execution.ofDigest("w", CPU, "\uff10" + good.substring(1)).hasWellFormedDigest())
        .isFalse();
  }

  @Test
  void malformedDigestsAndNonFiniteTensorsNeverAgree() {
    float[] t = tensor(new Random(9), 10);
    float[] nan = t.clone();
    nan[3] = Float.NaN;
    Verdict v =
        verifier.verify(
            List.of(
                Execution.ofDigest("bad", CPU, "not-a-digest"),
                Execution.ofTensor("nan", CPU, digest(nan), nan),
                cpu("ok", t)));
    assertThat(v).isInstanceOf(Verdict.Rejected.class);
    assertThat(((Verdict.Rejected) v).reason()).contains("malformed results from bad, nan");
    // The same malformed reports beside an honest majority: accepted, and both dissent.
    Verdict w =
        new Verifier(new Tolerance(1e-4, 1e-6), 5)
            .verify(
                List.of(
                    Execution.ofDigest("bad", CPU, null),
                    Execution.ofTensor("nan", GPU, digest(nan), nan),
                    cpu("ok1", t),
                    cpu("ok2", t),
                    cpu("ok3", t)));
    assertThat(((Verdict.Accepted) w).dissenting()).containsExactly("bad", "nan");
  }

  @Test
  void oneUntrustedExecutionCannotVerifyItself() {
    float[] t = tensor(new Random(10), 10);
    assertThat(verifier.verify(List.of(cpu("solo", t))).outcome())
        .isEqualTo(Verdict.Outcome.NEEDS_TIEBREAK);
    assertThat(verifier.verify(List.of(cpu("solo", t).asTrusted())).outcome())
        .isEqualTo(Verdict.Outcome.ACCEPTED);
  }

  @Test
  void theSameWorkerTwiceOrNoExecutionIsAProgrammingError() {
    float[] t = tensor(new Random(11), 4);
    assertThatThrownBy(() -> verifier.verify(List.of(cpu("w", t), cpu("w", t))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("worker w ran the task twice");
    assertThatThrownBy(() -> verifier.verify(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Verifier(new Tolerance(0, 0), 1))
        .hasMessageContaining("maxExecutions must be >= 2");
  }

  @Test
  void quorumIsAStrictMajorityOfAtLeastTwo() {
    assertThat(Verifier.quorum(1)).isEqualTo(2);
    assertThat(Verifier.quorum(2)).isEqualTo(2);
    assertThat(Verifier.quorum(3)).isEqualTo(2);
    assertThat(Verifier.quorum(4)).isEqualTo(3);
    assertThat(Verifier.quorum(5)).isEqualTo(3);
  }

  /**
   * Property: for random honest results and a random minority of corrupt ones (any corruption, in
   * any order), the verdict accepts the honest digest and names exactly the corrupt workers.
   */
  @Test
  void property_anHonestMajorityAlwaysWinsWhateverTheMinorityDoesAndInAnyOrder() {
    Random random = new Random(42);
    Verifier wide = new Verifier(new Tolerance(1e-4, 1e-6), 7);
    for (int trial = 0; trial < 500; trial++) {
      int n = 2 + random.nextInt(6);
      int corrupt = random.nextInt((n - 1) / 2 + 1);
      if (n - corrupt < Verifier.quorum(n)) {
        corrupt = n - Verifier.quorum(n);
      }
      float[] truth = tensor(random, 1 + random.nextInt(64));
      List<Execution> executions = new ArrayList<>();
      List<String> cheats = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String id = "w" + i;
        if (i < corrupt) {
          float[] bad = corruptCopy(truth, random);
          executions.add(cpu(id, bad));
          cheats.add(id);
        } else {
          executions.add(cpu(id, truth));
        }
      }
      Collections.shuffle(executions, random);
      Verdict v = wide.verify(executions);
      assertThat(v).as("trial %d: %s", trial, executions).isInstanceOf(Verdict.Accepted.class);
      Verdict.Accepted a = (Verdict.Accepted) v;
      assertThat(a.result().digest()).isEqualTo(digest(truth));
      assertThat(a.dissenting()).containsExactlyInAnyOrderElementsOf(cheats);
      assertThat(a.agreeing()).hasSize(n - corrupt);
    }
  }

  /** Property: the verdict's outcome does not depend on the order of the executions. */
  @Test
  void property_outcomeIsIndependentOfOrder() {
    Random random = new Random(7);
    for (int trial = 0; trial < 300; trial++) {
      float[] a = tensor(random, 16);
      float[] b = random.nextBoolean() ? a : tensor(random, 16);
      List<Execution> executions = new ArrayList<>();
      int n = 2 + random.nextInt(2);
      for (int i = 0; i < n; i++) {
        executions.add(cpu("w" + i, random.nextBoolean() ? a : b));
      }
      Verdict.Outcome first = verifier.verify(executions).outcome();
      Collections.shuffle(executions, random);
      assertThat(verifier.verify(executions).outcome()).as("trial %d", trial).isEqualTo(first);
    }
  }

  static float[] corruptCopy(float[] truth, Random random) {
    float[] bad = truth.clone();
    switch (random.nextInt(4)) {
      case 0 -> {
        for (int i = 0; i < bad.length; i++) {
          bad[i] += (float) (random.nextGaussian() * 0.1);
        }
      }
      case 1 -> {
        for (int i = 0; i < bad.length; i++) {
          bad[i] = -bad[i] + (bad[i] == 0 ? 1 : 0);
        }
      }
      case 2 -> java.util.Arrays.fill(bad, 0f);
      default -> bad[random.nextInt(bad.length)] += 1e-3f;
    }
    if (java.util.Arrays.equals(bad, truth)) {
      bad[0] += 1;
    }
    return bad;
  }
}
