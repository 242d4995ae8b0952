from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge.vision.watchlist import PlateMatcher, WatchList, WatchListError, WatchListStore


def _list(*plates: str, version: int = 1) -> WatchList:
    entries = [{"plate": p, "reason": f"r{i}", "priority": 1 + i % 9} for i, p in enumerate(plates)]
    return WatchList.build(version=version, entries=entries)


CONFUSIONS = [("0", "D"), ("0", "Q"), ("D", "Q"), ("8", "B"), ("2", "Z"), ("5", "S"), ("1", "7")]


@pytest.mark.parametrize(("a", "b"), CONFUSIONS)
def test_confusion_pairs_cost_less_than_other_substitutions(a: str, b: str) -> None:
    m = PlateMatcher()
    confusable = m.distance(f"粤B{a}2345", f"粤B{b}2345")
    ordinary = m.distance(f"粤B{a}2345", "粤BX2345")
    assert confusable == pytest.approx(0.5)
    assert ordinary == pytest.approx(1.0)
    assert m.distance(f"粤B{b}2345", f"粤B{a}2345") == confusable  # symmetric


def test_insertions_and_deletions_cost_one() -> None:
    m = PlateMatcher()
    assert m.distance("粤B12345", "粤B1234") == 1.0
    assert m.distance("粤B12345", "粤BD12345") == 1.0
    assert m.distance("粤B12345", "粤B12345") == 0.0


def test_default_threshold_accepts_one_confusion_and_nothing_more() -> None:
    wl = _list("粤B12345")
    m = PlateMatcher()
    exact = m.match("粤B·12345", wl)
    assert exact is not None
    assert exact.exact
    assert exact.entry.plate == "粤B12345"
    near = m.match("粤B1Z345", wl)  # 2 read as Z
    assert near is not None
    assert near.distance == 0.5
    assert not near.exact
    assert m.match("粤B1Z34S", wl) is None  # two confusions: 1.0 > 0.5
    assert m.match("粤B13345", wl) is None  # one ordinary substitution: another vehicle
    assert m.match("粤B1234", wl) is None


def test_threshold_is_configurable() -> None:
    wl = _list("粤B12345")
    loose = PlateMatcher(max_distance=1.0)
    hit = loose.match("粤B13345", wl)
    assert hit is not None
    assert hit.distance == 1.0
    assert loose.match("粤B1234", wl) is not None  # a missed character
    assert PlateMatcher(max_distance=0.0).match("粤B1Z345", wl) is None
    assert PlateMatcher(confusion_cost=0.3, max_distance=0.6).match("粤B1Z34S", wl) is not None
    with pytest.raises(ValueError, match="confusion_cost"):
        PlateMatcher(confusion_cost=0.0)


def test_no_false_hit_for_a_distant_plate() -> None:
    wl = _list("粤B12345", "京A0123警", "苏E12345D", "沪KR9888")
    m = PlateMatcher(max_distance=1.0)
    for read in ("浙C67890", "粤B67890", "京A9876警", "苏E54321D", "鲁B1234学"):
        assert m.match(read, wl) is None, read


def test_the_closest_entry_wins_then_the_most_urgent() -> None:
    wl = WatchList.build(
        version=2,
        entries=[
            {"plate": "粤B12345", "reason": "stolen", "priority": 5},
            {"plate": "粤B1234S", "reason": "wanted", "priority": 1},
            {"plate": "粤B1Z345", "reason": "fraud", "priority": 2},
        ],
    )
    m = PlateMatcher()
    exact = m.match("粤B12345", wl)
    assert exact is not None
    assert exact.entry.reason == "stolen"
    tie = m.match("粤B1Z34S", wl)  # 0.5 from both 粤B1234S and 粤B1Z345
    assert tie is not None
    assert tie.entry.reason == "wanted"
    assert tie.entry.list_version == 2


def test_store_saves_atomically_and_loads_back(tmp_path: Path) -> None:
    store = WatchListStore(tmp_path / "lists" / "watch.json")
    assert store.load() == WatchList(0)  # no file yet: empty list
    wl = _list("粤B12345", "京A0123警", version=7)
    store.save(wl)
    assert os.listdir(tmp_path / "lists") == ["watch.json"]  # no temp file left behind
    assert WatchListStore(store.path).load() == wl
    doc = json.loads(store.path.read_text(encoding="utf-8"))
    assert doc["version"] == 7
    assert doc["entries"][1]["plate"] == "京A0123警"


def test_poll_hot_swaps_a_new_version_and_keeps_the_old_on_a_bad_file(tmp_path: Path) -> None:
    writer = WatchListStore(tmp_path / "watch.json")
    writer.save(_list("粤B12345", version=1))
    reader = WatchListStore(writer.path)
    assert reader.load().version == 1
    assert reader.poll() is None  # unchanged
    writer.save(_list("粤B12345", "浙C67890", version=2))
    new = reader.poll()
    assert new is not None
    assert new.version == 2
    assert len(new.entries) == 2
    assert reader.poll() is None
    writer.path.write_text('{"version": 3, "entries": [{"plate": "粤BI2345"}]}', encoding="utf-8")
    with pytest.raises(WatchListError, match=r"watch\.json: entries\[0\]\.plate: not a valid plate: '粤BI2345'"):
        reader.poll()
    assert reader.poll() is None  # the bad version is reported once, not forever


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('{"version": 1, "entries": [], "extra": 1}', r"unknown key\(s\) \['extra'\]"),
        ('{"version": -1, "entries": []}', "version: expected a non-negative integer, got -1"),
        ('{"version": 1, "entries": {}}', "entries: expected a list"),
        ('{"version": 1, "entries": [{"plate": "粤B12345", "colour": "red"}]}', r"entries\[0\]: unknown key"),
        ('{"version": 1, "entries": [{"plate": "粤B12345", "priority": 0}]}', r"entries\[0\]\.priority"),
        ('{"version": 1, "entries": [{"plate": "粤B12345"}, {"plate": "粤B·12345"}]}', r"entries\[1\]\.plate: dup"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_files_name_the_file_key_and_value(tmp_path: Path, doc: str, message: str) -> None:
    path = tmp_path / "watch.json"
    path.write_text(doc, encoding="utf-8")
    with pytest.raises(WatchListError, match=message) as info:
        WatchListStore(path).load()
    assert str(path) in str(info.value)


def test_uncertain_characters_substitute_like_confusions() -> None:
    wl = _list("琼P310QD")
    m = PlateMatcher()
    assert m.match("皖P310QD", wl) is None  # another province, read with confidence
    unsure = m.match("皖P310QD", wl, confidences=[0.4, 1, 1, 1, 1, 1, 1])
    assert unsure is not None
    assert unsure.distance == 0.5
    assert m.match("皖P310QD", wl, confidences=[0.6, 1, 1, 1, 1, 1, 1]) is None
    # one uncertain character is allowed, not two
    assert m.match("皖P31XQD", wl, confidences=[0.4, 1, 1, 1, 0.4, 1, 1]) is None
    assert PlateMatcher(uncertain_below=0.0).match("皖P310QD", wl, confidences=[0.4] + [1.0] * 6) is None
    loose = PlateMatcher(max_distance=1.0)  # the full edit-distance path honours it too
    assert loose.distance("皖P310QD", "琼P310QD", uncertain=[True] + [False] * 6) == 0.5
