"""Where the hub's records live: the SQL tables (``tables``), their Alembic migrations
(``migrations``, run by ``migrate``), one repository per record kind, and the unit of
work (``uow``) that opens one transaction and hands the services its repositories. The
only package here that speaks SQL; the rest of ``hub/`` asks a repository."""
