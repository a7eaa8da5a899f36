"""The composition root of the command line: `monitor …` wires the spatial core, the loaders and the server."""
