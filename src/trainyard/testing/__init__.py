"""Test suites shipped with the package, run against every backend."""
