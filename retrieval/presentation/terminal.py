"""The terminal's plumbing, shared by `python -m retrieval` and its `notes` command: progress bars on stderr,
one-line messages, streams that never crash on a character they cannot show."""

from __future__ import annotations

import contextlib
import sys


def one_line(msg: object) -> str:
    return " ".join(str(msg).split())


def progress_bar(prefix: str = ""):
    """A tqdm bar per build stage, on stderr so that --json output (and bench tables) stay clean."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(
                total=total,
                desc=f"{prefix} {stage}".strip(),
                file=sys.stderr,
                leave=False,
                unit="passages" if stage == "embeddings" else "fichiers",
                mininterval=0.5,
            )
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def tolerant_streams() -> None:
    """A terminal that cannot show a character (an emoji under cp1252) gets "?" instead of a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")
