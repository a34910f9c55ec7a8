"""Exact, anti-aliased rendering of shapes videos from their attributes, in fixed-point integers.

Each shape is a signed distance function (SDF); pixel coverage is ``clamp(0.5 - sdf, 0, 1)`` with
the SDF measured in pixels (a one-pixel linear ramp across the edge), which anti-aliases edges
identically at every resolution. All videos of a chunk are rendered in one batch of tensor ops.

Why integers (issue 18): the float32 renderer this replaces gave different bytes on different
CPUs. Float kernels are free to differ in their last bit between machines (torch's vectorised
paths use FMA for ``a + alpha * b`` while scalar tails do not, AVX2 and AVX-512 split a tensor into
vector and tail elements at different places, CUDA contracts multiply-adds), and one last-bit
difference flips ``round()`` whenever a pixel value lands near ``x.5``. Here every per-pixel
quantity is an ``int64`` in units of ``2**-FRAC_BITS`` pixel, and every per-pixel operation is an
integer add, subtract, multiply, compare, min/max or floor division, whose result is defined
exactly by the inputs on every device (no overflow: see ``MAX_RESOLUTION``). The only float
operation is the first guess of the integer square root, and ``_isqrt`` corrects that guess with
exact integer comparisons until ``s*s <= n < (s+1)*(s+1)``, so the guess's last bit cannot change
the result. The per-video geometry (object centres, radii, the triangle's constants) is computed
from the attribute floats with exact rational arithmetic (``fractions.Fraction`` and
``math.isqrt``), so no float rounding enters there either.

The content is the float32 renderer's up to 2**-20 px of geometry: against it (commit 4ac6223),
290 of the 100,663,296 uint8 values of the 2048 reference videos at 32 px moved, each by one grey
level (60 videos touched, all at edge pixels whose float32 value sat within 5.2e-4 of a rounding
boundary); at 24/48/64 px 17/46/35 values of the 256 eval videos.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import torch

from vbench_lite.suites.shapes import vocab
from vbench_lite.suites.shapes.sample import NUM_FRAMES

_SHAPE_ID = {s: i for i, s in enumerate(vocab.SHAPES)}
_CHUNK = 64  # videos per tensor batch: bounds memory at 64 px (int64 temporaries)

FRAC_BITS = 20  # fixed point: one pixel = 2**20 units
_ONE = 1 << FRAC_BITS
_HALF = _ONE >> 1
# Largest resolution whose squared distances stay below 2**62 (no int64 overflow): coordinates
# reach about 2 * res * 2**20 units inside the triangle's folded frame.
MAX_RESOLUTION = 1024
_SQRT3 = math.isqrt(3 << (2 * FRAC_BITS))  # floor(sqrt(3) * 2**20), exact integer
_BOX = Fraction(17, 20)  # a square's half side is 0.85 r
_ARM = Fraction(1, 3)  # a cross's arm half-width is r / 3


def _fixed(x: Fraction) -> int:
    """``x`` pixels in fixed point, rounded half to even (exact rational arithmetic)."""
    return round(x * _ONE)


def _fixed_sqrt(x: Fraction) -> int:
    """``sqrt(x)`` pixels in fixed point, rounded down (exact: integer square root)."""
    return math.isqrt(math.floor(x * _ONE * _ONE))


def _div_round(x: torch.Tensor, d: int) -> torch.Tensor:
    """``round(x / d)`` (halves up) for integer tensors and a positive integer ``d``: exact."""
    return torch.div(x + d // 2, d, rounding_mode="floor")


def _isqrt(n: torch.Tensor) -> torch.Tensor:
    """Exact ``floor(sqrt(n))`` of a non-negative int64 tensor.

    The float64 square root is only a first guess (it is within one of the answer for n < 2**62,
    but the loop does not rely on that): integer comparisons step it to the unique s with
    ``s*s <= n < (s+1)*(s+1)``, so the result does not depend on how a device rounds the guess.
    """
    s = torch.sqrt(n.to(torch.float64)).to(torch.int64)
    while True:
        down = s * s > n
        up = (s + 1) * (s + 1) <= n
        if not bool(down.any() or up.any()):
            return s
        s = s - down.to(torch.int64) + up.to(torch.int64)


def _norm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``round(sqrt(x*x + y*y))`` of int64 tensors (halves cannot occur: n is an integer)."""
    n = x * x + y * y
    s = _isqrt(n)
    return s + (n - s * s > s).to(torch.int64)  # n > (s + 1/2)^2 <=> n - s^2 > s


def _sd_box(px: torch.Tensor, py: torch.Tensor, hx: torch.Tensor, hy: torch.Tensor) -> torch.Tensor:
    qx, qy = px.abs() - hx, py.abs() - hy
    outside = _norm(qx.clamp(min=0), qy.clamp(min=0))
    return outside + torch.maximum(qx, qy).clamp(max=0)


def _sd_circle(px: torch.Tensor, py: torch.Tensor, g: dict[str, torch.Tensor]) -> torch.Tensor:
    return _norm(px, py) - g["r"]


def _sd_square(px: torch.Tensor, py: torch.Tensor, g: dict[str, torch.Tensor]) -> torch.Tensor:
    return _sd_box(px, py, g["box"], g["box"])


