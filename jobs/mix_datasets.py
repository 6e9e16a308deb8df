"""Job ``mix-datasets``: publish a training mixture of dataset versions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from jobs.lineage import recorded_run
from jobs.steps import InlineSteps, Steps, counts_markdown
from warehouse.db import Warehouse
from warehouse.mixtures import MixResult, MixSpec, load_spec, mix


def mix_datasets(
    wh: Warehouse, root: Path, spec: MixSpec, *, steps: Steps | None = None
) -> MixResult:
    """Build and publish ``spec`` (a new version only when its rows changed), recorded."""
    steps = steps or InlineSteps()
    spec.check()
    with recorded_run(wh, "mix-datasets", {"name": spec.name, **spec.as_params()}) as run:
        result = mix(wh, root, spec, run_id=run.run_id)
        r = result.publish
        run.update({"version": r.version, "created": int(r.created), **{
            f"rows_{split}": n for split, n in r.rows.items()}})  # fmt: skip
    state = "published" if r.created else "unchanged, kept"
    steps.log(
        f"{spec.name} v{r.version}: {state} ("
        + ", ".join(f"{s} {n:,}" for s, n in r.rows.items())
        + ")"
    )
    shares = result.stats["realised_shares"].get("train", {})
    steps.publish(
        f"mix-{spec.name}",
        markdown=counts_markdown(
            f"mixture {spec.name} v{r.version}",
            {f"share {k}": f"{v:.2%}" for k, v in shares.items()},
        ),
    )
    return result


def mixture_specs(folder: Path) -> list[MixSpec]:
    """The named mixtures kept as ``*.toml`` specs in ``folder`` (none when it is absent)."""
    return [load_spec(p) for p in sorted(folder.glob("*.toml"))] if folder.is_dir() else []


def rebuild_mixtures(
    wh: Warehouse, root: Path, specs: Sequence[MixSpec], *, steps: Steps | None = None
) -> list[MixResult]:
    """Rebuild every named mixture: one whose sources gained a version (unpinned sources
    follow the latest) gets a new version; an unchanged one publishes nothing."""
    return [mix_datasets(wh, root, spec, steps=steps) for spec in specs]
