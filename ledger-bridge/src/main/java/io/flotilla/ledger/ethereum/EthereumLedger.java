package io.flotilla.ledger.ethereum;

import io.flotilla.ledger.BookLedger;
import io.flotilla.ledger.Payment;
import io.flotilla.ledger.SettlementBatch;
import io.flotilla.ledger.SettlementHook;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/**
 * Settles on an Ethereum chain through the {@code FlotillaEscrow} contract: job budgets are
 * deposited into the contract, each batch is one {@code settle} transaction, and the contract
 * rejects a batch id it has seen. A local H2 book records each batch before it is sent, so after a
 * restart {@link #reconcile()} asks the contract which pending batches it already holds.
 */
public final class EthereumLedger extends BookLedger {

  private final ChainClient chain;
  private final String contract;
  private final BigInteger weiPerUnit;

  /**
   * @param bookFile the local H2 book
   * @param chain connection with the operator key
   * @param contract the deployed escrow contract's address
   * @param weiPerUnit wei paid per ledger unit
   */
  public EthereumLedger(
      Path bookFile,
      ChainClient chain,
      String contract,
      BigInteger weiPerUnit,
      Clock clock,
      SettlementHook hook) {
    super(bookFile, clock, hook);
    this.chain = chain;
    this.contract = contract;
    this.weiPerUnit = weiPerUnit;
  }

  @Override
  public String backend() {
    return "ethereum";
  }

  /** The escrow contract's address. */
  public String contract() {
    return contract;
  }

  @Override
  protected String send(SettlementBatch batch) {
    List<Payment> payments = batch.payments();
    return chain.send(
        contract,
        EscrowContract.settle(
            batch.batchId(),
            payments.stream().map(Payment::jobId).toList(),
            payments.stream().map(Payment::payee).toList(),
            payments.stream().map(p -> toWei(p.amount())).toList()),
        BigInteger.ZERO);
  }

  @Override
  protected void awaitConfirmation(SettlementBatch batch, String reference) {
    TransactionReceipt receipt = chain.await(reference);
    if (!receipt.isStatusOK() && !backendHasSettled(batch.batchId())) {
      throw new IllegalStateException(
          "settle transaction " + reference + " of batch " + batch.batchId() + " reverted");
    }
  }

  @Override
  protected boolean backendHasSettled(String batchId) {
    return ((Bool) chain.call(contract, EscrowContract.batchSettled(batchId)).get(0)).getValue();
  }

  @Override
  protected void depositOnBackend(String jobId, long budget) {
    String funder =
        ((Address) chain.call(contract, EscrowContract.funderOf(jobId)).get(0)).getValue();
    if (!new BigInteger(funder.substring(2), 16).equals(BigInteger.ZERO)) {
      return; // deposited before a crash; depositing again would double the escrow
    }
    TransactionReceipt receipt =
        chain.await(chain.send(contract, EscrowContract.deposit(jobId), toWei(budget)));
    if (!receipt.isStatusOK()) {
      throw new IllegalStateException("deposit for job " + jobId + " reverted");
    }
  }

  @Override
  protected void refundOnBackend(String jobId) {
    if (escrowWei(jobId).signum() == 0) {
      return; // refunded before a crash
    }
    TransactionReceipt receipt =
        chain.await(chain.send(contract, EscrowContract.refund(jobId), BigInteger.ZERO));
    if (!receipt.isStatusOK()) {
      throw new IllegalStateException("refund of job " + jobId + " reverted");
    }
  }

  /** The contract's remaining escrow of {@code jobId}, in wei. */
  public BigInteger escrowWei(String jobId) {
    return ((Uint256) chain.call(contract, EscrowContract.escrowOf(jobId)).get(0)).getValue();
  }

  /** What the contract has credited to {@code payee}, in wei. */
  public BigInteger creditedWei(String payee) {
    return ((Uint256) chain.call(contract, EscrowContract.balanceOf(payee)).get(0)).getValue();
  }

  private BigInteger toWei(long units) {
    return BigInteger.valueOf(units).multiply(weiPerUnit);
  }

  @Override
  public void close() {
    try {
      super.close();
    } finally {
      chain.close();
    }
  }
}
