package io.flotilla.deploy.cli;

import com.typesafe.config.Config;
import io.flotilla.engine.backend.BackendMode;
import io.flotilla.engine.backend.cuda.CudaProbe;
import io.flotilla.engine.backend.cuda.Precision;
import io.flotilla.protocol.NodeRole;
import io.flotilla.worker.WorkerNode;
import io.flotilla.worker.fault.FaultMode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flotilla worker}: lend this machine to the cluster. */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Run a worker node: joins through the seeds, measures this machine (about 1 s of sgemm)",
      "and advertises its cores, memory, speed, compute backend and GPU in the worker registry."
    })
public final class WorkerCommand implements Callable<Integer> {

  @Mixin NodeOptions options;

  @Option(
      names = "--id",
      description = "Worker id in the registry (default: FLOTILLA_WORKER_ID or worker-HOST-PORT).")
  String id;

  @Option(
      names = "--label",
      paramLabel = "KEY=VALUE",
      description = "Label published with the capabilities, e.g. region=eu-west; repeatable.")
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(
      names = "--data-port",
      description =
          "UDP port of the data plane (tensors); 0 picks a free one (default: FLOTILLA_DATA_PORT"
              + " or 40123).")
  Integer dataPort;

  @Option(
      names = "--data-host",
      description =
          "Address other workers send tensors to (default: FLOTILLA_DATA_HOST or the first"
              + " site-local address).")
  String dataHost;

  @Option(
      names = "--fault",
      paramLabel = "MODE",
      description = {
        "For tests and load tests only: misbehave on purpose. One of none, noise, flip-signs,",
        "scale, zeros, stale, delay, crash, lie-capabilities (see docs/verification.md).",
        "The worker does not announce it to the cluster."
      })
  String fault;

  @Option(
      names = "--fault-rate",
      paramLabel = "R",
      description = "Share of tasks the fault corrupts, in (0, 1] (default 1).")
  Double faultRate;

  @Option(
      names = "--fault-seed",
      paramLabel = "SEED",
      description = "Seed of the fault draws and noise, for reproducible runs (default 0).")
  Long faultSeed;

  @Option(
      names = "--fault-target",
      paramLabel = "T",
      description = {
        "What noise, flip-signs, scale and zeros corrupt: parameters (after the update, the",
        "default) or gradients (the local gradient before the all-reduce)."
      })
  String faultTarget;

  @Option(
      names = "--backend",
      description =
          "Compute backend: cpu, cuda (fails when CUDA is not usable) or auto (CUDA when usable,"
              + " else CPU); default: flotilla.worker.agent.backend (auto).")
  String backend;

  @Option(
      names = "--precision",
      description = "Matrix-product precision on CUDA: fp32 or tf32 (default: fp32).")
  String precision;

  @Override
  public Integer call() {
    if (backend != null) {
      BackendMode mode;
      try {
        mode = BackendMode.parse(backend);
      } catch (IllegalArgumentException e) {
        System.err.println("error: --backend: " + e.getMessage());
        return 2;
      }
      CudaProbe.Result probe = mode == BackendMode.CUDA ? CudaProbe.probeOnce() : null;
      if (probe != null && !probe.available()) {
        System.err.println(
            "error: backend cuda requested but CUDA is not usable: "
                + probe.reason()
                + " (use --backend cpu or auto)");
        return 2;
      }
    }
    if (precision != null) {
      try {
        Precision.parse(precision);
      } catch (IllegalArgumentException e) {
        System.err.println("error: --precision: " + e.getMessage());
        return 2;
      }
    }
    return NodeRunner.run(
        "Worker",
        () -> {
          Config config = options.toConfig(NodeRole.WORKER);
          Map<String, Object> extra = new LinkedHashMap<>();
          if (id != null) {
            extra.put("flotilla.worker.agent.id", id);
          }
          if (dataPort != null) {
            extra.put("flotilla.worker.data-plane.port", dataPort);
          }
          if (backend != null) {
            extra.put("flotilla.worker.agent.backend", backend.trim());
          }
          if (precision != null) {
            extra.put("flotilla.worker.agent.precision", precision.trim());
          }
          if (dataHost != null) {
            extra.put("flotilla.worker.data-plane.advertised-host", dataHost);
          }
          labels.forEach((k, v) -> extra.put("flotilla.worker.agent.labels." + quote(k), v));
          if (fault != null) {
            extra.put("flotilla.worker.fault.mode", FaultMode.parse(fault).cliName());
          }
          if (faultRate != null) {
            if (!(faultRate > 0 && faultRate <= 1)) {
              throw new IllegalArgumentException(
                  "--fault-rate must be > 0 and <= 1, was " + faultRate);
            }
            extra.put("flotilla.worker.fault.rate", faultRate);
          }
          if (faultSeed != null) {
            extra.put("flotilla.worker.fault.seed", faultSeed);
          }
          if (faultTarget != null) {
            extra.put(
                "flotilla.worker.fault.target",
                io.flotilla.worker.fault.FaultTarget.parse(faultTarget).cliName());
          }
          Config withExtra = com.typesafe.config.ConfigFactory.parseMap(extra).withFallback(config);
          return WorkerNode.start(withExtra).node();
        },
        System.out,
        System.err);
  }

  private static String quote(String key) {
    if (!key.matches("[A-Za-z0-9_-]{1,64}")) {
      throw new IllegalArgumentException(
          "--label key '" + key + "' must be 1..64 letters, digits, '_' or '-'");
    }
    return key;
  }
}
