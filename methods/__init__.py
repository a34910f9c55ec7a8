"""Built-in method adapters, installed as ``vbench_lite.methods`` and registered through the
``vbench_lite.methods`` entry-point group exactly as a third-party plugin would be."""
