"""The offline demo: the bundled arXiv-style sample, its local server, and the whole loop run
over them."""
