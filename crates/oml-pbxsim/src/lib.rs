//! A PBX simulator that speaks AMI, for tests, demos and benchmarks.
