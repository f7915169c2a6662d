"""The statutory register of probation practitioners for England and Wales."""

import os

__version__ = "0.1.0"

# What the service and its regulator are called on every page and in every email.
SERVICE_NAME = "Probation practitioner register"
REGULATOR_NAME = "Probation Practitioner Regulator"

# Piccolo finds its configuration (apps, migrations) through this module, for the service and
# for Piccolo's own command line alike.
os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")
