package io.flotilla.loadtest;

import com.typesafe.config.Config;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;

/**
 * One fork-join pool, sized by the machine's cores, that the dispatchers of every node of a load
 * cluster run on (configured as their {@code executor} in {@code flotilla/load-test.conf}).
 *
 * <p>The load cluster puts a seed, scheduler nodes and several volunteer hosts into one process.
 * With a pool per dispatcher per node, ten nodes start some 50 threads on two cores, and every
 * message between nodes wakes a parked thread of another pool only to park it again: a profile of a
 * 100-worker run spent a fifth of its CPU samples in parking and waking threads. On the shared pool
 * a message is mostly run by a thread that is already awake. Each node's dispatchers see their own
 * view of the pool; shutting a node down does not stop the pool (its threads are daemons). Cluster
 * heartbeats keep a dispatcher of their own, so a busy pool cannot delay them.
 */
public final class SharedPool extends ExecutorServiceConfigurator {

  private static final ForkJoinPool POOL =
      new ForkJoinPool(
          Runtime.getRuntime().availableProcessors(),
          new ForkJoinPool.ForkJoinWorkerThreadFactory() {
            private final AtomicInteger next = new AtomicInteger();

            @Override
            public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
              ForkJoinWorkerThread t =
                  ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
              t.setName("flotilla-load-shared-" + next.incrementAndGet());
              t.setDaemon(true);
              return t;
            }
          },
          null,
          true);

  /** Called reflectively by Pekko with the dispatcher's configuration. */
  public SharedPool(Config config, DispatcherPrerequisites prerequisites) {
    super(config, prerequisites);
  }

  @Override
  public ExecutorServiceFactory createExecutorServiceFactory(String id, ThreadFactory unused) {
    return NodeView::new;
  }

  /** A node's dispatcher's view of the shared pool: shutting it down leaves the pool running. */
  private static final class NodeView extends AbstractExecutorService {
    private volatile boolean shutdown;

    @Override
    public void execute(Runnable task) {
      POOL.execute(task);
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return shutdown;
    }
  }
}
