"""``python -m bot`` is the ``signoff`` command."""

from bot.cli import main

raise SystemExit(main())
