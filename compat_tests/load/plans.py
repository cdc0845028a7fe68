"""Who does what in a phase: accounts per worker, pairs, contacts, rooms and nodes, senders' rate.

Account numbers are 0-based (``LoadTarget.username(n)``); the plan is one JSON-safe dict given to
every worker, each of which acts only for the accounts it holds.
"""

from __future__ import annotations

from typing import Any

from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario


def split_accounts(scenario: Scenario, workers: int) -> list[list[int]]:
    """Account numbers per worker; both members of a one-to-one pair stay in one worker."""
    parts: list[list[int]] = [[] for _ in range(workers)]
    if scenario.kind == "one-to-one":
        for p in range(scenario.pairs):
            parts[p % workers] += [2 * p, 2 * p + 1]
    else:
        for n in range(scenario.sessions):
            parts[n % workers].append(n)
    return parts


def groups(scenario: Scenario) -> list[list[int]]:
    """Members of each room / node: session n goes to group n mod rooms (first member posts)."""
    count = min(scenario.rooms, scenario.sessions)
    return [[n for n in range(scenario.sessions) if n % count == k] for k in range(count)]


def build(scenario: Scenario, target: LoadTarget, service: str | None, token: str) -> dict[str, Any]:
    """The plan of a phase; ``service`` is the MUC/PubSub JID found by disco, ``token`` makes names unique."""
    kind = scenario.kind
    plan: dict[str, Any] = {}
    senders = 0
    if kind == "one-to-one":
        plan["pairs"] = [[2 * p, 2 * p + 1] for p in range(scenario.pairs)]
        senders = 2 * scenario.pairs
    elif kind == "muc-fanout":
        rooms = [(f"load{k}-{token}@{service}", members) for k, members in enumerate(groups(scenario))]
        plan["rooms"] = [[room, members] for room, members in rooms]
        plan["senders"] = [[members[0], room] for room, members in rooms]
        senders = len(rooms)
    elif kind == "pubsub-fanout":
        nodes = [(f"load{k}-{token}", members) for k, members in enumerate(groups(scenario))]
        plan["nodes"] = [[service, node, members] for node, members in nodes]
        plan["senders"] = [[members[0], service, node] for node, members in nodes]
        senders = len(nodes)
    elif kind == "presence-storm":
        count = scenario.sessions
        reach = min(scenario.contacts, count - 1)
        plan["contacts"] = {str(n): [target.jid((n + j) % count) for j in range(1, reach + 1)] for n in range(count)}
        plan["senders"] = [[n] for n in range(count)]
        senders = count
    if scenario.rate_mode == "total" and senders:
        plan["rate_per_sender"] = scenario.rate / senders
    else:
        plan["rate_per_sender"] = scenario.rate
    return plan
