package io.flotilla.gossip.placement;

import io.flotilla.protocol.ControlMessage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * This node's view of where the cluster's jobs run: job id -&gt; the workers of its current plan, a
 * Distributed Data {@link LWWMap} that every scheduler node replicates ({@link
 * io.flotilla.gossip.SchedulerState}). Job managers, on whatever scheduler node they live, {@link
 * Hold} their workers while a plan runs and {@link Free} them when it stops, so that the planner of
 * any job can prefer workers that hold no other job's stage.
 *
 * <p>The board is advice, not a lock: writes are local and spread by gossip, so two jobs planned at
 * the same moment on two nodes may still pick the same worker (a worker runs several jobs' stages
 * at once; it is only slower). Each change is published as an immutable {@link Loads} snapshot that
 * readers on the node take without a message round trip ({@link PlacementBoardExtension#loads()}).
 */
public final class PlacementBoard extends AbstractBehavior<PlacementBoard.Command> {

  /** The replicated map's key; part of the cluster's shared state. */
  public static final Key<LWWMap<String, JobPlacement>> KEY =
      LWWMapKey.create("flotilla-placements");

  /** Messages the board understands. */
  public sealed interface Command extends ControlMessage {}

  /** The workers a job's plan runs on. */
  public record JobPlacement(List<String> workerIds) implements ControlMessage {
    public JobPlacement {
      workerIds = List.copyOf(workerIds);
    }
  }

  /** Job {@code jobId} now runs on {@code workerIds} (replacing what it held before). */
  public record Hold(String jobId, List<String> workerIds) implements Command {
    public Hold {
      Objects.requireNonNull(jobId, "jobId");
      workerIds = List.copyOf(workerIds);
    }
  }

  /** Job {@code jobId} holds no worker any more. */
  public record Free(String jobId) implements Command {
    public Free {
      Objects.requireNonNull(jobId, "jobId");
    }
  }

  /**
   * How many jobs' plans each worker is in, and which.
   *
   * @param jobsByWorker worker id -&gt; the jobs whose current plan uses it (workers in no plan are
   *     absent)
   */
  public record Loads(Map<String, List<String>> jobsByWorker) {
    /** No job holds any worker. */
    public static final Loads NONE = new Loads(Map.of());

    public Loads {
      jobsByWorker = Map.copyOf(jobsByWorker);
    }

    /** Jobs other than {@code jobId} whose plan uses {@code workerId}. */
    public int otherJobs(String workerId, String jobId) {
      List<String> jobs = jobsByWorker.get(workerId);
      if (jobs == null) {
        return 0;
      }
      return jobs.contains(jobId) ? jobs.size() - 1 : jobs.size();
    }
  }

  private record InternalChanged(Replicator.SubscribeResponse<LWWMap<String, JobPlacement>> r)
      implements Command, NoSerializationVerificationNeeded {}

  private record InternalUpdated(Replicator.UpdateResponse<LWWMap<String, JobPlacement>> r)
      implements Command, NoSerializationVerificationNeeded {}

  /** Creates the board of one node, publishing every change to {@code published}. */
  static Behavior<Command> create(
      AtomicReference<Loads> published,
      org.apache.pekko.actor.typed.ActorRef<Replicator.Command> replicator,
      java.time.Duration unexpectedAskTimeout) {
    return Behaviors.setup(
        ctx ->
            new PlacementBoard(
                ctx,
                new ReplicatorMessageAdapter<>(ctx, replicator, unexpectedAskTimeout),
                replicator,
                published));
  }

  private final ReplicatorMessageAdapter<Command, LWWMap<String, JobPlacement>> adapter;
  private final org.apache.pekko.actor.typed.ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  private final AtomicReference<Loads> published;
  private final org.apache.pekko.actor.typed.ActorRef<
          Replicator.UpdateResponse<LWWMap<String, JobPlacement>>>
      updated;

  /**
   * The replicated entries as last notified, with this node's own holds and frees applied at once
   * (the replicator notifies subscribers in batches, every half second by default: jobs planned in
   * between on this node must still see each other).
   */
  private final Map<String, JobPlacement> entries = new HashMap<>();

  private PlacementBoard(
      ActorContext<Command> context,
      ReplicatorMessageAdapter<Command, LWWMap<String, JobPlacement>> adapter,
      org.apache.pekko.actor.typed.ActorRef<Replicator.Command> replicator,
      AtomicReference<Loads> published) {
    super(context);
    this.adapter = adapter;
    this.replicator = replicator;
    this.self = DistributedData.get(context.getSystem()).selfUniqueAddress();
    this.published = published;
    @SuppressWarnings("unchecked")
    Class<Replicator.UpdateResponse<LWWMap<String, JobPlacement>>> responses =
        (Class<Replicator.UpdateResponse<LWWMap<String, JobPlacement>>>)
            (Class<?>) Replicator.UpdateResponse.class;
    this.updated = context.messageAdapter(responses, InternalUpdated::new);
    adapter.subscribe(KEY, InternalChanged::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Hold.class, this::onHold)
        .onMessage(Free.class, this::onFree)
        .onMessage(InternalChanged.class, this::onChanged)
        .onMessage(InternalUpdated.class, m -> this)
        .build();
  }

  private Behavior<Command> onHold(Hold cmd) {
    JobPlacement placement = new JobPlacement(cmd.workerIds());
    entries.put(cmd.jobId(), placement);
    publish();
    update(map -> map.put(self, cmd.jobId(), placement));
    return this;
  }

  private Behavior<Command> onFree(Free cmd) {
    if (entries.remove(cmd.jobId()) != null) {
      publish();
    }
    update(map -> map.contains(cmd.jobId()) ? map.remove(self, cmd.jobId()) : map);
    return this;
  }

  /**
   * A local write, told rather than asked: an ask that a backlogged replicator answers late would
   * fail this actor, and a late local write is still a write.
   */
  private void update(
      java.util.function.Function<LWWMap<String, JobPlacement>, LWWMap<String, JobPlacement>> f) {
    replicator.tell(
        new Replicator.Update<>(KEY, LWWMap.empty(), Replicator.writeLocal(), updated, f::apply));
  }

  private Behavior<Command> onChanged(InternalChanged msg) {
    if (msg.r() instanceof Replicator.Changed<LWWMap<String, JobPlacement>> changed) {
      entries.clear();
      entries.putAll(changed.get(KEY).getEntries());
      publish();
    } else if (msg.r() instanceof Replicator.Deleted<?>) {
      entries.clear();
      publish();
    }
    return this;
  }

  private void publish() {
    Map<String, List<String>> byWorker = new HashMap<>();
    for (Map.Entry<String, JobPlacement> e : entries.entrySet()) {
      for (String worker : e.getValue().workerIds()) {
        byWorker.computeIfAbsent(worker, k -> new java.util.ArrayList<>()).add(e.getKey());
      }
    }
    published.set(new Loads(byWorker));
  }
}
