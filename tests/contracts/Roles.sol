// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Roles
/// @notice Minimal role-based access control shared by the devnet contracts.
/// @dev Two roles exist. ADMIN (the deployer) wires the contracts, sets
///      parameters, mints test money and plays the oracle and the fee
///      collector. KEEPER (the Backstop Keeper's account) may inject backstop
///      capital and trigger clawbacks. Liquidation needs no role.
abstract contract Roles {
    bytes32 public constant ADMIN_ROLE = keccak256("ADMIN_ROLE");
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");

    mapping(bytes32 => mapping(address => bool)) private _roles;

    event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender);
    event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender);

    modifier onlyAdmin() {
        require(_roles[ADMIN_ROLE][msg.sender], "caller is not admin");
        _;
    }

    modifier onlyKeeper() {
        require(_roles[KEEPER_ROLE][msg.sender], "caller is not keeper");
        _;
    }

    constructor(address admin) {
        require(admin != address(0), "zero admin");
        _roles[ADMIN_ROLE][admin] = true;
        emit RoleGranted(ADMIN_ROLE, admin, msg.sender);
    }

    /// @notice Whether `account` holds `role`.
    function hasRole(bytes32 role, address account) external view returns (bool) {
        return _roles[role][account];
    }

    /// @notice Give `role` to `account` (admin only).
    function grantRole(bytes32 role, address account) external onlyAdmin {
        require(account != address(0), "zero account");
        if (!_roles[role][account]) {
            _roles[role][account] = true;
            emit RoleGranted(role, account, msg.sender);
        }
    }

    /// @notice Take `role` from `account` (admin only).
    function revokeRole(bytes32 role, address account) external onlyAdmin {
        if (_roles[role][account]) {
            _roles[role][account] = false;
            emit RoleRevoked(role, account, msg.sender);
        }
    }
}
