"""Imports every area's tables so that `metadata` is complete (Alembic, tests)."""

from wefirst.store import tables_cases as tables_cases
from wefirst.store import tables_connectors as tables_connectors
from wefirst.store import tables_core as tables_core
from wefirst.store import tables_shared as tables_shared
from wefirst.store import tables_social as tables_social
from wefirst.store import tables_texts as tables_texts
from wefirst.store import tables_tlog as tables_tlog
from wefirst.store import tables_voice as tables_voice
from wefirst.store import tables_web as tables_web
from wefirst.store import tables_webhooks as tables_webhooks
from wefirst.store import tables_widget as tables_widget
from wefirst.store.meta import metadata as metadata
