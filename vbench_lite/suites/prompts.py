"""Prompt-list suites (``--suite prompts:FILE``): a user's prompts, N samples each, no real videos.

The file is either plain text (one prompt a line; blank lines and lines starting with ``#`` are
skipped) or VBench's prompt JSON (``VBench_full_info.json``: a list of ``{"prompt_en": ...,
"dimension": [...]}`` entries; the dimensions are kept as each video's attributes). Every prompt
is sampled ``samples_per_prompt`` times (default 5, as VBench samples each prompt), in prompt-major
order, and sample ``s`` of prompt ``p`` always has seed ``p * SEED_STRIDE + s``: a video keeps its
seed when the file grows at the end or the sample count changes, and the seed is recorded in
``samples.jsonl``. The suite's version is the SHA-256 of the file's bytes, so two runs of one
version asked for the same prompts.

A prompt list has no real videos, so it has only the ``eval`` split and no ``reference`` split:
FVD and KVD then need the user's real videos (``--reference DIR`` or ``--reference-stats FILE``)
and are skipped with that note otherwise.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, ClassVar

from vbench_lite.suites.base import Suite, VideoItem

DEFAULT_SAMPLES = 5  # VBench samples every prompt 5 times
SEED_STRIDE = 1000  # seed = prompt index * SEED_STRIDE + sample index
SAMPLES_QUERY = "?samples="  # prompts:FILE?samples=N asks for N samples per prompt


def parse_prompt_file(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The prompts of ``path`` (text or VBench JSON) and each prompt's attributes; bad input is a
    ``ValueError`` naming the file and the fix."""
    if not path.exists():
        raise ValueError(f"prompt file not found: {path}")
    if not path.is_file():
        raise ValueError(f"prompt file {path} is a folder; give a text file (one prompt a line) or VBench's JSON")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"prompt file {path} is not UTF-8 text") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        prompts, attrs = _vbench_json(path, text)
    else:
        prompts = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        attrs = [{} for _ in prompts]
    if not prompts:
        raise ValueError(f"prompt file {path} holds no prompt")
    return prompts, attrs


def _vbench_json(path: Path, text: str) -> tuple[list[str], list[dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"prompt file {path} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("prompts"), list):
        data = data["prompts"]
    if not isinstance(data, list):
        raise ValueError(f"prompt file {path}: expected a JSON list of prompts or of {{'prompt_en': ...}} entries")
    prompts, attrs = [], []
    for i, entry in enumerate(data):
        if isinstance(entry, str):
            prompt, extra = entry, {}
        elif isinstance(entry, dict) and isinstance(entry.get("prompt_en", entry.get("prompt")), str):
            prompt = entry.get("prompt_en", entry.get("prompt"))
            dims = entry.get("dimension", [])
            extra = {"dimension": [dims] if isinstance(dims, str) else list(dims)} if dims else {}
        else:
            raise ValueError(f"prompt file {path}: entry {i} has no 'prompt_en' string (VBench's prompt JSON)")
        if not prompt.strip():
            raise ValueError(f"prompt file {path}: entry {i} is an empty prompt")
        prompts.append(prompt.strip())
        attrs.append(extra)
    return prompts, attrs


def split_argument(argument: str) -> tuple[str, int]:
    """``FILE`` or ``FILE?samples=N`` -> (file, N)."""
    path, sep, n = argument.rpartition(SAMPLES_QUERY)
    if not sep:
        return argument, DEFAULT_SAMPLES
    if not n.isdigit() or int(n) < 1:
        raise ValueError(f"suite prompts:{argument}: samples must be a positive integer, got {n!r}")
    return path, int(n)


class PromptListSuite(Suite):
    """A user's prompt list (text or VBench JSON), N samples per prompt, no reference videos."""

    name: ClassVar[str] = "prompts"
    fps: ClassVar[int] = 8

    def __init__(self, argument: str | None = None, samples_per_prompt: int | None = None) -> None:
        if not argument:
            raise ValueError("suite 'prompts' needs a prompt file: --suite prompts:FILE")
        file, n = split_argument(argument)
        self.samples_per_prompt = samples_per_prompt or n
        if not 1 <= self.samples_per_prompt <= SEED_STRIDE:
            raise ValueError(f"samples per prompt must be 1 to {SEED_STRIDE}, got {self.samples_per_prompt}")
        self.path = Path(file).expanduser()
        self.prompts, self.prompt_attributes = parse_prompt_file(self.path)
        self.sha256 = hashlib.sha256(self.path.read_bytes()).hexdigest()
        # Instance attributes shadow the class's: the suite's name is its file's (a results folder).
        stem = re.sub(r"[^a-z0-9]+", "-", self.path.stem.lower()).strip("-") or "list"
        self.name = f"prompts-{stem}"  # type: ignore[misc]
        self.version = self.sha256[:16]  # type: ignore[misc]
        self.split_sizes = {"eval": len(self.prompts) * self.samples_per_prompt}  # type: ignore[misc]

    def items(self, split: str, num: int | None = None, offset: int = 0) -> list[VideoItem]:
        size = self.split_size(split)
        assert size is not None
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset}")
        num = size - offset if num is None else num
        if num < 0 or offset + num > size:
            raise ValueError(
                f"suite {self.name!r} has {size} videos ({len(self.prompts)} prompts x {self.samples_per_prompt} "
                f"samples); asked for {num} from {offset}"
            )
        out = []
        for i in range(offset, offset + num):
            p, s = divmod(i, self.samples_per_prompt)
            attrs = {"prompt_index": p, "sample_index": s, **self.prompt_attributes[p]}
            out.append(VideoItem(index=i, prompt=self.prompts[p], seed=p * SEED_STRIDE + s, attributes=attrs))
        return out

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "kind": "prompt list",
            "path": str(self.path.resolve()),
            "sha256": self.sha256,
            "prompts": len(self.prompts),
            "samples_per_prompt": self.samples_per_prompt,
            "seed_rule": f"prompt_index * {SEED_STRIDE} + sample_index",
        }
