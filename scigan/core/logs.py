"""Training logs: one JSON line per step (easy to read back) plus TensorBoard event files."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scigan.core.checkpoint import atomic_write_text


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file. A last line without its newline is a record torn by a
    process killed mid-write (every record is written with its newline): it is left out."""
    if not Path(path).is_file():
        return []
    text = Path(path).read_text()
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class StepLog:
    """Appends step records to a JSONL file and TensorBoard.

    On resume, records past the checkpointed step (written after the last checkpoint, before an
    interruption) are dropped so the log matches the state training continues from.
    """

    def __init__(self, jsonl: Path, tensorboard_dir: Path | None, resume_step: int):
        self.jsonl = Path(jsonl)
        self.jsonl.parent.mkdir(parents=True, exist_ok=True)
        kept = [r for r in read_jsonl(self.jsonl) if r["step"] <= resume_step]
        # atomically: a kill while the log is rewritten must not lose the steps it keeps
        atomic_write_text(self.jsonl, "".join(json.dumps(r) + "\n" for r in kept))
        self._handle = self.jsonl.open("a")
        self._tensorboard = None
        if tensorboard_dir is not None:
            # Imported here: TensorBoard is slow to import and only needed while training.
            from torch.utils.tensorboard import SummaryWriter

            self._tensorboard = SummaryWriter(str(tensorboard_dir), purge_step=resume_step + 1)

    def write(self, records: list[dict[str, Any]]) -> None:
        self._handle.write("".join(json.dumps(r) + "\n" for r in records))
        self._handle.flush()
        if self._tensorboard is not None:
            for record in records:
                for key, value in record.items():
                    if key != "step":
                        self._tensorboard.add_scalar(key, value, record["step"])

    def close(self) -> None:
        self._handle.close()
        if self._tensorboard is not None:
            self._tensorboard.close()


def stage_printer(enabled: bool) -> Callable[[str], None]:
    """`say(message)`: prints "[  12.3 s] message" to stderr (time since this call) when enabled;
    long commands such as `scigan evaluate` report their stages with it."""
    started = time.perf_counter()

    def say(message: str) -> None:
        if enabled:
            elapsed = time.perf_counter() - started
            print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)

    return say
