"""scicurate flows, CLI and settings: the edge that wires the libraries together."""
