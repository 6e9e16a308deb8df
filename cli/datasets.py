"""``scicurate datasets …``: build, list, show, pull, diff and publish training sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.context import app_context
from cli.render import console, echo
from warehouse.datasets.model import parse_ref

datasets_app = typer.Typer(
    help="Versioned, checksummed Parquet training sets.",
    epilog="Example: scicurate datasets pull sft-title@v2 --to ./sft-title-v2",
    no_args_is_help=True,
)


def _params(values: list[str] | None) -> dict[str, str]:
    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r} is not k=v", param_hint="--param")
        out[key.strip()] = value.strip()
    return out


@datasets_app.command(
    "build", epilog="Example: scicurate datasets build sft-title --param max_per_category=5000"
)
def build_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The dataset, e.g. sft-title.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Builder parameter k=v. Repeatable.")
    ] = None,
) -> None:
    """Build a dataset from the warehouse and publish it as a new version (if it changed)."""
    from jobs.export_datasets import export_datasets
    from jobs.steps import InlineSteps

    app = app_context(ctx)
    [item] = export_datasets(
        app.warehouse(), app.settings.datasets_dir, [name], params={name: _params(param)},
        steps=InlineSteps(echo), eval_minimum=app.settings.eval_minimum,
    )  # fmt: skip
    console.print(f"path: {item.result.path}")
    if item.diff:
        d = item.diff
        console.print(
            f"against v{item.result.version - 1}: +{d.added:,} added, -{d.removed:,} removed, "
            f"~{d.changed:,} changed, {d.unchanged:,} unchanged"
        )


@datasets_app.command(
    "mix",
    epilog="Examples: scicurate datasets mix sft-mix --from sft-title:0.3 --from "
    "sft-corrections@v2:0.7  ·  scicurate datasets mix sft-mix --from sft-title --from "
    "sft-review --strategy temperature --temperature 2 --total 50000  ·  "
    "scicurate datasets mix --spec mix.toml",
)
def mix_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="The mixture's dataset name.")] = None,
    sources: Annotated[
        list[str] | None,
        typer.Option("--from", help="A source NAME[@vN][:WEIGHT]. Repeatable."),
    ] = None,
    strategy: Annotated[
        str, typer.Option(help="proportional (weights as shares), temperature, or capped.")
    ] = "proportional",
    temperature: Annotated[
        float, typer.Option(help="temperature: share ∝ size^(1/T); T=1 keeps sizes.")
    ] = 1.0,
    cap: Annotated[int | None, typer.Option(min=1, help="capped: at most N rows a source.")] = None,
    total: Annotated[int | None, typer.Option(min=1, help="Rows in the train split.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    instructions: Annotated[
        str, typer.Option(help="single, or varied: several phrasings per task.")
    ] = "single",
    spec_file: Annotated[
        Path | None,
        typer.Option("--spec", exists=True, dir_okay=False, help="A mixture spec (TOML)."),
    ] = None,
) -> None:
    """Publish a training mixture of dataset versions as a dataset version of its own."""
    from jobs.mix_datasets import mix_datasets
    from jobs.steps import InlineSteps
    from warehouse.mixtures import MixSpec, load_spec, parse_source

    if spec_file is not None:
        if name or sources:
            raise typer.BadParameter("--spec cannot be combined with NAME or --from")
        spec = load_spec(spec_file)
    else:
        if not name:
            raise typer.BadParameter("give the mixture a NAME (or use --spec FILE)")
        spec = MixSpec(
            name=name, sources=tuple(parse_source(s) for s in sources or []),
            strategy=strategy, temperature=temperature, cap=cap, total=total, seed=seed,
            instructions=instructions,
        ).check()  # fmt: skip
    app = app_context(ctx)
    result = mix_datasets(app.warehouse(), app.settings.datasets_dir, spec, steps=InlineSteps(echo))
    table = Table(title=f"{spec.name} v{result.publish.version}", title_justify="left")
    for col in ("source", "target", "realised (train)", "train rows", "duplicates dropped"):
        table.add_column(col, justify="left" if col == "source" else "right")
    stats = result.stats
    for src, target in stats["target_shares"].items():
        table.add_row(
            escape(src),
            f"{target:.2%}",
            f"{stats['realised_shares'].get('train', {}).get(src, 0):.2%}",
            f"{stats['rows'].get('train', {}).get(src, 0):,}",
            f"{stats['dropped_duplicates'].get(src, 0):,}",
        )
    console.print(table)
    console.print(f"path: {result.publish.path}")


@datasets_app.command("list", epilog="Example: scicurate datasets list")
def list_cmd(ctx: typer.Context) -> None:
    """Every published version, with its rows per split."""
    from warehouse.datasets import list_versions

    table = Table(title="datasets", title_justify="left")
    for col in ("name", "version", "rows", "created (UTC)", "builder"):
        table.add_column(col)
    for v in list_versions(app_context(ctx).settings.datasets_dir):
        rows = ", ".join(f"{s} {n:,}" for s, n in v["rows"].items())
        cells = (v["name"], f"v{v['version']}", rows, v["created_at"][:19], v["builder"])
        table.add_row(*(escape(str(c)) for c in cells))
    console.print(table)


@datasets_app.command("show", epilog="Example: scicurate datasets show sft-title@v1")
def show_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME@vN.")],
) -> None:
    """The card, row counts and lineage of a version (default: the latest)."""
    from warehouse.datasets import read_manifest, resolve

    name, version = parse_ref(ref)
    path = resolve(app_context(ctx).settings.datasets_dir, name, version)
    m = read_manifest(path)
    console.print(f"[bold]{escape(str(m['name']))} v{m['version']}[/]  {escape(str(path))}")
    console.print(f"rows: {json.dumps(m['rows'])}  content hash: {m['content_hash'][:16]}…")
    console.print(
        f"builder: {m['builder']['name']} {m['builder']['version']} "
        f"params={escape(json.dumps(m['builder']['params'], sort_keys=True))}"
    )
    console.print(
        f"parent: {('v' + str(m['parent_version'])) if m['parent_version'] else 'none'}  "
        f"run: {m.get('run_id')}  warehouse: {escape(json.dumps(m['warehouse_snapshot']))}"
    )
    console.print("")
    console.print(escape((path / "README.md").read_text(encoding="utf-8")))


@datasets_app.command(
    "pull",
    epilog="Examples: scicurate datasets pull sft-title --to ./sft  ·  "
    "scicurate datasets pull sft-title@v2 --from s3://bucket/datasets --to ./sft",
)
def pull_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME@vN.")],
    to: Annotated[Path, typer.Option("--to", help="An empty or new directory.")],
    source: Annotated[
        str | None, typer.Option("--from", help="A remote (s3://…, file://…) instead of home.")
    ] = None,
) -> None:
    """Copy a version to a directory, verifying every file's checksum."""
    from warehouse.datasets import resolve
    from warehouse.datasets.read import pull_local
    from warehouse.datasets.remote import pull_remote

    name, version = parse_ref(ref)
    settings = app_context(ctx).settings
    if source:
        m = pull_remote(source, name, version, to, storage_options=settings.storage_options(source))
    else:
        m = pull_local(resolve(settings.datasets_dir, name, version), to)
    console.print(f"{name} v{m['version']}: {len(m['files'])} files verified in {to}")


