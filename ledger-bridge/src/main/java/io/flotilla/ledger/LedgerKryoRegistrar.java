package io.flotilla.ledger;

import io.flotilla.protocol.serialization.KryoRegistrar;
import io.flotilla.protocol.serialization.KryoRegistrations;

/** Registers the ledger bridge's messages (ids 4000-4999). */
public final class LedgerKryoRegistrar implements KryoRegistrar {

  @Override
  public void register(KryoRegistrations r) {
    r.add(4000, PaymentTerms.class);
    r.add(4001, PaymentTerms.Basis.class);
    r.add(4002, LedgerBridge.OpenJob.class);
    r.add(4003, LedgerBridge.RegisterWorker.class);
    r.add(4004, LedgerBridge.SubmitReceipt.class);
    r.add(4005, LedgerBridge.GetJob.class);
    r.add(4006, LedgerBridge.Subscribe.class);
    r.add(4007, LedgerBridge.WorkerRegistered.class);
    r.add(4008, LedgerBridge.ReceiptAccepted.class);
    r.add(4009, LedgerBridge.JobStatus.class);
    r.add(4010, LedgerBridge.JobBudgetExhausted.class);
    r.add(4011, LedgerBridge.BatchSettled.class);
    r.add(4012, LedgerBridge.CloseJob.class);
    r.add(4013, LedgerBridge.JobClosed.class);
  }
}
