"""``python -m deepdual.cli``: the same as the ``deepdual`` command."""

from . import main

raise SystemExit(main())
