"""Applications to join the register, and to be restored to it.

- ``answers``: the question pages' answers and their checks, and which pages a draft needs;
- ``records``: an application as it is read and shown, the registrar's queue, saving a draft;
- ``eligibility``: who may apply, the bar after removal, one open application at a time;
- ``workflow``: the state machine's moves, the registrar's decisions and their emails.

Import from those modules. The three names below are here only for
``registry.register.practitioner_pages``, which still imports the package as a whole; once it
imports from the modules, they go.
"""

from registry.register.applications.answers import InvalidAnswers
from registry.register.applications.eligibility import RESTORABLE
from registry.register.applications.records import latest_for

__all__ = ["RESTORABLE", "InvalidAnswers", "latest_for"]
