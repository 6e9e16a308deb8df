"""Crawlers: arXiv (API, OAI-PMH, Kaggle snapshot, PDFs) and OpenReview."""
