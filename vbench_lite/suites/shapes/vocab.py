"""Public vocabularies of the shapes domain: palette, shapes, motions, relations, caption templates.

Geometry lives in normalised image coordinates (x to the right, y downwards, both in [0, 1]), so
the same seed renders the same content at 24, 32, 48 or 64 px.
"""

from __future__ import annotations

# Object colours, name -> RGB. Chosen to be distinguishable from each other and from every
# background at 24 px.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (50, 90, 230),
    "yellow": (235, 215, 40),
    "purple": (150, 60, 200),
    "orange": (245, 140, 30),
    "cyan": (40, 200, 210),
}

BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "gray": (110, 110, 110),
    "white": (240, 240, 240),
}

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "cross")

DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down", "still")

# Unit displacement per direction in image coordinates (y grows downwards).
DIRECTION_VECTORS: dict[str, tuple[float, float]] = {
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "up": (0.0, -1.0),
    "down": (0.0, 1.0),
    "still": (0.0, 0.0),
}

# Speed name -> displacement per frame in normalised units (at 32 px: 0.64 and 1.12 px/frame).
SPEEDS: dict[str, float] = {"none": 0.0, "slow": 0.02, "fast": 0.035}
SPEED_WORDS: dict[str, str] = {"slow": "slowly", "fast": "quickly"}

# Spatial relation of object 0 to object 1 (two-object videos); "none" for one object.
RELATIONS: tuple[str, ...] = ("none", "left of", "above")
RELATION_PHRASES: dict[str, str] = {"left of": "to the left of", "above": "above"}

NUM_OBJECTS: tuple[int, ...] = (1, 2)

# Attribute vocabularies in a fixed order: the shapes-video detector's heads use these indices.
ATTRIBUTE_CLASSES: dict[str, tuple[str, ...]] = {
    "shape": SHAPES,
    "color": tuple(COLORS),
    "direction": DIRECTIONS,
    "speed": tuple(SPEEDS),
    "background": tuple(BACKGROUNDS),
    "relation": RELATIONS,
    "num_objects": ("1", "2"),
    "shape2": ("none", *SHAPES),
    "color2": ("none", *COLORS),
}


def motion_phrase(direction: str, speed: str) -> str:
    if direction == "still":
        return "standing still"
    return f"moving {direction} {SPEED_WORDS[speed]}"


def subject_phrase(objects: list[dict[str, object]], relation: str) -> str:
    first = f"a {objects[0]['color']} {objects[0]['shape']}"
    if len(objects) == 1:
        return first
    second = f"a {objects[1]['color']} {objects[1]['shape']}"
    return f"{first} {RELATION_PHRASES[relation]} {second}"


def caption(attributes: dict[str, object], *, with_motion: bool = True) -> str:
    """The caption of a video from its attributes (templates documented in the suite README)."""
    objects = attributes["objects"]
    assert isinstance(objects, list)
    subject = subject_phrase(objects, str(attributes["relation"]))
    bg = f"on a {attributes['background']} background"
    if not with_motion:
        return f"{subject} {bg}"
    motion = motion_phrase(str(attributes["direction"]), str(attributes["speed"]))
    if len(objects) == 1:
        return f"{subject} {motion} {bg}"
    return f"{subject}, both {motion}, {bg}"
