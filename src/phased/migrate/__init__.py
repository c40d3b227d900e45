"""Moving from an old path to a new one: golden scenarios, old/new comparison, decommission.

- :mod:`phased.migrate.golden`: run scenario files against a target (record,
  verify, test), with a parity report between the flag's two arms;
- :mod:`phased.sdk.compare` (in the SDK, behind ``client.compare``): run old and new side
  by side (Scientist-style);
- :mod:`phased.migrate.retire`, :mod:`phased.migrate.refs`: retiring a flag and
  finding where the code still reads it;
- :mod:`phased.migrate.deprecation`: warn → redirect → refuse for old commands.

See ``docs/migrations.md``.
"""
