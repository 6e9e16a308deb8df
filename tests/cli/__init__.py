"""Tests of the CLI edge."""
