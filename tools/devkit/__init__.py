"""Developer tooling over the library: the ``community-hub`` command, the demo community, the device simulators,
the benchmarks and the county's reference receiver. Not part of what a user installs (the wheel or the HACS zip);
``hub`` and ``devices`` never import it."""
