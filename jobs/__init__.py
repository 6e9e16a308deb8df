"""Jobs: one function per job. Each validates its inputs, records its run, performs every step
and returns a typed result; Prefect flows and CLI commands are thin adapters over them."""
