package io.flotilla.protocol.identity;

import io.flotilla.protocol.ControlMessage;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A worker's signed claim that it did one task of one job; after the task is verified, the
 * scheduler hands it to the ledger bridge, which pays the address that signed it.
 *
 * <p>{@code signature} is a 65-byte secp256k1 signature (hex, {@code 0x} prefix, r||s||v) over
 * {@link #signingPayload()} with the Ethereum signed-message prefix; an empty string means
 * unsigned. The pair ({@code jobId}, {@code taskId}, {@code workerId}) identifies the receipt: the
 * bridge pays it at most once.
 *
 * @param jobId the job the work belongs to
 * @param taskId the task within the job (unique per job)
 * @param workerId the worker that did the work
 * @param megaflops work done, in millions of floating-point operations (priced per GFLOP)
 * @param completedAtMs when the worker finished, milliseconds since the epoch
 * @param signature hex signature by the worker's key, or empty when unsigned
 */
public record WorkReceipt(
    String jobId,
    String taskId,
    String workerId,
    long megaflops,
    long completedAtMs,
    String signature)
    implements ControlMessage {

  /** Validates the fields a receipt cannot be read without. */
  public WorkReceipt {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(taskId, "taskId");
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(signature, "signature");
    if (megaflops < 0) {
      throw new IllegalArgumentException("megaflops must be >= 0, was " + megaflops);
    }
  }

  /** An unsigned receipt, to be signed with {@link WorkerIdentity#sign(WorkReceipt)}. */
  public static WorkReceipt unsigned(
      String jobId, String taskId, String workerId, long megaflops, long completedAtMs) {
    return new WorkReceipt(jobId, taskId, workerId, megaflops, completedAtMs, "");
  }

  /** The key under which the bridge records this receipt to pay it at most once. */
  public String receiptId() {
    return jobId + "/" + taskId + "/" + workerId;
  }

  /** True when a signature is present (not whether it is valid). */
  public boolean isSigned() {
    return !signature.isEmpty();
  }

  /** This receipt with {@code newSignature}. */
  public WorkReceipt withSignature(String newSignature) {
    return new WorkReceipt(jobId, taskId, workerId, megaflops, completedAtMs, newSignature);
  }

  /**
   * The exact bytes that are signed: every field but the signature, one per line, after a version
   * tag, so no two different receipts share a payload.
   */
  public byte[] signingPayload() {
    String text =
        "flotilla-work-receipt-v1\n"
            + jobId.length()
            + ":"
            + jobId
            + "\n"
            + taskId.length()
            + ":"
            + taskId
            + "\n"
            + workerId.length()
            + ":"
            + workerId
            + "\n"
            + megaflops
            + "\n"
            + completedAtMs;
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
