"""Speed and memory benchmarks (`make bench`); never part of the test suite."""
