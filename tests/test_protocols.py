"""Every built-in protocol keeps the design's rules and gives its golden answers: one class
a protocol, each run by the shared base in ``protocol_rules.py``."""

from __future__ import annotations

from protocol_rules import BlockRules, ClusterRules, ProtocolRules, blocks_of_days, clusters_of_days
from tms_schedule import get_protocol, protocol_ids


class TestStandard10hz(ProtocolRules):
    protocol_id = "standard-10hz"


class TestDash10hz(ProtocolRules):
    protocol_id = "dash-10hz"


class TestItbs(ProtocolRules):
    protocol_id = "itbs"


class TestDeepTmsH1(ProtocolRules):
    protocol_id = "deep-tms-h1"


class TestSnt(BlockRules):
    protocol_id = "snt"


class TestOneHertzRight(ProtocolRules):
    protocol_id = "1hz-right"


class TestMaintenance(ProtocolRules):
    protocol_id = "maintenance"


class TestClusterMaintenance(ClusterRules):
    protocol_id = "cluster-maintenance"


class TestDeepTmsH7Ocd(ProtocolRules):
    protocol_id = "deep-tms-h7-ocd"


class TestDeepTmsH4Smoking(ProtocolRules):
    protocol_id = "deep-tms-h4-smoking"


class TestSequentialBilateral(ProtocolRules):
    protocol_id = "sequential-bilateral"


class TestItbsTwiceDaily(ProtocolRules):
    protocol_id = "itbs-twice-daily"


class TestMedicare20To5(ProtocolRules):
    protocol_id = "medicare-20-5"


def _checked() -> list[type[ProtocolRules]]:
    return [
        cls
        for cls in globals().values()
        if isinstance(cls, type) and cls.__name__.startswith("Test")
    ]


def test_every_builtin_protocol_is_checked_by_the_base_and_the_rules_it_needs() -> None:
    classes = _checked()
    assert sorted(cls.protocol_id for cls in classes) == sorted(protocol_ids()), (
        "add a class for each built-in protocol here"
    )
    for cls in classes:
        protocol = get_protocol(cls.protocol_id)
        assert issubclass(cls, BlockRules) == blocks_of_days(protocol), cls.protocol_id
        assert issubclass(cls, ClusterRules) == clusters_of_days(protocol), cls.protocol_id
