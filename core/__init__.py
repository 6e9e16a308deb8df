"""Records and neutral helpers shared by every layer: the dataclasses that pass between
stages, the HTTP client, the error roots. It imports nothing of the project above it."""
