"""A small learned caption encoder for generation: word tokens of the suite's caption vocabulary
(plus ``<pad>``, ``<bos>`` and an ``<unk>`` fallback), learned embeddings with absolute positions and
two pre-norm transformer layers.

It is trained with the denoiser and is deliberately *not* any network the metrics use, so the
generator is never trained against its own judge. Captions are always padded to ``max_len`` tokens,
so a caption's encoding never depends on the other captions of its batch. The caption-dropout
(classifier-free guidance) condition is the ``<bos>`` token alone (the empty caption).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

PAD, BOS, UNK = "<pad>", "<bos>", "<unk>"
_WORD = re.compile(r"[a-z]+")


def shapes_vocabulary() -> tuple[str, ...]:
    """Every word the shapes suite's caption templates can produce, in a fixed order."""
    from vbench_lite.suites.shapes import vocab

    words: set[str] = set()
    colors, shapes = list(vocab.COLORS), list(vocab.SHAPES)
    for direction, speed, relation, bg in itertools.product(
        vocab.DIRECTIONS, ("slow", "fast"), vocab.RELATIONS, vocab.BACKGROUNDS
    ):
        speed = "none" if direction == "still" else speed
        objs = [{"color": colors[0], "shape": shapes[0]}]
        if relation != "none":
            objs.append({"color": colors[1], "shape": shapes[1]})
        attrs = {"objects": objs, "relation": relation, "direction": direction, "speed": speed,
                 "background": bg}
        words.update(_WORD.findall(vocab.caption(attrs).lower()))
    words.update(colors)
    words.update(shapes)
    return (PAD, BOS, UNK, *sorted(words))


class CaptionTokenizer:
    """Lower-cased word tokens; unknown words map to ``<unk>``; fixed length ``max_len``."""

    def __init__(self, words: tuple[str, ...] | list[str], max_len: int = 24) -> None:
        words = tuple(words)
        if words[:3] != (PAD, BOS, UNK):
            raise ValueError("a caption vocabulary must start with <pad>, <bos>, <unk>")
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}
        self.max_len = max_len

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, prompts: list[str]) -> torch.Tensor:
        """Token ids ``[B, max_len]`` (``<bos>`` first, ``<pad>`` = 0 after the caption)."""
        out = torch.zeros(len(prompts), self.max_len, dtype=torch.long)
        unk = self.index[UNK]
        for i, p in enumerate(prompts):
            ids = [self.index[BOS]] + [self.index.get(w, unk) for w in _WORD.findall(p.lower())]
            ids = ids[: self.max_len]
            out[i, : len(ids)] = torch.tensor(ids)
        return out


@dataclass(frozen=True)
class TextEncoderConfig:
    vocab_size: int
    dim: int = 64
    layers: int = 2
    heads: int = 4
    max_len: int = 24


class _Layer(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.n1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :])
        x = x + self.out(a.transpose(1, 2).reshape(b, n, d))
        return x + self.ff(self.n2(x))


class TextEncoder(nn.Module):
    """Token ids ``[B, L]`` -> (token features ``[B, L, dim]``, key mask ``[B, L]``, pooled ``[B, dim]``)."""

    def __init__(self, config: TextEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.dim)
        self.pos = nn.Parameter(torch.randn(config.max_len, config.dim) * 0.02)
        self.layers = nn.ModuleList(_Layer(config.dim, config.heads) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.dim)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        keep = ids != 0
        x = self.embed(ids) + self.pos[: ids.shape[1]]
        for layer in self.layers:
            x = layer(x, keep)
        x = self.norm(x)
        w = keep.unsqueeze(-1).to(x.dtype)
        pooled = (x * w).sum(1) / w.sum(1)
        return x, keep, pooled
