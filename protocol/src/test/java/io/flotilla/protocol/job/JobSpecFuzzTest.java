package io.flotilla.protocol.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Specs come from strangers: no input may end in anything but a spec or a list of errors. */
class JobSpecFuzzTest {

  private static final String ALPHABET = ":-[]{}\"',#&*!|>0123456789.eE_ \nabcxyz\t";

  @Test
  void mutatedSpecsAreParsedOrRejectedWithErrors() {
    SplittableRandom random = new SplittableRandom(20261122);
    int accepted = 0;
    int rejected = 0;
    for (int round = 0; round < 1000; round++) {
      StringBuilder text = new StringBuilder(JobSpecParserTest.VALID);
      int edits = 1 + random.nextInt(4);
      for (int e = 0; e < edits; e++) {
        int at = random.nextInt(text.length());
        switch (random.nextInt(3)) {
          case 0 -> text.deleteCharAt(at);
          case 1 -> text.insert(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
          default -> text.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
      }
      try {
        JobSpec spec = JobSpecParser.parse(text.toString());
        assertThat(JobSpecParser.parse(JobSpecWriter.toYaml(spec))).isEqualTo(spec);
        accepted++;
      } catch (InvalidJobSpecException expected) {
        assertThat(expected.errors()).isNotEmpty();
        rejected++;
      } catch (RuntimeException | StackOverflowError bug) {
        fail("input crashed the parser:\n" + text, bug);
      }
    }
    assertThat(accepted).isPositive();
    assertThat(rejected).isPositive();
  }
}
