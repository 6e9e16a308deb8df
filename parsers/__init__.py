"""PDF -> Document: PyMuPDF on CPU, Nougat on GPU, run in isolated child processes."""
