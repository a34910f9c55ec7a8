"""Package layout: ``vbench_lite`` from ``vbench_lite/`` and the built-in method adapters of
``methods/`` installed as ``vbench_lite.methods`` (never a top-level ``methods`` package)."""

from setuptools import find_packages, setup

core = find_packages(include=["vbench_lite", "vbench_lite.*"])
methods = ["vbench_lite." + p for p in find_packages(include=["methods", "methods.*"])]

setup(packages=core + methods, package_dir={"vbench_lite.methods": "methods"})
