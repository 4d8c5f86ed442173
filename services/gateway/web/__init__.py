"""The gateway's web pages: public boards, village disclosures (村务公开), ticket status, and a
staff console, rendered on the server with Jinja2 (``pages.py``; pure rules in ``rules.py``,
``i18n.py`` and ``charts.py``)."""
