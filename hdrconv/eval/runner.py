"""``hdrconv eval``: models side by side on the same synthesised samples, as a table or JSON.

The samples and the scoring are those of :mod:`hdrconv.data.validation` (shared with the validation
of ``hdrconv train``); this module chooses the images of a folder and the groups of the evaluation
protocol (:mod:`hdrconv.data.protocol`), and prints the in-family and the held-out results apart.
"""

from __future__ import annotations

from pathlib import Path

from hdrconv.data.protocol import GROUPS, HELD_OUT_GROUPS
from hdrconv.data.scenes import VALIDATION_FILES, split
from hdrconv.data.validation import HIGHER_IS_BETTER, Row, evaluate_model, samples_for
from hdrconv.errors import UsageError
from hdrconv.io.hdr_image import list_hdr_images
from hdrconv.models.base import Model


PROTOCOLS = {"all": GROUPS, "in-family": GROUPS[:1], "held-out": HELD_OUT_GROUPS}
"""``hdrconv eval --protocol``: which groups of the evaluation protocol to run."""


def evaluation_files(folder: str | Path) -> list[Path]:
    """The images evaluated in ``folder``: the validation split of a folder that holds the named
    validation files (``../shared/hdr``), else all of them."""
    paths = list_hdr_images(folder)
    if any(p.name in VALIDATION_FILES for p in paths):
        return split(paths)[1]
    return paths


_LABELS = {"psnr_pq": "PSNR-PQ", "ssim_pq": "SSIM-PQ", "delta_e_itp": "ΔE_ITP", "psnr_mu": "PSNR-μ",
           "flicker": "flicker", "warping_error": "warp"}


def print_table(rows: list[Row], title: str | None = None) -> None:
    """Rich table of ``rows``: mean over std per metric (PSNRs in dB; arrows say which way is better),
    best mean in bold, and the seconds each model took."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    metrics = [k for k in HIGHER_IS_BETTER if rows and k in rows[0].mean]
    if not metrics:
        return
    samples = ", ".join(sorted({f"{r.samples} samples" for r in rows}))
    table = Table(title=f"{title} ({samples})" if title else samples, show_lines=True, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("model", no_wrap=True)
    for k in metrics:
        table.add_column(f"{_LABELS[k]}{'↑' if HIGHER_IS_BETTER[k] else '↓'}", justify="right", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    best = {k: (max if HIGHER_IS_BETTER[k] else min)(r.mean[k] for r in rows) for k in metrics}
    digits = {"ssim_pq": 4, "flicker": 4, "warping_error": 5}
    for r in rows:
        cells = []
        for k in metrics:
            d = digits.get(k, 2)
            mean = f"{r.mean[k]:.{d}f}"
            mean = f"[bold]{mean}[/bold]" if len(rows) > 1 and r.mean[k] == best[k] else mean
            cells.append(f"{mean}\n[dim]±{r.std[k]:.{d}f}[/dim]")
        table.add_row(r.model, *cells, f"{r.seconds:.1f}")
    Console().print(table)


def print_held_out_table(rows: list[Row], title: str | None = None) -> None:
    """Rich table of the held-out groups: PSNR-PQ and ΔE_ITP per group and their mean over groups,
    best in bold."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    groups = [g for g in HELD_OUT_GROUPS if rows and g in rows[0].held_out]
    if not groups:
        return
    counts = ", ".join(f"{g} {rows[0].held_out[g]['samples']}" for g in groups)
    table = Table(title=f"{title or 'held-out'} (samples: {counts})", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("model", no_wrap=True)
    columns = [(g, k) for g in groups + ["mean"] for k in ("psnr_pq", "delta_e_itp")]
    for g, k in columns:
        table.add_column(f"{g} {_LABELS[k]}{'↑' if HIGHER_IS_BETTER[k] else '↓'}", justify="right")

    def value(r: Row, g: str, k: str) -> float:
        return r.held_out_mean[k] if g == "mean" else r.held_out[g]["metrics"][k]["mean"]

    best = {(g, k): (max if HIGHER_IS_BETTER[k] else min)(value(r, g, k) for r in rows) for g, k in columns}
    for r in rows:
        cells = [f"{value(r, g, k):.2f}" for g, k in columns]
        if len(rows) > 1:
            cells = [f"[bold]{c}[/bold]" if value(r, g, k) == best[g, k] else c for c, (g, k) in zip(cells, columns)]
        table.add_row(r.model, *cells)
    Console(width=max(120, 24 + 16 * len(columns))).print(table)


def evaluate(models: list[Model], folder: str | Path, mode: str = "images", exposures: int = 2,
             protocol: str = "all") -> list[Row]:
    """Evaluate ``models`` side by side on the samples of ``folder``; every model of one task sees the
    same samples."""
    tasks = {m.task for m in models}
    if len(tasks) > 1:
        raise UsageError("evaluate ITM and alternating-exposure models separately (they need different inputs)")
    if not models:
        raise UsageError("no model to evaluate")
    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r} (expected {', '.join(PROTOCOLS)})")
    samples = samples_for(tasks.pop(), evaluation_files(folder), mode, exposures, PROTOCOLS[protocol])
    return [evaluate_model(m, samples) for m in models]
