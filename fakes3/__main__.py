from fakes3.cli import main

raise SystemExit(main())
