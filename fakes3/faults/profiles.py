"""Named bundles of faults, each modelling a store that exists (or existed).

- ``aws``: today's AWS (since December 2020 strongly consistent; conditional PUT since August
  2024 and conditional DELETE since September 2025, atomic). No faults.
- ``aws-2019``: S3 before December 2020: overwrites and deletes eventually consistent (the next
  GET/HEAD may still see the old object), listings lagging behind writes, and no conditional
  writes (If-Match / If-None-Match on a write answered 501 NotImplemented).
- ``s3-compatible-weak``: an S3-compatible store without atomic conditional writes: conditions
  silently ignored, PUTs visible while in flight (readers may see a prefix), and conditional
  writes that check, let go of the key, then write.
"""

from __future__ import annotations

from fakes3.faults import actions as A
from fakes3.faults.rules import Rule, make_match

WRITES = ["PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject", "DeleteObjects"]
CONDITIONAL_WRITES = ["PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject"]


def _rule(action: A.Action, operations: list[str], rule_id: str) -> Rule:
    rule = Rule(action, make_match("s3", operations))
    rule.id = rule_id
    return rule


def profile_rules(name: str) -> list[Rule]:
    if name == "aws":
        return []
    if name == "aws-2019":
        return [
            _rule(A.StaleRead(reads=1), ["PutObject", "CopyObject", "CompleteMultipartUpload",
                                        "DeleteObject"], "aws-2019-stale-read"),
            _rule(A.ListLag(listings=1), WRITES, "aws-2019-list-lag"),
            _rule(A.IgnoreConditions(respond="501"), CONDITIONAL_WRITES, "aws-2019-no-conditional-writes"),
        ]
    if name == "s3-compatible-weak":
        return [
            _rule(A.IgnoreConditions(respond="ignore"), CONDITIONAL_WRITES, "weak-ignore-conditions"),
            _rule(A.TornPut(visible="prefix"), ["PutObject"], "weak-torn-put"),
            _rule(A.SplitCheckAct(), CONDITIONAL_WRITES, "weak-split-check-act"),
        ]
    raise ValueError(f"unknown fault profile {name!r}: choose one of {', '.join(PROFILES)}")


PROFILES = ("aws", "aws-2019", "s3-compatible-weak")
