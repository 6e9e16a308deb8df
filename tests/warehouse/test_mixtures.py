"""Training mixtures: realised shares, determinism, versions, no leakage, cross-source dedup,
format checks, and loading with HF `datasets`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pytest

from cli.app import command
from cli.errors import run_cli
from jobs.mix_datasets import mix_datasets
from warehouse import Warehouse
from warehouse.builders.sft_title import INSTRUCTIONS
from warehouse.builders.splits import split_of
from warehouse.datasets import BuilderInfo, publish
from warehouse.datasets.model import DatasetCard
from warehouse.datasets.read import load
from warehouse.mixtures import MixError, MixSource, MixSpec, load_spec, parse_source

ALPACA = DatasetCard(
    description="x", formatting="alpaca",
    columns={"prompt": "instruction", "query": "input", "response": "output"},
)  # fmt: skip
RANKING = DatasetCard(
    description="p", formatting="alpaca", ranking=True,
    columns={"prompt": "instruction", "query": "input", "chosen": "chosen",
             "rejected": "rejected"},
)  # fmt: skip


def alpaca(
    name: str, n: int, *, instruction: str = "Do it.", salt: str = ""
) -> dict[str, pa.Table]:
    """``n`` rows of papers ``{name}-p{i}``, split by paper as every builder splits."""
    by_split: dict[str, list[dict[str, str]]] = {}
    for i in range(n):
        paper = f"{name}-p{i}"
        row = {"sample_id": f"{name}-{i}{salt}", "instruction": instruction,
               "input": f"{name} input {i}", "output": f"out {i}", "paper_id": paper}  # fmt: skip
        by_split.setdefault(split_of(paper), []).append(row)
    return {s: pa.Table.from_pylist(r) for s, r in by_split.items()}


def put(wh: Warehouse, root: Path, name: str, splits: dict[str, pa.Table],
        card: DatasetCard = ALPACA, builder: str | None = None) -> int:  # fmt: skip
    return publish(wh, root, name, splits, card, BuilderInfo(builder or name, "1")).version


@pytest.fixture
def root(wh: Warehouse, tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    put(wh, root, "big", alpaca("big", 100_000))
    put(wh, root, "small", alpaca("small", 300))
    return root


def _train_counts(root: Path, name: str) -> dict[str, int]:
    table = load(root, name, split="train")
    counts: dict[str, int] = {}
    for source in table.column("mix_source").to_pylist():
        counts[source] = counts.get(source, 0) + 1
    return counts


def test_proportional_shares_match_the_targets(wh: Warehouse, root: Path) -> None:
    spec = MixSpec("m", (MixSource("big", weight=0.3), MixSource("small", weight=0.7)),
                   total=20_000)  # fmt: skip
    result = mix_datasets(wh, root, spec)
    counts = _train_counts(root, "m")
    assert sum(counts.values()) == 20_000
    assert abs(counts["small"] / 20_000 - 0.7) <= 0.01
    assert abs(counts["big"] / 20_000 - 0.3) <= 0.01
    # the small source is up-sampled by repeating whole rows, marked, within its split
    train = load(root, "m", split="train").to_pylist()
    small = [r for r in train if r["mix_source"] == "small"]
    assert max(r["mix_repeat"] for r in small) >= 40
    originals = {r["sample_id"] for r in small if r["mix_repeat"] == 0}
    assert all(r["sample_id"].split("~")[0] in originals for r in small)
    assert len(originals) == result.stats["available_rows"]["train"]["small"]
    assert all(r["mix_source_version"] == 1 for r in train)


def test_temperature_follows_its_formula(wh: Warehouse, root: Path) -> None:
    spec = MixSpec("t", (MixSource("big"), MixSource("small")), strategy="temperature",
                   temperature=2.0, total=30_000)  # fmt: skip
    result = mix_datasets(wh, root, spec)
    n = result.stats["available_rows"]["train"]
    expected = n["small"] ** 0.5 / (n["small"] ** 0.5 + n["big"] ** 0.5)
    counts = _train_counts(root, "t")
    assert abs(counts["small"] / sum(counts.values()) - expected) <= 0.01
    # T = 1 keeps the natural sizes: no source is up-sampled, none dropped
    natural = mix_datasets(wh, root, MixSpec("t1", (MixSource("big"), MixSource("small")),
                                             strategy="temperature"))  # fmt: skip
    assert natural.stats["rows"]["train"] == n and natural.stats["upsampled"] == {}


def test_capped(wh: Warehouse, root: Path) -> None:
    spec = MixSpec("c", (MixSource("big"), MixSource("small")), strategy="capped", cap=1000)
    result = mix_datasets(wh, root, spec)
    counts = _train_counts(root, "c")
    small = result.stats["available_rows"]["train"]["small"]
    assert counts == {"big": 1000, "small": small} and small < 300


def test_same_spec_and_seed_give_identical_files_and_versions_follow_sources(
    wh: Warehouse, root: Path, tmp_path: Path
) -> None:
    spec = MixSpec("d", (MixSource("big"), MixSource("small", weight=3)), total=5_000, seed=7)
    first = mix_datasets(wh, root, spec).publish
    again = mix_datasets(wh, root, spec).publish
    assert (again.version, again.created) == (first.version, False)  # unchanged: nothing new
    other = tmp_path / "elsewhere"
    put(wh, other, "big", alpaca("big", 100_000))
    put(wh, other, "small", alpaca("small", 300))
    twin = mix_datasets(wh, other, spec).publish

    def digests(path: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((path / "data").rglob("*.parquet"))}  # fmt: skip

    assert digests(first.path) == digests(twin.path)
    reseeded = mix_datasets(wh, root, MixSpec("d", spec.sources, total=5_000, seed=8)).publish
    assert reseeded.created and reseeded.version == first.version + 1
    # A new version of a source (unpinned: the latest) gives a new mixture version ...
    put(wh, root, "small", alpaca("small", 300, salt="-v2"))
    bumped = mix_datasets(wh, root, MixSpec("d", spec.sources, total=5_000, seed=8)).publish
    assert bumped.created and bumped.version == reseeded.version + 1
    assert set(load(root, "d", split="train").column("mix_source_version").to_pylist()) == {1, 2}
    # ... while a pinned source keeps its version.
    pinned = MixSpec("d", (MixSource("big"), MixSource("small", version=1, weight=3)),
                     total=5_000, seed=7)  # fmt: skip
    assert digests(mix_datasets(wh, root, pinned).publish.path) == digests(first.path)


def test_no_paper_leaks_from_one_source_s_test_split_into_train(wh: Warehouse, root: Path) -> None:
    held_out = load(root, "small", split="test").column("paper_id").to_pylist()
    assert held_out
    # A third source that puts those very papers in train.
    leaky = pa.Table.from_pylist([
        {"sample_id": f"leak-{i}", "instruction": "Other task.", "input": f"leak {p}",
         "output": "o", "paper_id": p}
        for i, p in enumerate(held_out)
    ] + [{"sample_id": "fine", "instruction": "Other task.", "input": "fine", "output": "o",
          "paper_id": "elsewhere"}])  # fmt: skip
    put(wh, root, "leaky", {"train": leaky})
    result = mix_datasets(wh, root, MixSpec("l", (MixSource("small"), MixSource("leaky"))))
    train = load(root, "l", split="train")
    held = set(load(root, "l", split="test").column("paper_id").to_pylist())
    assert not held & set(train.column("paper_id").to_pylist())
    assert result.stats["dropped_leaks"] == {"leaky": len(held_out)}
    assert "fine" in train.column("sample_id").to_pylist()


def test_cross_source_duplicates_appear_once(wh: Warehouse, root: Path) -> None:
    twin = alpaca("small", 300, salt="-twin")  # same (instruction, input), other sample ids
    put(wh, root, "twin", twin)
    result = mix_datasets(wh, root, MixSpec("u", (MixSource("small"), MixSource("twin"))))
    assert result.stats["dropped_duplicates"] == {"twin": 300}
    table = load(root, "u")
    pairs = list(zip(table.column("instruction").to_pylist(), table.column("input").to_pylist(),
                     strict=True))  # fmt: skip
    assert len(pairs) == len(set(pairs)) == 300
    card = (result.publish.path / "README.md").read_text()
    assert "300 duplicate (instruction, input) rows across sources" in card


def test_a_ranking_set_cannot_be_mixed_with_an_alpaca_set(wh: Warehouse, root: Path) -> None:
    pairs = pa.Table.from_pylist([{"sample_id": "r1", "instruction": "i", "input": "",
                                   "chosen": "a", "rejected": "b"}])  # fmt: skip
    put(wh, root, "pairs", {"train": pairs}, RANKING)
    with pytest.raises(MixError, match=r"pairs is ranking .* small is Alpaca"):
        mix_datasets(wh, root, MixSpec("bad", (MixSource("pairs"), MixSource("small"))))


def test_varied_instructions_keep_chatgentitle_first(wh: Warehouse, root: Path) -> None:
    put(wh, root, "titles", alpaca("titles", 400, instruction=INSTRUCTIONS[0]),
        builder="sft-title")  # fmt: skip
    mix_datasets(wh, root, MixSpec("v", (MixSource("titles"),), instructions="varied"))
    used = load(root, "v").column("instruction").to_pylist()
    assert set(used) == set(INSTRUCTIONS) and INSTRUCTIONS[0] == (
        "If you are an expert in writing papers, please generate a good paper title for this "
        "paper based on other authors' descriptions of their abstracts."
    )
    mix_datasets(wh, root, MixSpec("s", (MixSource("titles"),)))
    assert set(load(root, "s").column("instruction").to_pylist()) == {INSTRUCTIONS[0]}


def test_cli_spec_file_card_and_hf_load(
    wh: Warehouse, root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datasets import load_dataset

    spec = tmp_path / "mix.toml"
    spec.write_text(
        'name = "sft-mix"\nstrategy = "temperature"\ntemperature = 2.0\ntotal = 4000\nseed = 3\n'
        '[[source]]\ndataset = "big"\n[[source]]\ndataset = "small"\nversion = 1\n'
    )
    home = wh.path.parent  # type: ignore[union-attr]
    assert run_cli(command(), ["--home", str(home), "datasets", "mix", "--spec", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "sft-mix v1" in out and "small" in out
    path = root / "sft-mix" / "v1"
    card = (path / "README.md").read_text()
    assert "| big | v1 |" in card and "| small | v1 |" in card and "seed 3" in card
    ds = load_dataset(str(path))
    assert ds["train"].num_rows == 4000 and set(ds) >= {"train"}
    # bad input is one clear line
    assert run_cli(command(), ["--home", str(home), "datasets", "mix", "x", "--from",
                               "big:-1"]) == 1  # fmt: skip
    assert "weight must be a positive number" in capsys.readouterr().err
    assert run_cli(command(), ["--home", str(home), "datasets", "mix", "x", "--from",
                               "nope"]) == 1  # fmt: skip
    assert "nope" in capsys.readouterr().err


def test_source_and_spec_parsing(tmp_path: Path) -> None:
    assert parse_source("sft-title@v3:0.5") == MixSource("sft-title", 3, 0.5)
    assert parse_source("sft-title") == MixSource("sft-title")
    with pytest.raises(MixError, match="NAME"):
        parse_source("sft title")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nstratgy = "capped"\n')
    with pytest.raises(MixError, match="unknown keys stratgy"):
        load_spec(bad)
    with pytest.raises(MixError, match="needs --cap"):
        MixSpec("x", (MixSource("a"),), strategy="capped").check()
