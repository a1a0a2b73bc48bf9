"""Command-line front end of the audit log's verification (the check itself is :meth:`hub.journal.AuditLog.verify`)."""
