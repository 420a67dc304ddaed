"""Reliability tests: isolation under real servers and load, contexts in
helper threads and streams, and memory over long runs."""
