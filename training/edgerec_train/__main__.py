from edgerec_train.cli import main

raise SystemExit(main())
