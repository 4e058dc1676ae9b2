package io.flotilla.loadtest;

import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.ledger.LedgerBridge;
import io.flotilla.ledger.PaymentTerms;
import io.flotilla.scheduler.SchedulerNode;
import io.flotilla.scheduler.job.JobEvent;
import io.flotilla.scheduler.job.JobManager;
import io.flotilla.scheduler.job.JobPayments;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.StepMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The invariants every scenario checks after its run, against the scheduler's journal, the ledger
 * and the simulator's own record of what the workers did:
 *
 * <ul>
 *   <li>every job ended: completed, or failed with a reason;
 *   <li>the journal of every job holds each step once and in order (after each resume), and a
 *       completed job all of its steps;
 *   <li>no corrupted result reached a journal (the simulator marks corrupted reports);
 *   <li>no honest worker was quarantined;
 *   <li>the ledger paid exactly what the scheduler recorded, settled all of it, paid no receipt no
 *       worker signed, and paid a completed job exactly one receipt per step and slot.
 * </ul>
 */
final class Invariants {

  private final ScenarioParameters p;
  private final Simulation sim;
  private final LoadCluster cluster;
  private final ActorRef<LedgerBridge.Command> ledger;
  private final TestProbe<Object> probe;
  private final Set<String> faulty;
  private final Set<String> busy = new HashSet<>();
  private final Map<String, Long> interruptions = new TreeMap<>();

  Invariants(
      ScenarioParameters p,
      Simulation sim,
      LoadCluster cluster,
      ActorRef<LedgerBridge.Command> ledger,
      TestProbe<Object> probe,
      Set<String> faulty) {
    this.p = p;
    this.sim = sim;
    this.cluster = cluster;
    this.ledger = ledger;
    this.probe = probe;
    this.faulty = faulty;
  }

  long busyWorkers() {
    return busy.size();
  }

  Map<String, Long> interruptions() {
    return interruptions;
  }

  List<ScenarioResult.Check> check(Map<String, JobView> jobs) {
    List<ScenarioResult.Check> checks = new ArrayList<>();
    checks.add(allEnded(jobs));
    checks.addAll(journal(jobs));
    checks.add(honestNotQuarantined());
    if (p.paid()) {
      checks.add(payments(jobs));
    }
    return checks;
  }

  private ScenarioResult.Check allEnded(Map<String, JobView> jobs) {
    List<String> bad = new ArrayList<>();
    for (JobView v : jobs.values()) {
      boolean ok =
          v.phase() == JobView.Phase.COMPLETED
              || (v.phase() == JobView.Phase.FAILED
                  && v.failureReason() != null
                  && !v.failureReason().isBlank());
      if (!ok) {
        bad.add(v.jobId() + " " + v.phase() + " (" + v.failureReason() + ")");
      }
    }
    boolean some = !jobs.isEmpty();
    return new ScenarioResult.Check(
        "every job completed or failed with a reason",
        some && bad.isEmpty(),
        !some
            ? "no job was submitted"
            : bad.isEmpty() ? jobs.size() + " jobs ended" : bad.size() + " did not: " + first(bad));
  }