@datasets_app.command(
    "export-llamafactory",
    epilog="Example: scicurate datasets export-llamafactory ./lf sft-title@v2 sft-review "
    "preference-pairs  (then dataset_dir: ./lf, dataset: sft-title,sft-review)",
)
def export_llamafactory_cmd(
    ctx: typer.Context,
    to: Annotated[Path, typer.Argument(help="A new or empty directory: the dataset_dir.")],
    refs: Annotated[
        list[str] | None, typer.Argument(help="NAME or NAME@vN (default: every dataset, latest).")
    ] = None,
    copy: Annotated[
        bool, typer.Option("--copy", help="Copy the files instead of linking.")
    ] = False,
) -> None:
    """One dataset_dir with one dataset_info.json for several versions, to mix in one run."""
    from warehouse.datasets.llamafactory import export_llamafactory
    from warehouse.datasets.read import list_versions

    root = app_context(ctx).settings.datasets_dir
    chosen: list[tuple[str, int | None]] = [parse_ref(r) for r in refs] if refs else sorted(
        {(v["name"], None) for v in list_versions(root)}
    )  # fmt: skip
    out = export_llamafactory(root, to, chosen, copy=copy)
    for v in out:
        evals = f", eval {', '.join(v.evals)}" if v.evals else ", no eval split"
        console.print(escape(f"{v.name} v{v.version}: stage {v.stage}, dataset {v.train}{evals}"))
    console.print(f"dataset_dir: {escape(str(to))}")
    for stage in sorted({v.stage for v in out}):
        same = [v for v in out if v.stage == stage]
        console.print(
            escape(
                f"stage {stage}: dataset: {','.join(v.train for v in same if v.train)}"
                + (f"  eval_dataset: {','.join(e for v in same for e in v.evals)}"
                   if any(v.evals for v in same) else "")
            )
        )  # fmt: skip


@datasets_app.command("diff", epilog="Example: scicurate datasets diff sft-title@v1 sft-title@v2")
def diff_cmd(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="NAME@vA")],
    b: Annotated[str, typer.Argument(help="NAME@vB")],
) -> None:
    """Rows added, removed and changed between two versions, by sample id."""
    from warehouse.datasets import resolve
    from warehouse.datasets.diff import diff_versions

    root = app_context(ctx).settings.datasets_dir
    (na, va), (nb, vb) = parse_ref(a), parse_ref(b)
    d = diff_versions(resolve(root, na, va), resolve(root, nb, vb))
    console.print(
        f"+{d.added:,} added, -{d.removed:,} removed, ~{d.changed:,} changed, "
        f"{d.unchanged:,} unchanged"
    )
    for label, ids in d.examples.items():
        if ids:
            console.print(escape(f"  {label}: {', '.join(ids)}"))


@datasets_app.command(
    "publish", epilog="Example: scicurate datasets publish sft-title@v2 --remote s3://bucket/ds"
)
def publish_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME@vN.")],
    remote: Annotated[str, typer.Option("--remote", help="Any fsspec URI: s3://…, file://…")],
) -> None:
    """Copy a version to object storage (versions there are immutable too)."""
    from warehouse.datasets import resolve
    from warehouse.datasets.remote import publish_remote

    name, version = parse_ref(ref)
    settings = app_context(ctx).settings
    target = publish_remote(
        resolve(settings.datasets_dir, name, version), remote,
        storage_options=settings.storage_options(remote),
    )  # fmt: skip
    console.print(f"published to {target}")
