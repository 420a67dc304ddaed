import erlen_tests_missing_dependency  # noqa: F401