  private List<ScenarioResult.Check> journal(Map<String, JobView> jobs) {
    SchedulerNode s = cluster.liveScheduler();
    JdbcReadJournal read =
        PersistenceQuery.get(Adapter.toClassic(s.node().system()))
            .getReadJournalFor(JdbcReadJournal.class, "flotilla.scheduler.persistence.query");
    List<String> order = new ArrayList<>();
    List<String> corrupted = new ArrayList<>();
    long applied = 0;
    for (JobView v : jobs.values()) {
      List<Object> events;
      try {
        events =
            read.currentEventsByPersistenceId(
                    JobManager.persistenceId(v.jobId()), 0, Long.MAX_VALUE)
                .map(EventEnvelope::event)
                .runWith(Sink.seq(), s.node().system())
                .toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        order.add(v.jobId() + ": journal unreadable: " + e);
        continue;
      }
      long last = 0;
      for (Object e : events) {
        if (e instanceof JobEvent.JobStarted started) {
          if (started.fromStep() > last) {
            order.add(v.jobId() + " resumed at " + started.fromStep() + " after step " + last);
          }
          last = started.fromStep();
        } else if (e instanceof JobEvent.StepCompleted c) {
          if (c.metrics().step() != last + 1) {
            order.add(v.jobId() + " journaled step " + c.metrics().step() + " after " + last);
          }
          last = c.metrics().step();
          for (StepMetrics.SlotWork w : c.metrics().work()) {
            busy.add(w.workerId());
            applied++;
            if ((w.computeNanos() & 1) == 1) {
              corrupted.add(v.jobId() + " step " + last + " from " + w.workerId());
            }
          }
        } else if (e instanceof JobEvent.JobInterrupted i) {
          String cause = cause(i.reason());
          interruptions.merge(cause, 1L, Long::sum);
          if (cause.equals("results disagreed")) {
            sim.metrics().rejected();
          }
        }
      }
      if (v.phase() == JobView.Phase.COMPLETED && last != p.stepsPerJob()) {
        order.add(v.jobId() + " completed with " + last + " of " + p.stepsPerJob() + " steps");
      }
    }
    return List.of(
        new ScenarioResult.Check(
            "every journal holds each step once, in order",
            order.isEmpty(),
            order.isEmpty() ? applied + " slot results journaled" : first(order)),
        new ScenarioResult.Check(
            "no corrupted result applied",
            corrupted.isEmpty(),
            sim.corruptedResults()
                + " corrupted results sent, "
                + corrupted.size()
                + " journaled"
                + (corrupted.isEmpty() ? "" : ": " + first(corrupted))));
  }

  private static String cause(String reason) {
    if (reason == null) {
      return "unknown";
    }
    if (reason.contains("report different parameters")) {
      return "results disagreed";
    }
    if (reason.contains("left the cluster")) {
      return "worker left";
    }
    if (reason.contains("stopped")) {
      return "stage host stopped";
    }
    if (reason.contains("in time")) {
      return "deadline";
    }
    if (reason.contains("failed")) {
      return "stage failed";
    }
    return "other";
  }

  private ScenarioResult.Check honestNotQuarantined() {
    SchedulerNode s = cluster.liveScheduler();
    Map<String, WorkerReputation> all;
    try {
      all =
          AskPattern.<ReputationRegistry.Command, ReputationRegistry.Reputations>ask(
                  s.node().reputation(),
                  ReputationRegistry.GetReputations::new,
                  Duration.ofSeconds(10),
                  s.node().system().scheduler())
              .toCompletableFuture()
              .get(15, TimeUnit.SECONDS)
              .byId();
    } catch (Exception e) {
      return new ScenarioResult.Check(
          "no honest worker quarantined", false, "reputations unreadable: " + e);
    }
    List<String> wrong = new ArrayList<>();
    long quarantined = 0;
    for (WorkerReputation r : all.values()) {
      if (r.quarantined()) {
        quarantined++;
        if (!faulty.contains(r.workerId())) {
          wrong.add(r.workerId() + " (" + r.quarantineReason() + ")");
        }
      }
    }
    return new ScenarioResult.Check(
        "no honest worker quarantined",
        wrong.isEmpty(),
        quarantined
            + " quarantined of "
            + faulty.size()
            + " faulty"
            + (wrong.isEmpty() ? "" : "; honest: " + first(wrong)));
  }

