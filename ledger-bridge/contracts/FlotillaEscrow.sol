// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

/// @title Flotilla escrow: job budgets in, worker payments out, each settlement batch exactly once.
/// @notice A job's submitter deposits its budget; the operator (the ledger bridge) settles batches of
/// payments to worker addresses out of job escrows; after the job the operator refunds what is left.
/// Payments are credited and withdrawn by each payee (pull), so one payee cannot block a batch.
contract FlotillaEscrow {
    /// The only account allowed to settle batches and refund jobs.
    address public immutable operator;

    /// Remaining escrow per job, in wei.
    mapping(bytes32 => uint256) public escrowOf;
    /// Who deposited a job's budget (receives the refund).
    mapping(bytes32 => address) public funderOf;
    /// Settled batch ids: a batch id is accepted once, ever.
    mapping(bytes32 => bool) public batchSettled;
    /// Credited, not yet withdrawn, per payee, in wei.
    mapping(address => uint256) public balanceOf;

    event Deposited(bytes32 indexed jobId, address indexed funder, uint256 amount);
    event BatchSettled(bytes32 indexed batchId, uint256 payments, uint256 total);
    event Paid(bytes32 indexed batchId, bytes32 indexed jobId, address indexed payee, uint256 amount);
    event Refunded(bytes32 indexed jobId, address indexed funder, uint256 amount);
    event Withdrawn(address indexed payee, uint256 amount);

    error NotOperator();
    error BatchAlreadySettled(bytes32 batchId);
    error LengthMismatch();
    error InsufficientEscrow(bytes32 jobId, uint256 available, uint256 needed);
    error NothingToPay();
    error FunderMismatch(bytes32 jobId);

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator();
        _;
    }

    constructor() {
        operator = msg.sender;
    }

    /// Adds msg.value to the escrow of jobId. Only the job's first funder may add more.
    function deposit(bytes32 jobId) external payable {
        if (msg.value == 0) revert NothingToPay();
        address funder = funderOf[jobId];
        if (funder == address(0)) {
            funderOf[jobId] = msg.sender;
        } else if (funder != msg.sender) {
            revert FunderMismatch(jobId);
        }
        escrowOf[jobId] += msg.value;
        emit Deposited(jobId, msg.sender, msg.value);
    }

    /// Pays amounts[i] to payees[i] out of the escrow of jobIds[i]; rejects a batch id seen before.
    function settle(
        bytes32 batchId,
        bytes32[] calldata jobIds,
        address[] calldata payees,
        uint256[] calldata amounts
    ) external onlyOperator {
        if (batchSettled[batchId]) revert BatchAlreadySettled(batchId);
        if (jobIds.length != payees.length || payees.length != amounts.length) revert LengthMismatch();
        batchSettled[batchId] = true;
        uint256 total = 0;
        for (uint256 i = 0; i < payees.length; i++) {
            uint256 available = escrowOf[jobIds[i]];
            if (available < amounts[i]) revert InsufficientEscrow(jobIds[i], available, amounts[i]);
            escrowOf[jobIds[i]] = available - amounts[i];
            balanceOf[payees[i]] += amounts[i];
            total += amounts[i];
            emit Paid(batchId, jobIds[i], payees[i], amounts[i]);
        }
        emit BatchSettled(batchId, payees.length, total);
    }

    /// Returns what is left of a job's escrow to its funder.
    function refund(bytes32 jobId) external onlyOperator {
        uint256 amount = escrowOf[jobId];
        if (amount == 0) revert NothingToPay();
        escrowOf[jobId] = 0;
        address funder = funderOf[jobId];
        emit Refunded(jobId, funder, amount);
        (bool ok, ) = funder.call{value: amount}("");
        require(ok, "refund transfer failed");
    }

    /// Sends the caller everything credited to it.
    function withdraw() external {
        uint256 amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToPay();
        balanceOf[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "withdraw transfer failed");
    }
}