def _sd_cross(px: torch.Tensor, py: torch.Tensor, g: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.minimum(_sd_box(px, py, g["r"], g["arm"]), _sd_box(px, py, g["arm"], g["r"]))


def _sd_triangle(px: torch.Tensor, py: torch.Tensor, g: dict[str, torch.Tensor]) -> torch.Tensor:
    """Equilateral triangle pointing up, side 2r (Inigo Quilez's sdEquilateralTriangle, y flipped).

    Height sqrt(3) r; its centroid sits h/6 below the bounding-box centre, so the triangle is
    shifted down by h/6 to keep it inside the object's [-r, r] box: with Quilez's ``y + r/sqrt(3)``
    the two offsets add up to ``g["tri_y"] = sqrt(3)/2 r``.
    """
    x = px.abs() - g["r"]
    y = g["tri_y"] - py
    ky = _div_round(_SQRT3 * y, _ONE)  # sqrt(3) * y
    kx = _div_round(_SQRT3 * x, _ONE)
    fold = (x + ky) > 0
    x2 = torch.where(fold, torch.div(x - ky, 2, rounding_mode="floor"), x)
    y2 = torch.where(fold, torch.div(-kx - y, 2, rounding_mode="floor"), y)
    x2 = x2 - torch.minimum(torch.maximum(x2, -2 * g["r"]), torch.zeros_like(x2))
    return -_norm(x2, y2) * torch.sign(y2)


_SDF = {"circle": _sd_circle, "square": _sd_square, "triangle": _sd_triangle, "cross": _sd_cross}
assert tuple(_SDF) == vocab.SHAPES


def _geometry(obj: dict[str, Any], velocity: list[float], res: int, frames: int) -> dict[str, Any]:
    """One object's per-frame centre and its size constants, in fixed-point pixels (exact)."""
    r = Fraction(obj["r"]) * res
    vx, vy = Fraction(velocity[0]), Fraction(velocity[1])
    x0, y0 = Fraction(obj["x0"]), Fraction(obj["y0"])
    return {
        "cx": [_fixed((x0 + vx * t) * res) for t in range(frames)],
        "cy": [_fixed((y0 + vy * t) * res) for t in range(frames)],
        "r": _fixed(r),
        "box": _fixed(_BOX * r),
        "arm": _fixed(_ARM * r),
        "tri_y": _fixed_sqrt(r * r * Fraction(3, 4)),
    }


def render_attributes(
    attrs: list[dict[str, Any]],
    *,
    resolution: int = 32,
    frames: int = NUM_FRAMES,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Render videos from attribute dicts -> uint8 ``[B, T, 3, H, W]`` on ``device``.

    The bytes are the same on every device (integer arithmetic, see the module docstring).
    """
    if not attrs:
        raise ValueError("no videos to render: the attribute list is empty")
    if not 8 <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution must be between 8 and {MAX_RESOLUTION} px, got {resolution}")
    dev = torch.device(device)
    out = [_render_chunk(attrs[i : i + _CHUNK], resolution, frames, dev) for i in range(0, len(attrs), _CHUNK)]
    return torch.cat(out)


def _render_chunk(attrs: list[dict[str, Any]], res: int, frames: int, device: torch.device) -> torch.Tensor:
    b = len(attrs)

    def ints(values: list[Any], *shape: int) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.int64, device=device).view(*shape)

    # Pixel centres at i + 1/2 px.
    grid = torch.arange(res, dtype=torch.int64, device=device) * _ONE + _HALF
    gy, gx = grid.view(1, 1, res, 1), grid.view(1, 1, 1, res)
    bg = ints([vocab.BACKGROUNDS[a["background"]] for a in attrs], b, 1, 3, 1, 1)
    # Pixel values in fixed point (1 grey level = 2**20); objects are composited in order.
    img = (bg * _ONE).expand(b, frames, 3, res, res).clone()
    max_objects = max(len(a["objects"]) for a in attrs)
    for k in range(max_objects):
        for shape, sdf in _SDF.items():
            idx = [i for i, a in enumerate(attrs) if len(a["objects"]) > k and a["objects"][k]["shape"] == shape]
            if not idx:
                continue
            geo = [_geometry(attrs[i]["objects"][k], attrs[i]["velocity"], res, frames) for i in idx]
            n = len(idx)
            g = {key: ints([x[key] for x in geo], n, 1, 1, 1) for key in ("r", "box", "arm", "tri_y")}
            px = gx - ints([x["cx"] for x in geo], n, frames, 1, 1)
            py = gy - ints([x["cy"] for x in geo], n, frames, 1, 1)
            coverage = (_HALF - sdf(px, py, g)).clamp_(0, _ONE).unsqueeze(2)  # [n, T, 1, H, W]
            color = ints([vocab.COLORS[attrs[i]["objects"][k]["color"]] for i in idx], n, 1, 3, 1, 1)
            sel = torch.tensor(idx, device=device)
            # img * (1 - alpha) + color * alpha, rounded back to 2**-20 grey level.
            img[sel] = _div_round(img[sel] * (_ONE - coverage) + color * _ONE * coverage, _ONE)
    return _round_half_even(img, _ONE).clamp_(0, 255).to(torch.uint8)


def _round_half_even(x: torch.Tensor, d: int) -> torch.Tensor:
    """``round(x / d)`` with ties to even (as ``torch.round``) for a non-negative int64 tensor."""
    q = torch.div(x, d, rounding_mode="floor")
    rem = x - q * d
    up = (rem > d // 2) | ((rem == d // 2) & (q.bitwise_and(1) == 1))
    return q + up.to(torch.int64)
