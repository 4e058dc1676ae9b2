package io.flotilla.scheduler.job;

import io.flotilla.scheduler.verify.VerificationLogWriter;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The one {@link VerificationLogWriter} of a scheduler node, shared by the step drivers of all its
 * jobs ({@code flotilla.scheduler.jobs.verification-log-linger} sets how long it groups verdicts);
 * it writes what it holds and closes its files when the node's actor system terminates.
 */
public final class VerificationLogs implements Extension {

  /** The extension's id. */
  public static final ExtensionId<VerificationLogs> ID =
      new ExtensionId<>() {
        @Override
        public VerificationLogs createExtension(ActorSystem<?> system) {
          return new VerificationLogs(system);
        }
      };

  private final VerificationLogWriter writer;

  private VerificationLogs(ActorSystem<?> system) {
    this.writer =
        new VerificationLogWriter(
            system
                .settings()
                .config()
                .getDuration("flotilla.scheduler.jobs.verification-log-linger"),
            "flotilla-verification-log-" + system.address().getPort().orElse(0));
    system.getWhenTerminated().thenRun(writer::close);
  }

  /** The extension of {@code system}, started on first use. */
  public static VerificationLogs get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The node's writer. */
  public VerificationLogWriter writer() {
    return writer;
  }
}
