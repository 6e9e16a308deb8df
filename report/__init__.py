"""The static HTML report and its charts."""
