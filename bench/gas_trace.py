"""Where the gas of one bench/gas.py operation goes, from Anvil's struct-log trace.

    anvil --steps-tracing --port 8561 --accounts 10 --block-base-fee-per-gas 0 --gas-limit 12000000 &
    GAS_TRACE_OP=liquidate_partial python scripts/brownie_script.py bench/gas_trace.py --network liq-gas

Anvil records the steps `debug_traceTransaction` returns only when started with `--steps-tracing`,
which the Brownie network does not pass: start it by hand on the network's port and Brownie attaches
to it (start a fresh one for every run). The script replays bench/gas.py's scenario up to the
operation (`GAS_TRACE_OP`, any name of `bench.gas.OPERATIONS`), traces its transaction and prints:

- every SLOAD and SSTORE with its cost (2,100 = cold) and the slot named (pool reserves, positions,
  bitmaps, pool-wide fields; token balances and allowances; the oracle's feeds);
- every external call with its overhead (2,600 = cold account) and the gas used inside the callee;
- the pool's own gas between its external calls and logs (a log emitted only to mark a point of
  the code shows a section's cost), the rest by opcode family, and the pool's computation by source
  line (viaIR code the compiler generates, e.g. ABI coding and memory copies, is charged to the
  last source line before it; viaIR's source mappings are coarse, so take these as hints);
- with GAS_TRACE_SEQUENCE=1, every SLOAD and SSTORE of the pool in order, which shows a slot read
  twice for one write (a compound assignment `x.f -= y` can read the slot twice).

Slot names follow the pool's storage layout (`POOL_LAYOUT`); update it with the contract.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

from brownie import history, web3
from eth_utils import keccak

from bench import gas as bench

ROOT = Path(__file__).resolve().parents[1]

#: The pool's storage: the slot of each state variable, and the slots of one `DataTypes.Reserve`.
POOL_LAYOUT = {
    "_owner": 0,
    "_pendingOwner": 1,
    "_state": 2,
    "guardian": 3,
    "liquidationGracePeriod": 4,
    "_liquidationConfig": 5,
    "_reserves": 6,
    "_reservesList": 7,
    "_reservesCount": 8,
    "_positions": 9,
    "_userConfig": 10,
}
RESERVE_SLOTS = 4
#: OpenZeppelin 5's `ReentrancyGuard` keeps its status at this ERC-7201 slot.
OZ_REENTRANCY_SLOT = 0x9B779B17422D0DF92223018B32B4D1FA46E071723D6817E2486D003BECC55F00
#: PriceOracle's `_primary` and `_secondary` mappings; OpenZeppelin ERC20's `_balances`, `_allowances`.
ORACLE_PRIMARY, ORACLE_SECONDARY = 2, 3
ERC20_BALANCES, ERC20_ALLOWANCES = 0, 1

CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}
ARITHMETIC = {
    "ADD", "SUB", "MUL", "DIV", "SDIV", "MOD", "SMOD", "ADDMOD", "MULMOD", "EXP", "SIGNEXTEND", "LT", "GT",
    "SLT", "SGT", "EQ", "ISZERO", "AND", "OR", "XOR", "NOT", "BYTE", "SHL", "SHR", "SAR",
}  # fmt: skip
MEMORY = {"MLOAD", "MSTORE", "MSTORE8", "CALLDATACOPY", "RETURNDATACOPY", "CODECOPY", "MCOPY"}


def _word(value) -> bytes:
    if isinstance(value, int):
        return value.to_bytes(32, "big")
    return bytes.fromhex(str(value)[2:].rjust(64, "0"))


def _mapping_slot(key, slot: int) -> int:
    return int.from_bytes(keccak(_word(key) + _word(slot)), "big")


def slot_names(s: bench.Scenario) -> dict[tuple[str, int], str]:
    """(contract address, lower case; slot) -> a readable name."""
    names: dict[tuple[str, int], str] = {}
    pool, oracle = s.pool.address.lower(), s.p.oracle.address.lower()
    tokens = {symbol: token.address for symbol, token in s.p.tokens.items()}
    people = {
        "user": s.user, "victim": s.victim, "liquidator": s.liquidator, "fund": s.fund,
        "victim_2x2": s.victim_2x2, "deficit_victim": s.deficit_victim,
        "deficit_victim_2": s.deficit_victim_2, "supplier": s.supplier, "pool": s.pool,
    }  # fmt: skip
    for name, slot in POOL_LAYOUT.items():
        names[(pool, slot)] = name
    names[(pool, OZ_REENTRANCY_SLOT)] = "ReentrancyGuard status"
    for symbol, asset in tokens.items():
        base = _mapping_slot(asset, POOL_LAYOUT["_reserves"])
        for i in range(RESERVE_SLOTS):
            names[(pool, base + i)] = f"reserve[{symbol}]+{i}"
        names[(oracle, _mapping_slot(asset, ORACLE_PRIMARY))] = f"primaryFeed[{symbol}]"
        names[(oracle, _mapping_slot(asset, ORACLE_SECONDARY))] = f"secondaryFeed[{symbol}]"
    for i in range(len(tokens)):
        names[(pool, _mapping_slot(i, POOL_LAYOUT["_reservesList"]))] = f"_reservesList[{i}]"
    for who, account in people.items():
        names[(pool, _mapping_slot(account.address, POOL_LAYOUT["_userConfig"]))] = f"userConfig[{who}]"
        positions = _mapping_slot(account.address, POOL_LAYOUT["_positions"])
        for symbol, asset in tokens.items():
            names[(pool, _mapping_slot(asset, positions))] = f"position[{who}][{symbol}]"
            names[(asset.lower(), _mapping_slot(account.address, ERC20_BALANCES))] = f"balance[{who}]"
            allowances = _mapping_slot(account.address, ERC20_ALLOWANCES)
            for spender, spender_account in people.items():
                names[(asset.lower(), _mapping_slot(spender_account.address, allowances))] = (
                    f"allowance[{who}][{spender}]"
                )
    return names


def contract_names(s: bench.Scenario) -> dict[str, str]:
    names = {s.pool.address.lower(): "pool", s.p.oracle.address.lower(): "oracle"}
    for symbol, token in s.p.tokens.items():
        names[token.address.lower()] = symbol
    for symbol, feed in s.p.feeds.items():
        names[feed.address.lower()] = f"feed[{symbol}]"
    return names


def pool_source_lines() -> dict[int, str]:
    """The pool's program counter -> "file:line", from Brownie's build artifact ("" where unmapped)."""
    build = json.loads((ROOT / "build/contracts/LendingPool.json").read_text())
    paths, texts, lines = build["allSourcePaths"], {}, {}
    contract_range = None
    for pc, info in build["pcMap"].items():
        offset, path = info.get("offset"), info.get("path")
        if offset is None or path is None:
            lines[int(pc)] = ""
            continue
        if contract_range is None:
            contract_range = (path, tuple(offset))  # the first instruction maps to the whole contract
        file = paths[path]
        if file not in texts:
            source = ROOT / file if (ROOT / file).exists() else Path(file)
            texts[file] = source.read_text() if source.exists() else ""
        generated = (path, tuple(offset)) == contract_range
        line = texts[file].count("\n", 0, offset[0]) + 1
        lines[int(pc)] = "" if generated else f"{Path(file).name}:{line}"
    return lines


def family(op: str) -> str:
    if op in ARITHMETIC:
        return "arithmetic"
    if op in MEMORY:
        return "memory"
    if op in ("JUMP", "JUMPI", "JUMPDEST"):
        return "jumps"
    if op.startswith(("PUSH", "DUP", "SWAP")) or op == "POP":
        return "stack"
    if op.startswith("LOG"):
        return "LOG"
    return op


def report(steps: list[dict], root: str, slots, contracts) -> None:
    lines = pool_source_lines()
    frames = [root]
    sloads: collections.Counter = collections.Counter()
    sstores: list[tuple[str, str, int]] = []
    calls: list[tuple[str, str, str, int, int]] = []
    families: collections.Counter = collections.Counter()
    by_line: collections.Counter = collections.Counter()
    last_line = "entry"
    sequence = bool(os.environ.get("GAS_TRACE_SEQUENCE"))
    if sequence:
        print("\nThe pool's SLOAD and SSTORE in order (after: the call or log that precedes, #its number):")
    milestones: list[tuple[str, int, int]] = []  # (what, pool gas since the previous one, of it storage)
    section, section_storage = 0, 0
    for i, step in enumerate(steps):
        op, depth = step["op"], step["depth"]
        address = frames[depth - 1]
        contract = contracts.get(address, address)
        following = steps[i + 1] if i + 1 < len(steps) else None
        if op in CALLS and following is not None and following["depth"] > depth:
            target = ("0x" + step["stack"][-2][2:].rjust(40, "0")[-40:]).lower()
            del frames[depth:]
            frames.append(target)
            back = next(j for j in range(i + 1, len(steps)) if steps[j]["depth"] <= depth)
            last = steps[back - 1]
            inside = following["gas"] - (last["gas"] - last["gasCost"])
            overhead = step["gas"] - steps[back]["gas"] - inside
            calls.append((contract, op, contracts.get(target, target), overhead, inside))
            families["call overhead"] += overhead
            if address == root:
                milestones.append((f"{op} {contracts.get(target, target)}", section, section_storage))
                section, section_storage = 0, 0
            continue
        same_frame = following is not None and following["depth"] == depth
        cost = step["gas"] - following["gas"] if same_frame else step["gasCost"]
        if address == root:
            section += cost
            if op in ("SLOAD", "SSTORE"):
                section_storage += cost
            if op.startswith("LOG"):
                milestones.append((op, section, section_storage))
                section, section_storage = 0, 0
        if op in ("SLOAD", "SSTORE"):
            name = slots.get((address, int(step["stack"][-1], 16)), step["stack"][-1][:14])
            if sequence and address == root:
                after = milestones[-1][0] if milestones else "entry"
                print(f"  {op:<6} {name:<34} {cost:>5}  pc {step['pc']:<6} after {after} #{len(milestones)}")
            if op == "SLOAD":
                sloads[(contract, name, cost)] += 1
                families["SLOAD cold" if cost >= 2100 else "SLOAD warm"] += cost
            else:
                sstores.append((contract, name, cost))
                families["SSTORE"] += cost
            continue
        families[family(op)] += cost
        if address == root and not op.startswith("LOG"):
            line = lines.get(step["pc"], "")
            if line:
                last_line = line
            by_line[line or f"{last_line} (generated)"] += cost

    print("\nSLOAD (contract, slot, cost x count):")
    for (contract, name, cost), count in sloads.items():
        print(f"  {contract:<10} {name:<34} {cost:>5} x{count}")
    cold = sum(count for (_, _, cost), count in sloads.items() if cost >= 2100)
    print(
        f"  {cold} cold ({families['SLOAD cold']:,}), {sum(sloads.values()) - cold} warm "
        f"({families['SLOAD warm']:,})"
    )
    print("\nSSTORE (contract, slot, cost):")
    for contract, name, cost in sstores:
        print(f"  {contract:<10} {name:<34} {cost:>6}")
    print("\nCalls (from, opcode, to, overhead with account access, gas inside):")
    for caller, op, callee, overhead, inside in calls:
        print(f"  {caller:<8} {op:<11} {callee:<12} {overhead:>6} {inside:>7}")
    milestones.append(("end", section, section_storage))
    print(
        "\nPool's own gas between its calls and logs (section ends at; gas; of it SLOAD/SSTORE; the LOG"
        " itself is in its section):"
    )
    for what, gas, storage in milestones:
        print(f"  {what:<24} {gas:>7,} {storage:>7,}")
    print("\nExecution by kind:")
    for name, gas in families.most_common():
        print(f"  {name:<16} {gas:>8,}")
    print(f"  {'total':<16} {sum(families.values()):>8,}")
    limit = int(os.environ.get("GAS_TRACE_LINES", "40"))
    print(
        f"\nPool computation (no storage, calls or logs) by source line, top {limit}: "
        f"{sum(by_line.values()):,}"
    )
    for line, gas in by_line.most_common(limit):
        print(f"  {line:<44} {gas:>6,}")


def main() -> None:
    operation = os.environ.get("GAS_TRACE_OP", "liquidate_partial")
    if operation not in bench.OPERATIONS:
        raise SystemExit(f"GAS_TRACE_OP: {operation} is none of {', '.join(bench.OPERATIONS)}")
    s = bench.Scenario()
    s.setup()
    measured = s.measure_user_operations()
    if operation not in measured:
        s.crash()
        s.tick()
        variants = {
            "liquidate_partial": s.liquidate_partial,
            "liquidate_to_target": s.liquidate_to_target,
            "liquidate_receive_shares": s.liquidate_receive_shares,
            "liquidate_deficit": s.liquidate_deficit_and_settle,
            "settle_deficit": s.liquidate_deficit_and_settle,
            "liquidate_2x2": s.liquidate_2x2,
        }
        measured = variants[operation]()
    gas = measured[operation]
    txid = next(receipt.txid for receipt in reversed(history) if receipt.gas_used == gas)
    trace = web3.provider.make_request(
        "debug_traceTransaction", [txid, {"disableStorage": True, "enableMemory": False}]
    )["result"]
    steps = trace.get("structLogs") or []
    if not steps:
        raise SystemExit("No steps in the trace: start Anvil with --steps-tracing (see the docstring).")
    data = bytes(web3.eth.get_transaction(txid)["input"])
    calldata = sum(16 if byte else 4 for byte in data)
    execution = steps[0]["gas"] - steps[-1]["gas"] + steps[-1]["gasCost"]
    print(
        f"\n{operation}: gasUsed {gas:,} = 21,000 intrinsic + {calldata:,} calldata ({len(data)} bytes) "
        f"+ {execution:,} execution - {21_000 + calldata + execution - gas:,} refund"
    )
    report(steps, s.pool.address.lower(), slot_names(s), contract_names(s))
