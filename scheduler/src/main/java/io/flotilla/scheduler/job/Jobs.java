package io.flotilla.scheduler.job;

import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.job.JobSpec;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.pattern.StatusReply;

/**
 * The scheduler's jobs: starts the sharded job managers and job indexes on a scheduler node and
 * offers their operations as futures, for the HTTP API.
 */
public final class Jobs {

  private final ClusterSharding sharding;
  private final JobSettings settings;

  private final CheckpointStore store;

  private final LinkStore links;

  private Jobs(
      ClusterSharding sharding, JobSettings settings, CheckpointStore store, LinkStore links) {
    this.sharding = sharding;
    this.settings = settings;
    this.store = store;
    this.links = links;
  }

  /** The links between workers this node measured. */
  public LinkStore links() {
    return links;
  }

  /** This node's checkpoint store. */
  public CheckpointStore checkpoints() {
    return store;
  }

  /**
   * Creates the journal tables when configured to, then starts sharding of job managers (with
   * remembered entities, so queued and running jobs come back after a restart) and of job indexes
   * on nodes with the scheduler role.
   *
   * @throws IllegalStateException when the journal's database cannot be reached or prepared
   */
  public static Jobs start(
      ActorSystem<?> system,
      ActorRef<WorkerRegistry.Command> registry,
      JobSettings settings,
      CheckpointStore store,
      ActorRef<io.flotilla.ledger.LedgerBridge.Command> ledger,
      ActorRef<io.flotilla.gossip.reputation.ReputationRegistry.Command> reputation,
      Clock clock) {
    if (settings.createSchema()) {
      JournalSchema.createIfMissing(
          system.settings().config().getConfig(JobSettings.SHARED_DATABASE));
    }
    ClusterSharding sharding = ClusterSharding.get(system);
    LinkStore links = new LinkStore();
    String role = NodeRole.SCHEDULER.roleName();
    sharding.init(
        Entity.of(
                JobManager.TYPE_KEY,
                ctx ->
                    JobManager.create(
                        ctx.getEntityId(),
                        ctx.getShard(),
                        registry,
                        store,
                        ledger,
                        reputation,
                        links,
                        settings,
                        clock))
            .withRole(role)
            .withSettings(
                ClusterShardingSettings.create(system)
                    .withRole(role)
                    .withRememberEntities(true)
                    .withRememberEntitiesStoreMode(
                        ClusterShardingSettings.rememberEntitiesStoreModeEventSourced())));
    sharding.init(
        Entity.of(
                JobIndex.TYPE_KEY,
                ctx -> JobIndex.create(ctx.getEntityId(), settings.snapshotEveryEvents()))
            .withRole(role));
    return new Jobs(sharding, settings, store, links);
  }

  /** The settings these jobs run with. */
  public JobSettings settings() {
    return settings;
  }

  /** Submits {@code spec} for {@code team} under a new job id; completes with its state. */
  public CompletionStage<JobView> submit(String team, JobSpec spec) {
    return submit(team, spec, null);
  }

  /**
   * Submits {@code spec} for {@code team}; completes with its state. With an {@code idempotencyKey}
   * the job id is derived from the team and the key, so a client that submits again after a timeout
   * or a lost answer gets the job it already created, not a second one; the same key with another
   * spec fails naming the job.
   *
   * @param idempotencyKey null for a new job id, else 1 to 128 printable ASCII characters
   * @throws IllegalArgumentException when the key is not one
   */
  public CompletionStage<JobView> submit(String team, JobSpec spec, String idempotencyKey) {
    String jobId = idempotencyKey == null ? newJobId() : jobIdFor(team, idempotencyKey);
    // The team's index lists the id before the job exists: a node that crashes between the two
    // writes leaves an id with no job (which list() leaves out), never a job nobody can list.
    return sharding
        .entityRefFor(JobIndex.TYPE_KEY, team)
        .<Done>askWithStatus(replyTo -> new JobIndex.Add(jobId, replyTo), settings.askTimeout())
        .thenCompose(
            listed ->
                sharding
                    .entityRefFor(JobManager.TYPE_KEY, jobId)
                    .askWithStatus(
                        replyTo -> new JobManager.Submit(spec, team, replyTo),
                        settings.askTimeout()));
  }

  /** The state of job {@code jobId} ({@link JobView.Phase#NEW} when there is none). */
  public CompletionStage<JobView> get(String jobId) {
    return sharding
        .entityRefFor(JobManager.TYPE_KEY, jobId)
        .ask(JobManager.Get::new, settings.askTimeout());
  }

  /**
   * The state of {@code team}'s job {@code jobId}, or {@link JobView.Phase#NEW} when the team's
   * index does not list it. An id the team never submitted does not start a job manager: Cluster
   * Sharding remembers every job manager it starts, so reads of made-up ids must not create them.
   */
  public CompletionStage<JobView> get(String team, String jobId) {
    return sharding
        .entityRefFor(JobIndex.TYPE_KEY, team)
        .<JobIndex.Listed>ask(
            replyTo -> new JobIndex.Contains(jobId, replyTo), settings.askTimeout())
        .thenCompose(
            listed ->
                listed.listed()
                    ? get(jobId)
                    : CompletableFuture.completedFuture(JobView.empty(jobId)));
  }

  /** The states of {@code team}'s jobs, oldest first. */
  public CompletionStage<List<JobView>> list(String team) {
    return sharding
        .entityRefFor(JobIndex.TYPE_KEY, team)
        .ask(JobIndex.GetJobIds::new, settings.askTimeout())
        .thenCompose(
            ids -> {
              List<CompletableFuture<JobView>> views =
                  ids.ids().stream().map(id -> get(id).toCompletableFuture()).toList();
              // An id listed by a submission that never reached its job manager has no job.
              return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
                  .thenApply(
                      v ->
                          views.stream()
                              .map(CompletableFuture::join)
                              .filter(view -> view.phase() != JobView.Phase.NEW)
                              .toList());
            });
  }

  /**
   * Cancels job {@code jobId} for {@code team}; fails with a {@link StatusReply.ErrorMessage} when
   * the team has no such job or the job has already ended.
   */
  public CompletionStage<JobView> cancel(String team, String jobId) {
    return sharding
        .entityRefFor(JobManager.TYPE_KEY, jobId)
        .askWithStatus(replyTo -> new JobManager.Cancel(team, replyTo), settings.askTimeout());
  }

  /** The job id an idempotency key of {@code team} stands for. */
  static String jobIdFor(String team, String idempotencyKey) {
    if (idempotencyKey.isEmpty()
        || idempotencyKey.length() > 128
        || !idempotencyKey.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException(
          "an idempotency key must be 1 to 128 printable ASCII characters without spaces");
    }
    byte[] digest;
    try {
      digest =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(
                  (team + "\n" + idempotencyKey).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    return "j-" + java.util.HexFormat.of().formatHex(digest, 0, 6);
  }

  private static String newJobId() {
    return "j-" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }
}
