from io import StringIO

from django.core.management import call_command


def test_every_model_change_has_its_migration(db):
    """A model change without a migration would break the next deployment's database."""
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        raise AssertionError(f"missing migration:\n{out.getvalue()}") from exc
