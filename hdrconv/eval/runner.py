"""``hdrconv eval``: models side by side on the same synthesised samples, as a table or JSON.

The samples and the scoring are those of :mod:`hdrconv.data.validation` (shared with the validation
of ``hdrconv train``); this module chooses the images of a folder and prints the result.
"""

from __future__ import annotations

from pathlib import Path

from hdrconv.data.scenes import VALIDATION_FILES, split
from hdrconv.data.validation import HIGHER_IS_BETTER, Row, evaluate_model, samples_for
from hdrconv.errors import UsageError
from hdrconv.io.hdr_image import list_hdr_images
from hdrconv.models.base import Model


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


def evaluate(models: list[Model], folder: str | Path, mode: str = "images", exposures: int = 2) -> list[Row]:
    """Evaluate ``models`` side by side on the samples of ``folder``; every model of one task sees the
    same samples."""
    tasks = {m.task for m in models}
    if len(tasks) > 1:
        raise UsageError("evaluate ITM and alternating-exposure models separately (they need different inputs)")
    if not models:
        raise UsageError("no model to evaluate")
    samples = samples_for(tasks.pop(), evaluation_files(folder), mode, exposures)
    return [evaluate_model(m, samples) for m in models]
