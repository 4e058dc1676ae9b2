package io.flotilla.scheduler.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;

import io.flotilla.scheduler.job.Jobs;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/** The jobs API and the web dashboard, bound to their port on a scheduler node. */
public final class JobsApi implements AutoCloseable {

  private final ServerBinding binding;

  private JobsApi(ServerBinding binding) {
    this.binding = binding;
  }

  /**
   * Binds the API and waits until it listens.
   *
   * @throws IllegalStateException when the address cannot be bound, naming it
   */
  public static JobsApi start(ActorSystem<?> system, Jobs jobs, HttpSettings settings) {
    try {
      JobRoutes jobRoutes = new JobRoutes(system, jobs, settings);
      CheckpointRoutes checkpointRoutes = new CheckpointRoutes(system, jobs.checkpoints());
      DashboardRoutes dashboardRoutes = new DashboardRoutes(system, jobs.settings().askTimeout());
      // One error handler over all routes, so that a path one of them knows answers 405 for a
      // method it does not support rather than another's 404.
      ServerBinding binding =
          Http.get(system)
              .newServerAt(settings.host(), settings.port())
              .bind(
                  jobRoutes.withErrors(
                      () ->
                          concat(
                              checkpointRoutes.route(),
                              dashboardRoutes.route(),
                              jobRoutes.jobsRoute())))
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      return new JobsApi(binding);
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException(
          "cannot serve the jobs API on "
              + settings.host()
              + ":"
              + settings.port()
              + " (flotilla.scheduler.http): "
              + cause.getMessage(),
          cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the jobs API", e);
    }
  }

  /** The port the API listens on. */
  public int port() {
    return binding.localAddress().getPort();
  }

  /** The API's base URL, e.g. {@code http://127.0.0.1:8080}. */
  public String url() {
    return "http://" + binding.localAddress().getHostString() + ":" + port();
  }

  /** Stops accepting connections. */
  @Override
  public void close() {
    binding.unbind();
  }
}
