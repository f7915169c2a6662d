"""Applications to join the register, and to be restored to it.

- ``answers``: the question pages' answers and their checks, and which pages a draft needs;
- ``records``: an application as it is read and shown, the registrar's queue, saving a draft;
- ``eligibility``: who may apply, the bar after removal, one open application at a time;
- ``workflow``: the state machine's moves, the registrar's decisions and their emails.

Import from those modules.
"""
