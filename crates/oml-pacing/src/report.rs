//! Aggregation of simulation runs over seeds and the benchmark report.
