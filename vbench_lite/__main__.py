from vbench_lite.cli import main

raise SystemExit(main())
