"""The face engine: detection, enrolment quality checks, templates, 1:N matching, accept rule, liveness."""