  private ScenarioResult.Check payments(Map<String, JobView> jobs) {
    List<String> bad = new ArrayList<>();
    long paidReceipts = 0;
    for (JobView v : jobs.values()) {
      if (v.spec() == null) {
        continue;
      }
      LedgerBridge.JobStatus status = status(ledger, v.jobId(), cluster);
      PaymentTerms terms = JobPayments.terms(v.spec(), unitsPerCurrency());
      long perReceipt = terms.unitsPerBasis();
      Set<String> signed = sim.signedReceipts(v.jobId());
      if (status == null) {
        if (!signed.isEmpty()) {
          bad.add(v.jobId() + ": " + signed.size() + " receipts signed, none reached the ledger");
        }
        continue;
      }
      long receipts = status.committed() / perReceipt;
      paidReceipts += receipts;
      if (status.committed() % perReceipt != 0) {
        bad.add(v.jobId() + ": committed " + status.committed() + " is no whole receipt count");
      }
      if (status.committed() != v.spentUnits()) {
        bad.add(
            v.jobId()
                + ": ledger committed "
                + status.committed()
                + ", scheduler recorded "
                + v.spentUnits());
      }
      if (status.settled() != status.committed()) {
        bad.add(v.jobId() + ": settled " + status.settled() + " of " + status.committed());
      }
      if (receipts > signed.size()) {
        bad.add(v.jobId() + ": " + receipts + " receipts paid, " + signed.size() + " signed");
      }
      long expected = (long) p.stepsPerJob() * p.slotsPerJob();
      if (v.phase() == JobView.Phase.COMPLETED && faulty.isEmpty() && receipts != expected) {
        bad.add(v.jobId() + ": " + receipts + " receipts paid, expected " + expected);
      }
    }
    return new ScenarioResult.Check(
        "no payment lost or doubled",
        bad.isEmpty(),
        bad.isEmpty() ? paidReceipts + " receipts paid and settled exactly once" : first(bad));
  }

  private long unitsPerCurrency() {
    return cluster
        .liveScheduler()
        .node()
        .system()
        .settings()
        .config()
        .getLong("flotilla.scheduler.payment.units-per-currency-unit");
  }

  /** The ledger's view of a job's escrow, or null when the ledger has no such job. */
  static LedgerBridge.JobStatus status(
      ActorRef<LedgerBridge.Command> ledger, String jobId, LoadCluster cluster) {
    try {
      StatusReply<LedgerBridge.JobStatus> r =
          AskPattern.<LedgerBridge.Command, StatusReply<LedgerBridge.JobStatus>>ask(
                  ledger,
                  replyTo -> new LedgerBridge.GetJob(jobId, replyTo),
                  Duration.ofSeconds(10),
                  cluster.seed().system().scheduler())
              .toCompletableFuture()
              .get(15, TimeUnit.SECONDS);
      return r.isSuccess() ? r.getValue() : null;
    } catch (Exception e) {
      return null;
    }
  }

  /**
   * Waits until the ledger settled what it committed for every paid job that ended, the job
   * recorded what the ledger committed, and (without faulty workers) a completed job was paid for
   * every step and slot: payments may trail the job's end, notably when the manager that pays moved
   * to another scheduler node.
   */
  void awaitSettled(Map<String, JobView> jobs, Duration timeout) {
    try {
      probe.awaitAssert(
          timeout,
          Duration.ofMillis(500),
          () -> {
            for (JobView v : jobs.values()) {
              JobView now =
                  cluster
                      .liveScheduler()
                      .jobs()
                      .get(v.jobId())
                      .toCompletableFuture()
                      .get(15, TimeUnit.SECONDS);
              jobs.put(v.jobId(), now);
              LedgerBridge.JobStatus s = status(ledger, v.jobId(), cluster);
              if (s != null
                  && (s.settled() != s.committed() || s.committed() != now.spentUnits())) {
                throw new AssertionError(v.jobId() + " not settled yet");
              }
              if (now.phase() == JobView.Phase.COMPLETED
                  && faulty.isEmpty()
                  && now.spec() != null) {
                long expected =
                    (long) p.stepsPerJob()
                        * p.slotsPerJob()
                        * JobPayments.terms(now.spec(), unitsPerCurrency()).unitsPerBasis();
                if (s == null
                    ? !sim.signedReceipts(v.jobId()).isEmpty()
                    : s.committed() < expected) {
                  throw new AssertionError(v.jobId() + " not paid in full yet");
                }
              }
            }
            return null;
          });
    } catch (AssertionError e) {
      // reported by the payment invariant
    }
  }

  private static String first(List<String> items) {
    return items.size() <= 3
        ? String.join("; ", items)
        : String.join("; ", items.subList(0, 3)) + "; ...";
  }
}
