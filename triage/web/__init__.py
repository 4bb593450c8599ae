"""The web front end: ``dystonia-triage serve``. Build the app with ``triage.web.app.create_app``."""
