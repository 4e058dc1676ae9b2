package io.flotilla.worker.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.worker.transport.DataPlaneDriver;
import io.flotilla.worker.transport.DataPlanePeer;
import io.flotilla.worker.transport.DataPlaneSettings;
import io.flotilla.worker.transport.ReceivedTensor;
import io.flotilla.worker.transport.TensorDtype;
import io.flotilla.worker.transport.TensorHeader;
import io.flotilla.worker.transport.TensorKind;
import io.flotilla.worker.transport.TensorTransport;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Props;
import org.apache.pekko.pattern.Patterns;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla bench transport}: throughput and latency of moving tensors between two endpoints
 * in this process over Aeron UDP on loopback, Aeron IPC, Pekko Artery TCP on loopback (byte-array
 * messages, the baseline a Pekko user would reach for) and a plain in-memory copy (the physical
 * limit). Warm-up first, then several runs; the table shows medians.
 */
@Command(
    name = "transport",
    mixinStandardHelpOptions = true,
    description =
        "Measure tensor throughput and latency: Aeron UDP (loopback), Aeron IPC, Pekko Artery"
            + " TCP (loopback) and an in-memory copy.")
public final class TransportBenchCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--sizes",
      split = ",",
      description = "Tensor sizes in KiB (default: ${DEFAULT-VALUE}).",
      defaultValue = "64,256,1024,4096,16384,65536")
  int[] sizesKib;

  @Option(
      names = "--transports",
      split = ",",
      description = "Which to measure, any of: ${COMPLETION-CANDIDATES} (default: all).",
      defaultValue = "AERON_UDP,AERON_IPC,ARTERY,MEMORY")
  Kind[] transports;

  @Option(
      names = "--warmup",
      description = "Warm-up runs per size (default: ${DEFAULT-VALUE}).",
      defaultValue = "2")
  int warmupRuns;

  @Option(
      names = "--runs",
      description = "Measured runs per size (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int runs;

  @Option(
      names = "--mib-per-run",
      description =
          "Data moved per throughput run, in MiB; at least 4 tensors (1 from 256 MiB) (default: ${DEFAULT-VALUE}).",
      defaultValue = "128")
  int mibPerRun;

  @Option(
      names = "--latency-samples",
      description =
          "Single-tensor transfers timed per run for latency (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int latencySamples;

  /** What is measured. */
  public enum Kind {
    AERON_UDP,
    AERON_IPC,
    ARTERY,
    MEMORY
  }

  /** One path a tensor can take from a sender to a receiver in this process. */
  interface Path extends AutoCloseable {
    /** Moves {@code count} tensors of {@code payload}; returns when the last one arrived. */
    void transfer(ByteBuffer payload, int count) throws Exception;

    @Override
    void close();
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (sizesKib.length == 0 || Arrays.stream(sizesKib).anyMatch(s -> s <= 0 || s > 1024 * 1024)) {
      err.println("--sizes must be KiB values in 1..1048576, e.g. 64,4096");
      return 2;
    }
    if (runs < 1 || warmupRuns < 0 || mibPerRun < 1 || latencySamples < 1) {
      err.println("--runs, --mib-per-run and --latency-samples must be >= 1, --warmup >= 0");
      return 2;
    }
    int maxBytes = Arrays.stream(sizesKib).max().orElseThrow() * 1024;
    Map<Kind, Map<Integer, double[]>> results = new LinkedHashMap<>();
    try {
      for (Kind kind : transports) {
        try (Path path = open(kind, maxBytes)) {
          Map<Integer, double[]> perSize = new LinkedHashMap<>();
          for (int kib : sizesKib) {
            err.printf(Locale.ROOT, "measuring %-9s %8d KiB ...%n", kind, kib);
            err.flush();
            perSize.put(kib, measure(path, kib * 1024));
          }
          results.put(kind, perSize);
        }
      }
    } catch (Exception e) {
      err.println("transport benchmark failed: " + e);
      return 1;
    }
    print(out, results);
    return 0;
  }

  private double[] measure(Path path, int bytes) throws Exception {
    ByteBuffer payload = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 8 <= bytes; i += 8) {
      payload.putLong(i, i * 0x9E3779B97F4A7C15L);
    }
    // Tensors of 256 MiB and more: one per run, or the receiver would hold several GiB at once.
    int minimum = bytes >= 256 * 1024 * 1024 ? 1 : 4;
    int count = (int) Math.max(minimum, (long) mibPerRun * 1024 * 1024 / bytes);
    for (int w = 0; w < warmupRuns; w++) {
      path.transfer(payload, count);
      path.transfer(payload, 1);
    }
    double[] mibPerSecond = new double[runs];
    List<Double> latenciesUs = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      long start = System.nanoTime();
      path.transfer(payload, count);
      long elapsed = System.nanoTime() - start;
      mibPerSecond[r] = (double) bytes * count / (1024.0 * 1024.0) / (elapsed / 1e9);
      for (int s = 0; s < latencySamples; s++) {
        long t0 = System.nanoTime();
        path.transfer(payload, 1);
        latenciesUs.add((System.nanoTime() - t0) / 1e3);
      }
    }
    return new double[] {
      median(mibPerSecond), median(latenciesUs.stream().mapToDouble(Double::doubleValue).toArray())
    };
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private void print(PrintWriter out, Map<Kind, Map<Integer, double[]>> results) {
    out.printf(
        Locale.ROOT,
        "%-10s %10s %14s %16s %12s%n",
        "transport",
        "size",
        "MiB/s (med)",
        "latency us (med)",
        "vs memory");
    for (var entry : results.entrySet()) {
      for (var size : entry.getValue().entrySet()) {
        double[] m = size.getValue();
        double[] memory =
            results.containsKey(Kind.MEMORY) ? results.get(Kind.MEMORY).get(size.getKey()) : null;
        String ratio = memory == null ? "-" : String.format(Locale.ROOT, "%.1fx", memory[0] / m[0]);
        out.printf(
            Locale.ROOT,
            "%-10s %10s %14.0f %16.0f %12s%n",
            entry.getKey(),
            humanSize(size.getKey()),
            m[0],
            m[1],
            ratio);
      }
    }
    if (results.containsKey(Kind.AERON_UDP) && results.containsKey(Kind.ARTERY)) {
      for (int kib : sizesKib) {
        double udp = results.get(Kind.AERON_UDP).get(kib)[0];
        double artery = results.get(Kind.ARTERY).get(kib)[0];
        out.printf(Locale.ROOT, "Aeron UDP / Artery at %s: %.1fx%n", humanSize(kib), udp / artery);
      }
    }
    out.flush();
  }

  private static String humanSize(int kib) {
    return kib >= 1024 && kib % 1024 == 0 ? kib / 1024 + " MiB" : kib + " KiB";
  }

  private Path open(Kind kind, int maxBytes) {
    return switch (kind) {
      case AERON_UDP -> new AeronPath(false);
      case AERON_IPC -> new AeronPath(true);
      case ARTERY -> new ArteryPath(maxBytes);
      case MEMORY -> new MemoryPath(maxBytes);
    };
  }

  /** Two transports: own drivers for UDP (as two processes would have), one shared for IPC. */
  static final class AeronPath implements Path {
    private final DataPlaneDriver sharedDriver;
    private final TensorTransport sender;
    private final TensorTransport receiver;
    private final DataPlanePeer target;
    private long step;

    AeronPath(boolean ipc) {
      DataPlaneSettings settings = DataPlaneSettings.loopback(Duration.ofSeconds(30));
      if (ipc) {
        sharedDriver = DataPlaneDriver.launch(settings);
        sender = TensorTransport.start(sharedDriver, "bench-sender", 5001);
        receiver = TensorTransport.start(sharedDriver, "bench-receiver", 5002);
        target = receiver.ipcPeer();
      } else {
        sharedDriver = null;
        sender = TensorTransport.launch(settings, "bench-sender");
        receiver = TensorTransport.launch(settings, "bench-receiver");
        target = receiver.udpPeer();
      }
    }

    @Override
    public void transfer(ByteBuffer payload, int count) throws Exception {
      List<CompletableFuture<ReceivedTensor>> arrivals = new ArrayList<>(count);
      List<CompletableFuture<Void>> sends = new ArrayList<>(count);
      long first = step;
      for (int i = 0; i < count; i++) {
        TensorHeader header =
            new TensorHeader(
                "bench",
                first + i,
                0,
                0,
                TensorKind.ACTIVATION,
                TensorDtype.UINT8,
                new long[] {payload.remaining()});
        arrivals.add(receiver.receive(header.keyFrom("bench-sender"), Duration.ofSeconds(60)));
      }
      // One sender thread keeps tensors in order, as a pipeline stage sends them.
      CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
      for (int i = 0; i < count; i++) {
        TensorHeader header =
            new TensorHeader(
                "bench",
                first + i,
                0,
                0,
                TensorKind.ACTIVATION,
                TensorDtype.UINT8,
                new long[] {payload.remaining()});
        chain = chain.thenCompose(v -> sender.send(target, header, payload));
        sends.add(chain);
      }
      step += count;
      for (CompletableFuture<ReceivedTensor> arrival : arrivals) {
        ReceivedTensor tensor = arrival.get(120, TimeUnit.SECONDS);
        if (tensor.payload().remaining() != payload.remaining()) {
          throw new IllegalStateException("received a tensor of the wrong size");
        }
        // As a stage does once it copied the tensor out: its buffer takes the next one.
        tensor.release();
      }
      chain.get(120, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      sender.close();
      receiver.close();
      if (sharedDriver != null) {
        sharedDriver.close();
      }
    }
  }

  /** Two ActorSystems over Artery TCP on loopback; tensors travel as byte[] messages. */
  static final class ArteryPath implements Path {
    private final ActorSystem senderSystem;
    private final ActorSystem receiverSystem;
    private final ActorRef sink;
    private int delivered;

    ArteryPath(int maxBytes) {
      long frame = (long) maxBytes + 1024 * 1024;
      Config config =
          ConfigFactory.parseString(
                  "pekko.actor.provider = remote\n"
                      + "pekko.loglevel = WARNING\n"
                      + "pekko.remote.artery.transport = tcp\n"
                      + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                      + "pekko.remote.artery.canonical.port = 0\n"
                      + "pekko.remote.artery.advanced.maximum-frame-size = "
                      + frame
                      + "\n"
                      + "pekko.remote.artery.advanced.buffer-pool-size = 16\n")
              .withFallback(ConfigFactory.load());
      senderSystem = ActorSystem.create("bench-sender", config);
      receiverSystem = ActorSystem.create("bench-receiver", config);
      receiverSystem.actorOf(Props.create(Sink.class, Sink::new), "sink");
      var address = ((ExtendedActorSystem) receiverSystem).provider().getDefaultAddress();
      try {
        sink =
            senderSystem
                .actorSelection(address + "/user/sink")
                .resolveOne(Duration.ofSeconds(10))
                .toCompletableFuture()
                .get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        close();
        throw new IllegalStateException("could not reach the Artery receiver: " + e, e);
      }
    }

    @Override
    public void transfer(ByteBuffer payload, int count) throws Exception {
      for (int i = 0; i < count - 1; i++) {
        sink.tell(bytes(payload), ActorRef.noSender());
      }
      Object reply =
          Patterns.ask(sink, bytes(payload), Duration.ofSeconds(120))
              .toCompletableFuture()
              .get(180, TimeUnit.SECONDS);
      delivered += count;
      if (!(reply instanceof Integer n) || n != delivered) {
        throw new IllegalStateException(
            "Artery receiver counted " + reply + ", expected " + delivered);
      }
    }

    /** What a Pekko user sends: the tensor copied into a byte array. */
    private static byte[] bytes(ByteBuffer payload) {
      byte[] array = new byte[payload.remaining()];
      payload.duplicate().get(array);
      return array;
    }

    @Override
    public void close() {
      senderSystem.terminate();
      receiverSystem.terminate();
      try {
        senderSystem.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        receiverSystem.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Counts tensors; answers with the count when asked. */
    static final class Sink extends AbstractActor {
      private int count;

      @Override
      public Receive createReceive() {
        return receiveBuilder()
            .match(
                byte[].class,
                bytes -> {
                  count++;
                  if (!getSender().equals(getContext().getSystem().deadLetters())) {
                    getSender().tell(count, getSelf());
                  }
                })
            .build();
      }
    }
  }

  /** One off-heap copy per tensor: the physical limit of moving bytes in memory. */
  static final class MemoryPath implements Path {
    private final UnsafeBuffer destination;

    MemoryPath(int maxBytes) {
      destination = new UnsafeBuffer(ByteBuffer.allocateDirect(maxBytes));
    }

    @Override
    public void transfer(ByteBuffer payload, int count) {
      UnsafeBuffer source = new UnsafeBuffer(payload);
      for (int i = 0; i < count; i++) {
        destination.putBytes(0, source, 0, payload.remaining());
      }
    }

    @Override
    public void close() {}
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new TransportBenchCommand()).execute(args));
  }
}
