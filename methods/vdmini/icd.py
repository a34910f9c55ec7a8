"""Individual Content Distillation (ICD; Wu et al., arXiv 2411.18375, Sec. 3.3).

The pruned student sees the same ``x_t``, ``t`` and caption as the frozen teacher, and each of its
stages (every down level, the middle, every up level) is pulled towards the teacher's output of the
same stage with a per-frame L2 loss: a tapped block output ``[B, C, T, h, w]`` holds one spatial
feature map per frame, and the loss is the mean over frames (and over the matched stages) of each
frame's mean squared difference. What pruning the shallow blocks removed is
per-frame content, so matching per-frame features is what restores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch


def stage_of(block: str) -> str:
    """``down.0.res.1`` -> ``down.0``; ``mid.res.0`` -> ``mid``."""
    parts = block.split(".")
    return "mid" if parts[0] == "mid" else f"{parts[0]}.{parts[1]}"


def matched_taps(teacher_blocks: Sequence[str], student_blocks: Sequence[str]) -> list[tuple[str, str]]:
    """``(teacher block, student block)`` pairs whose outputs are the same stage's output.

    Both lists are skippable blocks in execution order; for every stage the student still has a
    block of, the teacher's last block of that stage is paired with the student's last kept one
    (a stage the student lost entirely has no feature of its own to match).
    """
    def last(blocks: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for b in blocks:
            out[stage_of(b)] = b  # later blocks of a stage overwrite earlier ones
        return out

    t, s = last(teacher_blocks), last(student_blocks)
    missing = sorted(set(s) - set(t))
    if missing:
        raise ValueError(f"student stages {missing} do not exist in the teacher")
    return [(t[k], s[k]) for k in t if k in s]


def icd_loss(
    student: Mapping[str, torch.Tensor], teacher: Mapping[str, torch.Tensor], pairs: Sequence[tuple[str, str]]
) -> torch.Tensor:
    """Mean over ``pairs`` and frames of the per-frame mean squared feature difference.

    ``student`` / ``teacher``: block name -> features ``[B, C, T, h, w]`` (the UNet's feature taps);
    the teacher's are detached (it is frozen).
    """
    if not pairs:
        raise ValueError("ICD needs at least one matched (teacher, student) feature pair")
    terms = []
    for tb, sb in pairs:
        fs, ft = student[sb], teacher[tb].detach()
        if fs.shape != ft.shape:
            raise ValueError(f"ICD features differ in shape: student {sb} {tuple(fs.shape)}, "
                             f"teacher {tb} {tuple(ft.shape)}")
        if fs.dim() != 5:
            raise ValueError(f"ICD features must be [B, C, T, h, w], got {tuple(fs.shape)} for {sb}")
        terms.append((fs - ft).pow(2).mean(dim=(1, 3, 4)).mean())  # per frame [B, T], then over frames
    return torch.stack(terms).mean()
