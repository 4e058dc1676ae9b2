package io.flotilla.ledger.ethereum;

import io.flotilla.ledger.LedgerUnavailableException;
import java.io.IOException;
import java.math.BigInteger;
import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.exceptions.TransactionException;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

/**
 * The operator's JSON-RPC connection: signs transactions locally with the operator key and reads
 * contract state. Network failures surface as {@link LedgerUnavailableException}.
 */
public final class ChainClient implements AutoCloseable {

  private final Web3j web3j;
  private final Credentials operator;
  private final BigInteger gasLimit;
  private final long receiptTimeoutMs;

  /** Connects to {@code rpcUrl}; the chain id is read from the endpoint. */
  public ChainClient(
      String rpcUrl, String operatorKeyHex, BigInteger gasLimit, long receiptTimeoutMs) {
    this.web3j = Web3j.build(new HttpService(rpcUrl));
    this.operator = Credentials.create(operatorKeyHex);
    this.gasLimit = gasLimit;
    this.receiptTimeoutMs = receiptTimeoutMs;
  }

  /** The operator's address. */
  public String operatorAddress() {
    return operator.getAddress();
  }

  /** Deploys the escrow contract with the operator as its operator; returns its address. */
  public String deployEscrow() {
    TransactionReceipt receipt = await(send("", EscrowContract.bytecode(), BigInteger.ZERO, true));
    if (!receipt.isStatusOK() || receipt.getContractAddress() == null) {
      throw new IllegalStateException("escrow deployment failed: status " + receipt.getStatus());
    }
    return receipt.getContractAddress();
  }

  /** Sends a transaction to {@code to}; returns its hash. */
  public String send(String to, String data, BigInteger valueWei) {
    return send(to, data, valueWei, false);
  }

  private String send(String to, String data, BigInteger valueWei, boolean create) {
    try {
      BigInteger chainId = web3j.ethChainId().send().getChainId();
      RawTransactionManager tm =
          new RawTransactionManager(web3j, operator, chainId.longValueExact());
      BigInteger gasPrice = web3j.ethGasPrice().send().getGasPrice();
      EthSendTransaction sent = tm.sendTransaction(gasPrice, gasLimit, to, data, valueWei, create);
      if (sent.hasError()) {
        throw new IllegalStateException(
            "chain rejected the transaction: " + sent.getError().getMessage());
      }
      return sent.getTransactionHash();
    } catch (IOException e) {
      throw new LedgerUnavailableException("chain unreachable: " + e.getMessage(), e);
    }
  }

  /** Waits for the receipt of {@code txHash}. */
  public TransactionReceipt await(String txHash) {
    try {
      long pollMs = 50;
      return new PollingTransactionReceiptProcessor(
              web3j, pollMs, (int) (receiptTimeoutMs / pollMs))
          .waitForTransactionReceipt(txHash);
    } catch (IOException e) {
      throw new LedgerUnavailableException("chain unreachable: " + e.getMessage(), e);
    } catch (TransactionException e) {
      throw new LedgerUnavailableException("no receipt for " + txHash + ": " + e.getMessage(), e);
    }
  }

  /** Calls a view function of {@code contract} at the latest block. */
  @SuppressWarnings("rawtypes")
  public List<Type> call(String contract, Function function) {
    try {
      EthCall result =
          web3j
              .ethCall(
                  Transaction.createEthCallTransaction(
                      operator.getAddress(), contract, FunctionEncoder.encode(function)),
                  DefaultBlockParameterName.LATEST)
              .send();
      if (result.hasError()) {
        throw new IllegalStateException("call failed: " + result.getError().getMessage());
      }
      return FunctionReturnDecoder.decode(result.getValue(), function.getOutputParameters());
    } catch (IOException e) {
      throw new LedgerUnavailableException("chain unreachable: " + e.getMessage(), e);
    }
  }

  /** Balance of {@code address} in wei. */
  public BigInteger balanceWei(String address) {
    try {
      return web3j.ethGetBalance(address, DefaultBlockParameterName.LATEST).send().getBalance();
    } catch (IOException e) {
      throw new LedgerUnavailableException("chain unreachable: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    web3j.shutdown();
  }
}
