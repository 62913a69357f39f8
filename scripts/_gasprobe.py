from brownie import accounts, chain, web3
import sys, collections
sys.path.insert(0, "tests/contracts")
from conftest import Protocol
def main():
    p = Protocol(accounts[0], accounts[9], accounts[8])
    sup, alice, liq = accounts[5], accounts[1], accounts[4]
    p.supply(sup, "DAI", 10**6 * 10**18)
    p.supply(alice, "WETH", 10 * 10**18)
    p.borrow(alice, "DAI", 15_000 * 10**18)
    p.mint_and_approve(liq, "DAI", 10**6 * 10**18)
    p.supply(accounts[2], "WETH", 10 * 10**18); p.borrow(accounts[2], "DAI", 15000 * 10**18)
    p.set_price("WETH", 1850 * 10**8)
    tx = p.pool.liquidate(p.tokens["WETH"], p.tokens["DAI"], accounts[2], 1000 * 10**18, False, {"from": liq})
    chain.sleep(12); p.refresh_prices()
    tx = p.pool.liquidate(p.tokens["WETH"], p.tokens["DAI"], alice, 1000 * 10**18, False, {"from": liq})
    print("partial", tx.gas_used)
    tr = web3.provider.make_request("debug_traceTransaction", [tx.txid, {"enableMemory": False, "disableStack": True, "disableStorage": True, "enableReturnData": False}])
    print(str(tr)[:300]); logs = tr["result"]["structLogs"]
    byop = collections.Counter(); bydepth = collections.Counter()
    for i, l in enumerate(logs):
        cost = l["gasCost"]
        if l["op"] in ("CALL", "STATICCALL", "DELEGATECALL"):
            # cost includes gas forwarded; compute actual from next log at same depth
            j = i + 1
            while j < len(logs) and logs[j]["depth"] > l["depth"]:
                j += 1
            if j < len(logs):
                inner = l["gas"] - logs[j]["gas"]
                sub = sum(x["gasCost"] for x in logs[i+1:j] if x["depth"] == l["depth"] + 1)
                cost = inner - 0  # total incl. callee
                byop["CALL(total incl callee)"] += 0
            cost = 100 if i+1 < len(logs) else cost
        byop[l["op"]] += cost
        bydepth[l["depth"]] += cost
    for op, c in byop.most_common(15): print(f"{op:10} {c}")
    print(dict(bydepth))
    breakdown(logs)
    n_sload = sum(1 for l in logs if l["op"]=="SLOAD" and l["depth"]==1)
    print("pool SLOADs", n_sload, "SSTOREs", sum(1 for l in logs if l["op"]=="SSTORE" and l["depth"]==1))

def dump(tr):
    import json
    print(json.dumps(tr)[:500])

def breakdown(logs):
    import collections
    c = collections.Counter()
    for l in logs:
        if l["op"] in ("SLOAD", "SSTORE"):
            c[(l["depth"], l["op"], l["gasCost"])] += 1
    for k, v in sorted(c.items()): print(k, v)
