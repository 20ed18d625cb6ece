"""Standard exports of a run: CSV of raw samples, github-action-benchmark, Bencher BMF, pyperf."""
