package io.flotilla.scheduler.job;

import io.flotilla.scheduler.planner.Link;
import io.flotilla.scheduler.planner.LinkMatrix;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The links between workers this scheduler node has measured over the data plane (job drivers probe
 * the links of a placement before its first step); the planner uses them for every later placement.
 * Pairs never measured count as {@link Link#UNMEASURED}.
 */
public final class LinkStore {
  private final AtomicReference<LinkMatrix> matrix = new AtomicReference<>(LinkMatrix.unmeasured());

  /** The links measured so far. */
  public LinkMatrix matrix() {
    return matrix.get();
  }

  /** Whether the link between {@code a} and {@code b} was measured. */
  public boolean measured(String a, String b) {
    return matrix.get().measured().containsKey(LinkMatrix.key(a, b));
  }

  /** Records a measurement of the link between {@code a} and {@code b}. */
  public void record(String a, String b, Link link) {
    matrix.updateAndGet(m -> m.with(a, b, link));
  }
}
