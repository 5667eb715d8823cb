from notes_service.cli import main

raise SystemExit(main())
