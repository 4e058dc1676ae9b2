package io.flotilla.scheduler.verify;

import java.util.List;
import java.util.Objects;

/** What the {@link Verifier} decided about the executions of one task. */
public sealed interface Verdict {

  /** The three outcomes. */
  enum Outcome {
    /** A quorum (or a trusted worker) vouches for one result; it may enter the model. */
    ACCEPTED,
    /** No quorum yet: run the task once more, on a trusted worker, and verify again. */
    NEEDS_TIEBREAK,
    /** No quorum and no more executions allowed: no result of this task may enter the model. */
    REJECTED
  }

  /** The outcome. */
  Outcome outcome();

  /**
   * A result was accepted.
   *
   * @param result the execution whose result is applied
   * @param agreeing workers whose results agree with it (valid results), in the order given
   * @param dissenting the other workers (invalid results), in the order given
   */
  record Accepted(Execution result, List<String> agreeing, List<String> dissenting)
      implements Verdict {
    public Accepted {
      Objects.requireNonNull(result, "result");
      agreeing = List.copyOf(agreeing);
      dissenting = List.copyOf(dissenting);
    }

    @Override
    public Outcome outcome() {
      return Outcome.ACCEPTED;
    }
  }

  /**
   * The executions do not settle it yet.
   *
   * @param reason why, for the log
   * @param workers the workers that ran it so far
   */
  record NeedsTiebreak(String reason, List<String> workers) implements Verdict {
    public NeedsTiebreak {
      workers = List.copyOf(workers);
    }

    @Override
    public Outcome outcome() {
      return Outcome.NEEDS_TIEBREAK;
    }
  }

  /**
   * Every result of the task is discarded; the task must be run again from scratch.
   *
   * @param reason why, for the log
   * @param workers the workers whose results were discarded
   */
  record Rejected(String reason, List<String> workers) implements Verdict {
    public Rejected {
      workers = List.copyOf(workers);
    }

    @Override
    public Outcome outcome() {
      return Outcome.REJECTED;
    }
  }
}
