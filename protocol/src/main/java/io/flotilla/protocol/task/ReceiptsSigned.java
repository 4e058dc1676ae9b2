package io.flotilla.protocol.task;

import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.identity.WorkerRegistration;
import java.util.List;
import java.util.Objects;

/**
 * A worker's answer to {@link StageHostCommand.SignReceipts}: the receipts it signed (those it
 * recognised as its own work) and its signed payment registration.
 *
 * @param jobId the job
 * @param workerId the worker
 * @param registration the worker's address, signed by its key
 * @param receipts the signed receipts
 * @param refused how many of the asked receipts the worker refused to sign
 */
public record ReceiptsSigned(
    String jobId,
    String workerId,
    WorkerRegistration registration,
    List<WorkReceipt> receipts,
    int refused)
    implements TaskMessage {
  public ReceiptsSigned {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(registration, "registration");
    receipts = List.copyOf(receipts);
  }
}
