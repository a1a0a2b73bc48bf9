"""The face engine: detection, enrolment quality checks, 128-d templates, 1:N matching, the accept rule, liveness and their benchmarks."""
