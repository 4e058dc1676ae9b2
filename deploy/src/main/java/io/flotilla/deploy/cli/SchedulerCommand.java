package io.flotilla.deploy.cli;

import io.flotilla.protocol.NodeRole;
import io.flotilla.scheduler.SchedulerNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code flotilla scheduler}: the node that accepts and drives jobs. */
@Command(
    name = "scheduler",
    mixinStandardHelpOptions = true,
    description =
        "Run a scheduler node: joins with the scheduler role, manages jobs and serves the jobs"
            + " API.")
public final class SchedulerCommand implements Callable<Integer> {

  @Mixin NodeOptions options;

  @Override
  public Integer call() {
    return NodeRunner.run(
        "Scheduler",
        () -> SchedulerNode.start(options.toConfig(NodeRole.SCHEDULER)).node(),
        System.out,
        System.err);
  }
}
