"""Turning a review into four aspects: significance and novelty, reasons to accept,
reasons to reject, suggestions for improvement."""
