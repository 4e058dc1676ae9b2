package io.flotilla.ledger;

/**
 * One priced, verified receipt waiting to be settled.
 *
 * @param receiptId the receipt's id ({@code job/task/worker}); paid at most once
 * @param jobId the job whose escrow pays
 * @param payee the address that signed the receipt
 * @param amount units owed
 */
public record Payment(String receiptId, String jobId, String payee, long amount) {}
